"""A small table model of display records, shared by the deletion dialogs.

    Record(cells, tone="", tooltip="", key="", raw=None)
    RecordsModel(headers, parent=None)
        set_records(list[Record]) ; update(key, Record) ; records() ; record_at(row)
        row_of(key) -> int | None
    tone_colour(tone, palette) -> QColor | None     "ok", "fail", "skip", "warn", "muted"

Roles (habit 9): DisplayRole is the text, ToolTipRole the tooltip, ForegroundRole the tone's
colour, ROW_ROLE the record itself. Rows are few thousand at most, built once per plan; status
updates change one row each (`dataChanged` on that row only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel

from regview.ui.theme import ERROR_TEXT, is_dark

ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 1
AnyIndex = QModelIndex | QPersistentModelIndex

_TONES_LIGHT = {
    "ok": "#1a7f37",
    "fail": ERROR_TEXT["light"],
    "skip": "#9a6700",
    "warn": "#9a6700",
    "muted": "#6b717c",
    "busy": "#2f6fdf",
}
_TONES_DARK = {
    "ok": "#57d17a",
    "fail": ERROR_TEXT["dark"],
    "skip": "#e3b341",
    "warn": "#e3b341",
    "muted": "#8b929e",
    "busy": "#79a8ff",
}


def tone_colour(tone: str, palette: QPalette) -> QColor | None:
    table = _TONES_DARK if is_dark(palette) else _TONES_LIGHT
    colour = table.get(tone)
    return QColor(colour) if colour else None


@dataclass(frozen=True, slots=True)
class Record:
    cells: tuple[str, ...]
    tone: str = ""  # colours the status column (the column named by `tone_column`)
    tooltip: str = ""
    key: str = ""
    raw: Any = None


class RecordsModel(QAbstractTableModel):
    def __init__(
        self, headers: Sequence[str], parent: Any = None, *, tone_column: int = -1
    ) -> None:
        super().__init__(parent)
        self.headers = tuple(headers)
        self.tone_column = tone_column
        self._rows: list[Record] = []
        self._by_key: dict[str, int] = {}

    def set_records(self, records: Sequence[Record]) -> None:
        self.beginResetModel()
        self._rows = list(records)
        self._by_key = {r.key: i for i, r in enumerate(self._rows) if r.key}
        self.endResetModel()

    def records(self) -> list[Record]:
        return list(self._rows)

    def record_at(self, row: int) -> Record:
        return self._rows[row]

    def row_of(self, key: str) -> int | None:
        return self._by_key.get(key)

    def update(self, key: str, record: Record) -> None:
        row = self._by_key.get(key)
        if row is None:
            last = len(self._rows)
            self.beginInsertRows(QModelIndex(), last, last)
            self._rows.append(record)
            self._by_key[key] = last
            self.endInsertRows()
            return
        self._rows[row] = record
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.headers) - 1))

    # -- Qt -----------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: AnyIndex, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        rec = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return rec.cells[col] if col < len(rec.cells) else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            if rec.tooltip:
                return rec.tooltip
            text = rec.cells[col] if col < len(rec.cells) else ""
            return text if len(text) > 40 else None
        if role == Qt.ItemDataRole.ForegroundRole and col == self.tone_column and rec.tone:
            # the application's palette when painted: the scheme shown, also after a switch
            return tone_colour(rec.tone, QGuiApplication.palette())
        if role == ROW_ROLE:
            return rec
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = int(Qt.ItemDataRole.DisplayRole),
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def records_table(model: RecordsModel, widths: Sequence[int] = ()) -> Any:
    """A read-only, row-selecting table for a RecordsModel, styled like the tags table."""
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

    from regview.ui.screen_fit import scaled

    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    hh = view.horizontalHeader()
    hh.setHighlightSections(False)
    hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for col, width in enumerate(widths):
        view.setColumnWidth(col, scaled(view, width))  # wider with a large font
    hh.setStretchLastSection(True)
    hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def short_digest(digest: str) -> str:
    """`sha256:0123456789ab…` → `0123456789ab` (what the tags table shows)."""
    return digest.split(":", 1)[-1][:12] if digest else ""


def dialog_heading(scale: float, subtitle: str = "") -> tuple[QLabel, QLabel]:
    """The bold title and selectable subtitle the deletion dialogs open with."""
    title = QLabel()
    font = title.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    title.setFont(font)
    title.setWordWrap(True)
    sub = QLabel(subtitle)
    sub.setWordWrap(True)
    sub.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return title, sub
