"""A task owned by a widget does not outlive it: seen as a flaky error in
test_request_budgets — the cleanup policy editor, closed while its preview computed in a thread,
was deleted (WA_DeleteOnClose) and the preview then touched its deleted buttons."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QPushButton, QWidget

from regview.ui.tasks import Tasks

pytestmark = [pytest.mark.ui]


def test_deleting_the_owner_cancels_its_tasks(qapp: Any, qloop: asyncio.AbstractEventLoop) -> None:
    owner = QWidget()
    button = QPushButton("Run", owner)
    tasks = Tasks(owner)
    result: asyncio.Future[int] = qloop.create_future()
    touched: list[bool] = []

    async def preview() -> None:
        await result  # e.g. a computation in a thread
        button.setEnabled(True)  # the owner's child: deleted with it
        touched.append(True)

    task = tasks.start("preview", preview())
    qloop.run_until_complete(asyncio.sleep(0))
    shiboken6.delete(owner)  # the dialog closed and deleted meanwhile
    if not result.done():  # (cancelling the task cancelled what it awaited)
        result.set_result(1)
    qloop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    assert task.cancelled() and not touched
