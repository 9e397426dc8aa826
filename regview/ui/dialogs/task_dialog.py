"""A dialog that owns its asyncio tasks: closing it (any way) cancels them.

TaskDialog(parent=None)     `self.tasks` is a `TaskOwner`; `done()` and `closeEvent()` cancel
                            its tasks and stop its timers, so a probe or test never writes into
                            a closed dialog, and a debounced one never starts after it
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QWidget

from regview.services.async_utils import TaskOwner


class TaskDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskOwner()

    def done(self, result: int) -> None:
        self._end_work()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._end_work()
        super().closeEvent(event)

    def _end_work(self) -> None:
        # A timer still running would start its work after the close: the address form's
        # 0.6 s debounce sent a probe to the registry after Cancel.
        for timer in self.findChildren(QTimer):
            timer.stop()
        self.tasks.cancel_all()
