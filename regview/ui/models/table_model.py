"""A flat table model over a Python list, sorted and filtered by `filtering.RowIndex`.

The model keeps every row it was given (`rows`) and shows `visible`, a list of indices into it.
Sorting and filtering replace `visible` inside a layout change that maps persistent indexes by
row identity; views keep their column widths and order (a model reset would not). Rows come
in with `set_rows` (a reset) or `append_rows`, and leave with `remove_rows` (a deletion), each
run of display rows announced on its own.

Roles (habit 9): `Qt.DisplayRole` is humanised text (cached per cell, built on first paint),
`RAW_ROLE` the raw sort value, `ROW_ROLE` the row object itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from itertools import compress
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from regview.ui.models.filtering import FilterSpec, RowIndex, shared_lower

T = TypeVar("T")

ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 1
RAW_ROLE = int(Qt.ItemDataRole.UserRole) + 2
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
#: rows unchanged this long (a load finished, a deletion applied, a sort or filter done): build
#: the column orders still missing, a step of a few ms at a time between events, so that a
#: column's first sort later costs no more than any other. Not on a worker thread: Python code
#: there takes the GIL from the UI thread at each of the hundreds of calls a paint makes into
#: the model (filter keystrokes measured 2-4x slower while a worker sorted).
ORDERS_AHEAD_MS = 150
#: a removal of more runs of display rows than this is told to views as one layout change
REMOVALS_ONE_BY_ONE = 16

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

AnyIndex = QModelIndex | QPersistentModelIndex
# PySide6 exposes the no-argument overload by default; the hint needs the full signature.
_PIDX_LIST = "QList<QPersistentModelIndex>"
_HINT = "QAbstractItemModel::LayoutChangeHint"


class PreparedRows(list[T]):
    """Rows plus what the model would compute for each on arrival, computed beforehand.

    The loader builds these on its worker thread (`TagsModel.prepare`), so the UI thread only
    extends lists: `idents[i]` is `row_identity(self[i])` and `facts[i]` is `row_facts(self[i])`.
    A plain list is still accepted everywhere; then the model computes the facts itself.
    """

    def __init__(self, rows: Iterable[T], idents: list[Hashable], facts: list[tuple[Any, ...]]):
        super().__init__(rows)
        if not len(self) == len(idents) == len(facts):
            raise ValueError("rows, identities and facts must have the same length")
        self.idents = idents
        self.facts = facts

    def slice(self, start: int, stop: int | None = None) -> PreparedRows[T]:
        return PreparedRows(self[start:stop], self.idents[start:stop], self.facts[start:stop])


class IndexedTableModel(QAbstractTableModel, Generic[T]):
    """Subclasses define HEADERS, RIGHT_ALIGNED and the per-row hooks below."""

    HEADERS: tuple[str, ...] = ()
    RIGHT_ALIGNED: frozenset[int] = frozenset()
    HEADER_TIPS: tuple[str, ...] = ()
    #: how many identifiers `row_ids` gives per row (searched for digest-like words only)
    ID_FIELDS = 0

    #: emitted after the visible rows changed (filter, sort, rows added or cleared)
    visibleChanged = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[T] = []
        self.visible: list[int] = []
        self.index_ = RowIndex(len(self.HEADERS), self.ID_FIELDS)
        self.spec = FilterSpec()
        self.sort_column: int | None = None
        self.sort_descending = False
        self._cache: list[dict[int, str]] = [{} for _ in self.HEADERS]
        self._ids: dict[Hashable, int] = {}
        self._order_steps: Iterator[None] | None = None
        self._orders_timer = QTimer(self)  # rows quiet for ORDERS_AHEAD_MS: start
        self._orders_timer.setSingleShot(True)
        self._orders_timer.setInterval(ORDERS_AHEAD_MS)
        self._orders_timer.timeout.connect(self._start_order_steps)
        # then a step each time the loop comes round; 1 ms, not 0: a 0-ms timer fires again
        # within one processEvents() and would run every step in a row
        self._step_timer = QTimer(self)
        self._step_timer.setInterval(1)
        self._step_timer.timeout.connect(self._order_step)

    # --- per-row hooks -------------------------------------------------------------------
    def row_identity(self, row: T) -> Hashable:
        raise NotImplementedError

    def row_keys(self, row: T) -> Sequence[Any]:
        raise NotImplementedError

    def row_haystack(self, row: T) -> str:
        raise NotImplementedError

    def row_name(self, row: T) -> str:
        raise NotImplementedError

    def row_time(self, row: T) -> float:
        raise NotImplementedError

    def row_platforms(self, row: T) -> frozenset[str]:
        return frozenset()

    def row_ids(self, row: T) -> tuple[str, ...]:
        """`ID_FIELDS` identifiers searched only for digest-like words (see filtering)."""
        return ()

    def row_facts(self, row: T) -> tuple[Any, ...]:
        """`(*keys, hay_lower, name, created, platforms, *ids_lower)`: see `RowIndex.extend`."""
        return (
            *self.row_keys(row),
            self.row_haystack(row).lower(),
            self.row_name(row),
            self.row_time(row),
            self.row_platforms(row),
            *map(shared_lower, self.row_ids(row)),
        )

    def display_text(self, row: int, column: int) -> str:
        raise NotImplementedError

    def tooltip_text(self, row: int, column: int) -> str | None:
        return None

    # --- Qt interface --------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.visible)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        # Called from C++ for every visible cell and role: keep the common path short.
        if role == _DISPLAY:
            col = index.column()
            row = self.visible[index.row()]
            cache = self._cache[col]
            text = cache.get(row)
            if text is None:
                text = cache[row] = self.display_text(row, col)
            return text
        if role == _ALIGN:
            return _RIGHT if index.column() in self.RIGHT_ALIGNED else None
        if role == _TOOLTIP:
            return self.tooltip_text(self.visible[index.row()], index.column())
        if role == ROW_ROLE:
            return self.rows[self.visible[index.row()]]
        if role == RAW_ROLE:
            return self.index_.keys[index.column()][self.visible[index.row()]]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == _DISPLAY:
            return self.HEADERS[section]
        if role == _TOOLTIP and section < len(self.HEADER_TIPS):
            return self.HEADER_TIPS[section]
        if role == _ALIGN:
            if section in self.RIGHT_ALIGNED:
                return _RIGHT
            return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        # asked for every painted cell, often twice: a precomputed flag, no enum arithmetic
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.apply(
            sort_column=column if 0 <= column < len(self.HEADERS) else None,
            descending=order == Qt.SortOrder.DescendingOrder,
        )

    # --- rows ----------------------------------------------------------------------------
    def row_at(self, visible_row: int) -> T:
        return self.rows[self.visible[visible_row]]

    def backing_row(self, identity: Hashable) -> int | None:
        return self._ids.get(identity)

    def visible_rows_of(self, backing: set[int]) -> list[int]:
        """Display rows of the given backing rows, ascending."""
        visible = self.visible
        if len(backing) <= 8:
            # a few list scans at C speed (~0.4 ms each at 100,000 rows) beat one pass
            found = []
            for b in backing:
                with contextlib.suppress(ValueError):
                    found.append(visible.index(b))
            return sorted(found)
        # one pass at C speed: 100,000 rows in ~4 ms where a comprehension took 6-17 ms (every
        # sort and filter keystroke with a selection restores it through here)
        return list(compress(range(len(visible)), map(backing.__contains__, visible)))

    def set_rows(self, rows: Iterable[T]) -> None:
        """Replace everything (a new repository, or a fresh listing)."""
        self.beginResetModel()
        self.rows = []
        self._ids = {}
        self.index_.clear()
        self._cache = [{} for _ in self.HEADERS]
        self._add(rows)
        self.visible = self.index_.visible(self.spec, self.sort_column, self.sort_descending)
        self.endResetModel()
        self._orders_timer.start()
        self.visibleChanged.emit()

    def append_rows(self, rows: Iterable[T]) -> None:
        """Add rows as they load: matching ones appear at the end of the view.

        The view is re-sorted when the load finishes (`resort()`), not per batch, so rows never
        jump under the pointer while a listing is still arriving.
        """
        start = len(self.rows)
        self._add(rows)
        new = self.index_.matching(self.spec, self.index_.numbers(start, len(self.rows)))
        if new:
            first = len(self.visible)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self.visible.extend(new)
            self.endInsertRows()
        self._orders_wait()  # more rows may follow: orders wait for the load's end (`resort`)
        self.visibleChanged.emit()

    def remove_rows(self, identities: Iterable[Hashable]) -> dict[int, int] | None:
        """Take these rows out (a deletion). Views hear of each run of display rows that goes
        (`beginRemoveRows`), so the other rows keep their selection, current row and place — no
        reset, nothing else rebuilt. Returns the backing rows that stayed, old → new number
        (None: none of these rows was there)."""
        gone = {b for ident in identities if (b := self._ids.get(ident)) is not None}
        if not gone:
            return None
        shown = [i for i, b in enumerate(self.visible) if b in gone]
        runs = contiguous(shown)
        if len(runs) <= REMOVALS_ONE_BY_ONE:
            for first, last in reversed(runs):  # from the end: earlier numbers stay valid
                self.beginRemoveRows(QModelIndex(), first, last)
                del self.visible[first : last + 1]
                self.endRemoveRows()
        else:
            # Scattered rows (a policy's worth, a sorted selection): each removal notice costs
            # the views a pass over their rows (1,000 runs of 100,000 rows: ~0.4 s on the UI
            # thread), one layout change costs one; selection and current row follow either way.
            self._relayout([b for b in self.visible if b not in gone])
        # the backing rows close up; display rows (what views and selections hold) do not move
        stays = [True] * len(self.rows)
        for b in gone:
            stays[b] = False
        self.index_.keep(stays)
        new_of = dict(zip(compress(range(len(stays)), stays), self.index_.numbers(), strict=True))
        self.rows = list(compress(self.rows, stays))
        self._ids = {ident: new_of[b] for ident, b in self._ids.items() if b in new_of}
        self._cache = [{new_of[b]: t for b, t in c.items() if b in new_of} for c in self._cache]
        self.visible = [new_of[b] for b in self.visible]
        self._orders_timer.start()
        self.visibleChanged.emit()
        return new_of

    def _add(self, rows: Iterable[T]) -> None:
        prepared = rows if isinstance(rows, PreparedRows) else None
        if prepared is not None and self._add_prepared(prepared):
            return
        index = self.index_
        if not isinstance(rows, Sequence):
            rows = list(rows)
        # the batch's row numbers made at once: adjacent in memory, which keeps the scans and
        # sorts over them fast (made one by one among the rows' objects, 1.5-2x slower)
        index.numbers(0, len(self.rows) + len(rows))
        replaced: list[tuple[int, T]] = []
        new_facts: list[tuple[Any, ...]] = []
        for i, row in enumerate(rows):
            ident = self.row_identity(row) if prepared is None else prepared.idents[i]
            facts = None if prepared is None else prepared.facts[i]
            old = self._ids.get(ident)
            if old is not None:
                # A refreshed row replaces the old one in place (same identity, new facts);
                # a revalidation mostly brings the same facts: nothing to do for those.
                previous = self.rows[old]
                if previous != row:
                    index.extend(new_facts)  # `old` may have arrived earlier in this batch
                    new_facts = []
                    replaced.append((old, previous))
                    self._replace(old, row, facts)
                continue
            self._ids[ident] = index.number(len(self.rows))
            self.rows.append(row)
            new_facts.append(self.row_facts(row) if facts is None else facts)
        index.extend(new_facts)
        if replaced:
            self.rows_replaced(replaced)

    def _add_prepared(self, rows: PreparedRows[T]) -> bool:
        """All new, distinct rows with precomputed facts: list extends only. False: not all new."""
        idents = rows.idents
        known = self._ids
        if not known.keys().isdisjoint(idents) or len(set(idents)) != len(idents):
            return False  # a refresh of rows already shown: the per-row path replaces them
        start = len(self.rows)
        self.rows.extend(rows)
        self.index_.extend(rows.facts)
        known.update(zip(idents, self.index_.numbers(start, len(self.rows)), strict=True))
        return True

    def rows_replaced(self, replaced: list[tuple[int, T]]) -> None:
        """Hook: these backing rows got new facts ((row, previous value)); repaint them once."""
        self.invalidate_rows(backing for backing, _previous in replaced)

    def _replace(self, backing: int, row: T, facts: tuple[Any, ...] | None = None) -> None:
        self.rows[backing] = row
        self.index_.set_facts(backing, self.row_facts(row) if facts is None else facts)

    def invalidate_rows(self, backing_rows: Iterable[int], column: int | None = None) -> None:
        """Forget cached text for these rows (only `column`'s, when given) and tell views to
        repaint them (that column only: a loading table's "Shared" counts change with every
        batch, and the cells of one column are all that changed)."""
        rows = set(backing_rows)
        for cache in self._cache if column is None else (self._cache[column],):
            for r in rows:
                cache.pop(r, None)
        if len(rows) < 64:
            shown = self.visible_rows_of(rows)
        else:
            shown = [0, len(self.visible) - 1] if self.visible else []
        if shown:
            left, right = (0, len(self.HEADERS) - 1) if column is None else (column, column)
            self.dataChanged.emit(self.index(shown[0], left), self.index(shown[-1], right))

    # --- filter and sort -----------------------------------------------------------------
    def apply(
        self,
        spec: FilterSpec | None = None,
        sort_column: int | bool | None = False,
        descending: bool | None = None,
    ) -> None:
        """Change filter and/or sort. `sort_column=False` keeps the current sort."""
        new_spec = self.spec if spec is None else spec
        new_col = self.sort_column if sort_column is False else sort_column
        assert new_col is not True
        new_desc = self.sort_descending if descending is None else descending
        same_sort = (new_col, new_desc) == (self.sort_column, self.sort_descending)
        previous = (self.spec, self.visible) if same_sort else None
        visible = self.index_.visible(new_spec, new_col, new_desc, previous)  # may raise
        self.spec, self.sort_column, self.sort_descending = new_spec, new_col, new_desc
        self._set_visible(visible)

    def resort(self) -> None:
        """Re-apply filter and sort from scratch (after a load finished)."""
        self._set_visible(self.index_.visible(self.spec, self.sort_column, self.sort_descending))

    def _set_visible(self, visible: list[int]) -> None:
        self._relayout(visible)
        self._orders_timer.start()
        self.visibleChanged.emit()

    def _relayout(self, visible: list[int]) -> None:
        """Show `visible` (backing rows, in display order) in one layout change: views keep
        their selection and current row where those rows still show (persistent indexes)."""
        hint = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
        self.layoutAboutToBeChanged[_PIDX_LIST, _HINT].emit([], hint)  # type: ignore[index]
        old_visible = self.visible
        persistent = self.persistentIndexList()
        self.visible = visible
        if persistent:
            new_row_of = _position_lookup(visible, len(persistent))
            new_list = []
            for p in persistent:
                r = p.row()
                new_row = new_row_of(old_visible[r]) if 0 <= r < len(old_visible) else None
                new_list.append(
                    QModelIndex() if new_row is None else self.index(new_row, p.column())
                )
            self.changePersistentIndexList(persistent, new_list)
        self.layoutChanged[_PIDX_LIST, _HINT].emit([], hint)  # type: ignore[index]

    # --- column orders built ahead ---------------------------------------------------------
    def _orders_wait(self) -> None:
        self._orders_timer.stop()
        self._step_timer.stop()
        self._order_steps = None

    def _start_order_steps(self) -> None:
        self._order_steps = self.index_.order_steps()
        self._step_timer.start()

    def _order_step(self) -> None:
        steps = self._order_steps
        if steps is None or next(steps, StopIteration) is StopIteration:
            # this run is over; a start already asked for (rows changed since) still comes
            self._step_timer.stop()
            self._order_steps = None


def contiguous(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows → inclusive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def _position_lookup(visible: list[int], lookups: int) -> Callable[[int], int | None]:
    """Backing row → display row; a C-speed list scan for a few lookups, else a dict."""
    if lookups <= 8:

        def scan(backing: int) -> int | None:
            try:
                return visible.index(backing)
            except ValueError:
                return None

        return scan
    position = {b: i for i, b in enumerate(visible)}
    return position.get
