"""The tags table widget: a `QTableView` that does not repaint itself for rows it does not show.

While a listing loads, rows arrive every ~100 ms and are appended at the end of the table.
`QTableView` answers every insertion with a full items layout — scroll range *and* a repaint of
the whole viewport (~13 ms of the UI thread's CPU on the project's machine, ~40 ms wall with a
busy loader thread: every painted cell calls into Python and has to win the GIL back). When the
viewport is already full and the new rows land below its last row, nothing on screen changes
but the scroll bar: `rows_appended_below()` says so, and the next layout pass then only updates
the scroll range. Any other change of the model before that pass (data, layout, reset, removal)
gets the full pass as before.

Changed data is repainted where it is on screen: a range of rows reaching beyond the viewport is
cut to the rows shown before Qt sees it. (Qt 6.11 repaints the whole viewport for a range of
more than ~190 cells however few of them are shown; a loading table's "Shared" counts change in
rows spread over the whole table with every batch.)
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import QTableView, QWidget


class TagsTable(QTableView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._below_only = False

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            for signal in (
                model.dataChanged,
                model.layoutChanged,
                model.modelReset,
                model.rowsRemoved,
                model.rowsMoved,
                model.columnsInserted,
                model.columnsRemoved,
            ):
                signal.connect(self._full_layout)

    def shows_row_after(self, row: int) -> bool:
        """Whether a row appended after display row `row` would be on screen (the viewport is
        not filled down to its bottom edge by rows up to `row`)."""
        bottom = self.rowAt(self.viewport().height() - 1)
        return bottom < 0 or bottom > row

    def rows_appended_below(self) -> None:
        """Rows were just appended below the last row on screen (nothing else changed): the
        coming layout pass updates the scroll range only."""
        self._below_only = True

    def _full_layout(self) -> None:
        self._below_only = False

    def dataChanged(
        self,
        topLeft: QModelIndex | QPersistentModelIndex,
        bottomRight: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        model = self.model()
        if model is not None and topLeft.isValid() and topLeft.row() != bottomRight.row():
            top = self.rowAt(0)
            if top >= 0:
                bottom = self.rowAt(self.viewport().height() - 1)
                if bottom < 0:
                    bottom = model.rowCount() - 1
                first, last = max(topLeft.row(), top), min(bottomRight.row(), bottom)
                if first > last:
                    return  # none of these rows is on screen: nothing to repaint
                topLeft = model.index(first, topLeft.column())
                bottomRight = model.index(last, bottomRight.column())
        super().dataChanged(topLeft, bottomRight, roles)

    def doItemsLayout(self) -> None:
        if self._below_only:
            self._below_only = False
            self.updateGeometries()  # the scroll range: the viewport shows the same rows
            return
        super().doItemsLayout()
