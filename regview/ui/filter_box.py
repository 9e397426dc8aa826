"""Keyboard habits of the filter boxes above the tables.

    escape_clears(edit, leave) -> QAction
        Escape in `edit` clears it; Escape in an empty box calls `leave()` (focus the table)

Owned by the box itself (WidgetShortcut): it never competes with a window-wide Escape.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLineEdit


def escape_clears(edit: QLineEdit, leave: Callable[[], None]) -> QAction:
    def escape() -> None:
        if edit.text():
            edit.clear()
        else:
            leave()

    action = QAction("Clear the filter", edit)
    action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    action.triggered.connect(escape)
    edit.addAction(action)
    return action
