"""Help › Keyboard shortcuts: every command of the window and its key, read from the actions.

    ShortcutsDialog(menus, parent)     menus: regview.ui.window.menus.WindowMenus
    shortcut_rows(menus) -> list[(where, command, keys)]

Generated from the QActions themselves (the menu bar's, the tags table's, and any other action of
the window that has a key), so it cannot drift from what the keys really do.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from regview.ui.screen_fit import resize_to_fit
from regview.ui.window.menus import shortcut_text


def _command(action: QAction) -> str:
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(menus: Any) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()
    for where, action in menus.actions():
        rows.append((where, _command(action), shortcut_text(action)))
        seen.add(id(action))
    window = menus.window
    for action in window.tags_view.actions():
        if id(action) not in seen and action.text():
            rows.append(("Tags table", _command(action), shortcut_text(action)))
            seen.add(id(action))
    for action in window.findChildren(QAction):
        if id(action) in seen or action.isSeparator() or not action.text():
            continue
        if shortcut_text(action):
            rows.append(("Window", _command(action), shortcut_text(action)))
            seen.add(id(action))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, menus: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        resize_to_fit(self, 560, 520)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Every command of the window and its key. Commands without a key are listed too: "
            "they are in the menus and the tables' context menus."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Keyboard shortcuts")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Command", "Shortcut"])
        self.tree.setRootIsDecorated(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        groups: dict[str, QTreeWidgetItem] = {}
        self._items: list[tuple[QTreeWidgetItem, QTreeWidgetItem]] = []
        for where, command, keys in shortcut_rows(menus):
            group = groups.get(where)
            if group is None:
                group = groups[where] = QTreeWidgetItem(self.tree, [where, ""])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFirstColumnSpanned(True)
            self._items.append((group, QTreeWidgetItem(group, [command, keys])))
        self.tree.setRootIsDecorated(False)
        self.tree.setItemsExpandable(False)
        self.tree.expandAll()
        layout.addWidget(self.tree, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the dialog shows: (where, command, keys) per line."""
        return [(g.text(0), item.text(0), item.text(1)) for g, item in self._items]
