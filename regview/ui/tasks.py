"""Task slots owned by a QObject (habit 7): a new load cancels the old; closing cancels all.

    tasks = Tasks(window)
    tasks.start("tags", controller.load_tags(repo))   # cancels the previous "tags" load
    tasks.running("tags") -> bool
    tasks.cancel("tags"); tasks.cancel_all()           # ask to stop (a Qt close event cannot wait)
    await tasks.aclose()                                # cancel all and wait for their clean-up
    tasks.failed  Signal(str, object)                  # (slot name, exception) of a task nobody awaited

Built on `async_utils.TaskOwner` (the connection dialogs use that one directly); this adds the
Qt ownership: a `failed` signal for the window's error banner. The owner's own `aclose()`
awaits this one's, so nothing outlives the window or the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from regview.services.async_utils import TaskOwner

T = TypeVar("T")


class Tasks(QObject):
    failed = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._owner = TaskOwner()
        if parent is not None:
            # A task still running when its widget is deleted (a dialog closed with
            # WA_DeleteOnClose while a preview computed in a thread) would touch deleted C++
            # objects when it resumes: it is cancelled with its owner instead.
            parent.destroyed.connect(self._owner.cancel_all)

    def start(self, name: str, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = self._owner.start(name, coro)
        task.add_done_callback(functools.partial(self._done, name))
        return task

    def running(self, name: str) -> bool:
        return self._owner.running(name)

    def task(self, name: str) -> asyncio.Task[Any] | None:
        return self._owner.task(name)

    def cancel(self, name: str) -> None:
        self._owner.cancel(name)

    def cancel_all(self) -> None:
        self._owner.cancel_all()

    async def aclose(self) -> None:
        await self._owner.aclose()

    def _done(self, name: str, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.failed.emit(name, exc)
