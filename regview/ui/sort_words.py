"""Sort direction in words on a table header: "Sorted newest first · click for oldest first".

    SortWords(view, kinds)          kinds: column -> DATE | SIZE | NUMBER | TEXT
        tooltip(section) -> str     the column's own tooltip plus the sort in words
        description() -> str        "Sorted by Created, newest first" (the header's accessible
                                    description, so screen readers say it too)
    install_sort_words(window)      both of the main window's tables
    direction(kind, order) -> str   "newest first", "A → Z", …

Qt's arrow means ascending or descending depending on the style (Fusion drew ▲ for a list
whose newest date is on top; theme.RegviewStyle now draws ▼ there, as Windows and macOS do);
words need no convention.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QToolTip

from regview.ui.models import repos_model as rm
from regview.ui.models import tags_model as tm

DATE, SIZE, NUMBER, TEXT = "date", "size", "number", "text"
_WORDS = {
    DATE: ("oldest first", "newest first"),
    SIZE: ("smallest first", "largest first"),
    NUMBER: ("fewest first", "most first"),
    TEXT: ("A → Z", "Z → A"),
}
TAGS_KINDS = {tm.CREATED: DATE, tm.SIZE: SIZE, tm.SHARED: NUMBER}
REPOS_KINDS = {rm.TAGS: NUMBER, rm.SIZE: SIZE, rm.CREATED: DATE}


def direction(kind: str, order: Qt.SortOrder) -> str:
    ascending, descending = _WORDS.get(kind, _WORDS[TEXT])
    return ascending if order == Qt.SortOrder.AscendingOrder else descending


class SortWords(QObject):
    def __init__(self, view: QAbstractItemView, kinds: Mapping[int, str]) -> None:
        header = view.horizontalHeader()  # type: ignore[attr-defined]
        super().__init__(header)
        self.header = header
        self.kinds = dict(kinds)
        header.viewport().installEventFilter(self)
        header.sortIndicatorChanged.connect(self._changed)
        self._changed()

    def _name(self, section: int) -> str:
        model = self.header.model()
        value = model.headerData(section, Qt.Orientation.Horizontal) if model else None
        return str(value or "")

    def _sorted_section(self) -> int:
        if not self.header.isSortIndicatorShown():
            return -1
        return int(self.header.sortIndicatorSection())

    def tooltip(self, section: int) -> str:
        model = self.header.model()
        own = model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        kind = self.kinds.get(section, TEXT)
        order = self.header.sortIndicatorOrder()
        if section == self._sorted_section():
            flipped = (
                Qt.SortOrder.DescendingOrder
                if order == Qt.SortOrder.AscendingOrder
                else Qt.SortOrder.AscendingOrder
            )
            words = f"Sorted {direction(kind, order)} · click for {direction(kind, flipped)}"
        else:
            words = f"Click to sort by {self._name(section)}"
        return f"{own}\n{words}" if own else words

    def description(self) -> str:
        section = self._sorted_section()
        if section < 0:
            return "Not sorted"
        kind = self.kinds.get(section, TEXT)
        return (
            f"Sorted by {self._name(section)}, {direction(kind, self.header.sortIndicatorOrder())}"
        )

    def _changed(self, *_args: Any) -> None:
        self.header.setAccessibleDescription(self.description())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            section = self.header.logicalIndexAt(event.pos())
            if section >= 0:
                QToolTip.showText(event.globalPos(), self.tooltip(section), self.header)
                return True
        return False


def install_sort_words(window: Any) -> tuple[SortWords, SortWords]:
    return (
        SortWords(window.repos_table, REPOS_KINDS),
        SortWords(window.tags_view.table, TAGS_KINDS),
    )
