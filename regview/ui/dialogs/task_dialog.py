"""A dialog that owns its asyncio tasks: closing it (any way) cancels them.

TaskDialog(parent=None)     `self.tasks` is a `TaskOwner`; `done()` and `closeEvent()` cancel
                            its tasks, so a probe or test never writes into a closed dialog
"""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QWidget

from regview.services.async_utils import TaskOwner


class TaskDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskOwner()

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tasks.cancel_all()
        super().closeEvent(event)
