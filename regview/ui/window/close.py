"""Closing a window's tasks for good: cancel every task slot in its object tree and wait.

    await close_task_owners(root, *extra)

Habit 7: the owner of a task cancels *and awaits* it on close. A task that is only cancelled
still has steps to run (clean-up in `finally`, connections closing); if nobody waits, Qt's
event processing runs them later, possibly after the event loop stopped, where asyncio fails
with "no running event loop". Every `Tasks` object under `root` (the window's own, the deletion
flow's) and every widget's `tasks: TaskOwner` (dialogs) is closed, plus the `extra` owners.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QObject

from regview.services.async_utils import TaskOwner
from regview.ui.tasks import Tasks


def task_owners(root: QObject) -> list[Tasks | TaskOwner]:
    owners: list[Tasks | TaskOwner] = []
    for obj in [root, *root.findChildren(QObject)]:
        if isinstance(obj, Tasks):
            owners.append(obj)
            continue
        attr = getattr(obj, "tasks", None)
        if isinstance(attr, TaskOwner | Tasks) and attr not in owners:
            owners.append(attr)
    return owners


async def close_task_owners(root: QObject, *extra: Tasks | TaskOwner) -> None:
    owners = task_owners(root)
    owners.extend(o for o in extra if o not in owners)
    # Twice: a task's clean-up may start another task in a sibling slot (rare, but then it too
    # must be gone before the loop stops).
    for _ in range(2):
        await asyncio.gather(*(o.aclose() for o in owners))
