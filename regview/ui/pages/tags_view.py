"""The tags of one repository: filter bar, table, load progress, and the actions on a selection.

    TagsView(parent=None)
        model: TagsModel                     fed by the controller
        registry_host: str                   for references ("host/repo:tag")
        selected_tags() -> list[TagInfo]     in display order
        current_tag() -> TagInfo | None
        select_tags(names, current=None)     select by tag name (links, tests)
        set_spec(FilterSpec) / spec() ; sort_by(column, descending)
        show_progress(done, total) / finish_progress()
        attach_delete_handler(fn)            connect `deleteRequested` and enable Delete
        set_tags(repo, tags) ; append_tags(tags) ; remove_tags(names)   rows in, rows out
        unread: str                          why the tags are unknown ("" = read), said by
                                             summary() instead of "0 tags"
        signals: currentTagChanged(object), selectionSummaryChanged(str),
                 deleteRequested(list), refreshRequested(), cancelRequested(),
                 copyLinkRequested()
        actions: copy_reference (Ctrl+C), delete (Del), focus_filter (Ctrl+F), refresh (F5)

Filtering and sorting keep the selection (by tag) and the scroll position: the current row (or,
when it is off screen, the row at the top of the view) stays where it was on screen when it is
still shown and the scroll range allows. Selected tags a filter hides are selected again when a
later filter shows them (until the user changes the selection or another repository is shown);
`selected_tags()` only ever returns shown tags.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QItemSelectionRange,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import TagInfo
from regview.ui.filter_box import escape_clears
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterError, FilterSpec
from regview.ui.models.frees_column import FreesUpdater
from regview.ui.models.table_model import contiguous
from regview.ui.models.tags_model import TagsModel
from regview.ui.offthread import OffThread
from regview.ui.pages.tags_table import TagsTable
from regview.ui.screen_fit import scaled
from regview.ui.theme import error_border_sheet, error_sheet, set_sheet
from regview.util.units import human_size

DEFAULT_WIDTHS = {
    tm.TAG: 190,
    tm.CREATED: 105,
    tm.SIZE: 78,
    tm.DIGEST: 112,
    tm.CONFIG: 112,
    tm.PLATFORMS: 150,
    tm.KIND: 62,
    tm.SHARED: 58,
    tm.FREES: 78,
    tm.PULLED: 105,
}
#: Last pulled is shown by the rows instead: where the registry says when tags were pulled
HIDDEN_BY_DEFAULT = (tm.CONFIG, tm.PULLED)
AGE_ANY, AGE_OLDER, AGE_NEWER = range(3)
#: a selection of more rows gets its "frees" figure from the worker thread
SYNC_SELECTION = 2_000
#: the status bar's selection figure until it is known (never an old figure)
SELECTION_COMPUTING = " — frees: computing…"


def _ranges(selection: QItemSelection) -> list[QItemSelectionRange]:
    return [selection.at(i) for i in range(selection.size())]


PLACEHOLDER = "Filter tags, digests, platforms…   (Ctrl+F)"
SHORT_PLACEHOLDER = "Filter…  (Ctrl+F)"


class FilterBar(QWidget):
    specChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(6)
        outer.addLayout(row)
        self.error = QLabel()  # why the filter cannot be used, in words (not only a red border)
        self.error.setWordWrap(True)
        set_sheet(self.error, error_sheet)
        self.error.hide()
        outer.addWidget(self.error)
        self.text = QLineEdit()
        self.text.setAccessibleName("Filter tags")
        self.text.setPlaceholderText(PLACEHOLDER)
        self.text.setClearButtonEnabled(True)
        self.text.setToolTip(
            "Words: every word must appear in the tag, digest, platform or type.\n"
            "Regex (.*): a regular expression matched against the tag name."
        )
        self.regex = QToolButton()
        self.regex.setText(".*")
        self.regex.setCheckable(True)
        self.regex.setToolTip("Match the tag name with a regular expression")
        self.regex.setAccessibleName("Regular expression")  # not "dot star"
        self.age = QComboBox()
        self.age.addItems(["Any age", "Older than", "Newer than"])
        self.age.setToolTip("Show only tags created before or within a number of days")
        self.age.setAccessibleName("Age filter")
        self.days = QSpinBox()
        self.days.setAccessibleName("Age in days")
        self.days.setRange(0, 36500)
        self.days.setValue(90)
        self.days.setSuffix(" days")
        self.days.setEnabled(False)
        self.platform = QComboBox()
        self.platform.addItem("All platforms", "")
        self.platform.setToolTip("Show only tags that include this platform")
        self.platform.setAccessibleName("Platform filter")
        self.platform.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        row.addWidget(self.text, 1)
        row.addWidget(self.regex)
        # the age and platform choices: beside the text box, or on a row of their own below it
        # when the bar is too narrow for both (at 1024 px the box shrank to "Filter tags, di…")
        self.choices = QWidget()
        choices = QHBoxLayout(self.choices)
        choices.setContentsMargins(0, 0, 0, 0)
        choices.setSpacing(6)
        choices.addWidget(self.age)
        choices.addWidget(self.days)
        choices.addWidget(self.platform)
        choices.addStretch(1)
        row.addWidget(self.choices)
        self._row, self._outer = row, outer
        self.text.textChanged.connect(self.specChanged)
        self.regex.toggled.connect(self.specChanged)
        self.age.currentIndexChanged.connect(self._age_changed)
        self.days.valueChanged.connect(self.specChanged)
        self.platform.currentIndexChanged.connect(self.specChanged)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_choices()

    def _place_choices(self) -> None:
        # the text box beside the choices gets what they and the regex button leave; it needs
        # its placeholder, its frame and text margins, and the clear button's place
        spacing = self._row.spacing()
        left = self.width() - self.regex.sizeHint().width() - self.choices.sizeHint().width()
        fm = self.text.fontMetrics()
        need = fm.horizontalAdvance(PLACEHOLDER) + 24
        wide = left - 2 * spacing >= need
        # on a row of their own the box has all but the regex button; at large fonts that is
        # still too little for the long placeholder: the short one then
        alone = self.width() - self.regex.sizeHint().width() - spacing
        self.text.setPlaceholderText(PLACEHOLDER if alone >= need else SHORT_PLACEHOLDER)
        beside = self._row.indexOf(self.choices) >= 0
        if wide and not beside:
            self._outer.removeWidget(self.choices)
            self._row.addWidget(self.choices)
        elif not wide and beside:
            self._row.removeWidget(self.choices)
            self._outer.insertWidget(1, self.choices)

    def _age_changed(self) -> None:
        self.days.setEnabled(self.age.currentIndex() != AGE_ANY)
        self.specChanged.emit()

    def spec(self) -> FilterSpec:
        age, days = self.age.currentIndex(), float(self.days.value())
        return FilterSpec(
            text=self.text.text(),
            regex=self.regex.isChecked(),
            older_than_days=days if age == AGE_OLDER else None,
            newer_than_days=days if age == AGE_NEWER else None,
            platform=str(self.platform.currentData() or ""),
        )

    def set_spec(self, spec: FilterSpec) -> None:
        blockers = [self.text, self.regex, self.age, self.days, self.platform]
        for w in blockers:
            w.blockSignals(True)
        try:
            self.text.setText(spec.text)
            self.regex.setChecked(spec.regex)
            if spec.older_than_days is not None:
                self.age.setCurrentIndex(AGE_OLDER)
                self.days.setValue(int(spec.older_than_days))
            elif spec.newer_than_days is not None:
                self.age.setCurrentIndex(AGE_NEWER)
                self.days.setValue(int(spec.newer_than_days))
            else:
                self.age.setCurrentIndex(AGE_ANY)
            self.days.setEnabled(self.age.currentIndex() != AGE_ANY)
            if spec.platform and self.platform.findData(spec.platform) < 0:
                self.platform.addItem(spec.platform, spec.platform)
            self.platform.setCurrentIndex(max(0, self.platform.findData(spec.platform)))
        finally:
            for w in blockers:
                w.blockSignals(False)
        self.specChanged.emit()

    def set_platforms(self, labels: Iterable[str]) -> None:
        current = self.platform.currentData()
        wanted = sorted(set(labels) | ({current} if current else set()))
        have = [self.platform.itemData(i) for i in range(1, self.platform.count())]
        if have == wanted:
            return
        self.platform.blockSignals(True)
        self.platform.clear()
        self.platform.addItem("All platforms", "")
        for label in wanted:
            self.platform.addItem(label, label)
        self.platform.setCurrentIndex(max(0, self.platform.findData(current or "")))
        self.platform.blockSignals(False)

    def show_error(self, message: str) -> None:
        set_sheet(self.text, error_border_sheet if message else "")
        self.text.setToolTip(message or self.regex.toolTip())
        self.error.setText(message)
        self.error.setVisible(bool(message))


class TagsView(QWidget):
    currentTagChanged = Signal(object)
    selectionSummaryChanged = Signal(str)
    deleteRequested = Signal(list)
    refreshRequested = Signal()
    cancelRequested = Signal()
    copyLinkRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.registry_host = ""
        self._progress_at = 0.0
        self._progress_shown = (-1, -1)
        # Selected backing rows a filter hides, selected again when they are shown again.
        self._hidden_selected: set[int] = set()
        self._pulled_chosen = False  # the user showed or hid Last pulled from the header menu
        self._restoring = False
        self.unread = ""
        self.model = TagsModel(self)
        self.frees = FreesUpdater(self.model, self)
        self._selection_worker = OffThread(self)
        self._selection_worker.done.connect(self._selection_computed)
        self._selection_asked: tuple[int, tuple[str, ...]] | None = None
        self._selection_token = 0
        self._selection_done: tuple[tuple[int, tuple[str, ...]], int] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.filter_bar = FilterBar()
        layout.addWidget(self.filter_bar)
        self.table = TagsTable()
        self.table.setAccessibleName("Tags")
        self.table.setModel(self.model)
        self._setup_table()
        layout.addWidget(self.table, 1)
        escape_clears(self.filter_bar.text, self.table.setFocus)
        self.progress_row = QWidget()
        prow = QHBoxLayout(self.progress_row)
        prow.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop reading tags; what has arrived stays in the table")
        self.cancel_button.clicked.connect(self.cancelRequested)
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        self.progress_row.hide()
        layout.addWidget(self.progress_row)
        self._make_actions()
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(0)
        self._summary_timer.timeout.connect(self._emit_summary)
        # Relative times ("5 minutes ago") age: once a minute, new texts and a viewport repaint
        # of the visible rows only — no model reset, no re-sort.
        self._clock = QTimer(self)
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self.tick)
        self._clock.start()
        self.filter_bar.specChanged.connect(self._spec_changed)
        self.model.visibleChanged.connect(self._summary_timer.start)
        self.model.visibleChanged.connect(self.frees.schedule)
        self.frees.computed.connect(self._frees_computed)
        sel = self.table.selectionModel()
        sel.selectionChanged.connect(self._summary_timer.start)
        sel.selectionChanged.connect(self._selection_changed)
        sel.currentRowChanged.connect(self._current_changed)
        self.model.modelReset.connect(self._hidden_selected.clear)

    # --- setup ---------------------------------------------------------------------------
    def _setup_table(self) -> None:
        t = self.table
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        t.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        t.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        t.setAlternatingRowColors(True)
        t.setShowGrid(False)
        t.setTabKeyNavigation(False)  # Tab goes to the next pane, arrows move between cells
        t.setWordWrap(False)
        t.setTextElideMode(Qt.TextElideMode.ElideRight)
        t.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        t.customContextMenuRequested.connect(self._context_menu)
        vh = t.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(t.fontMetrics().height() + 10)
        hh = t.horizontalHeader()
        hh.setSectionsMovable(True)
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for col, width in DEFAULT_WIDTHS.items():
            t.setColumnWidth(col, scaled(t, width))  # wider with a large font
        # Frees says "computing…" while it works: wide enough for the word (the font decides)
        room = t.fontMetrics().horizontalAdvance(tm.COMPUTING) + 16
        t.setColumnWidth(tm.FREES, max(scaled(t, DEFAULT_WIDTHS[tm.FREES]), room))
        for col in HIDDEN_BY_DEFAULT:
            t.setColumnHidden(col, True)
        hh.moveSection(hh.visualIndex(tm.FREES), hh.visualIndex(tm.SIZE) + 1)  # sizes together
        hh.moveSection(hh.visualIndex(tm.PULLED), hh.visualIndex(tm.CREATED) + 1)  # times too
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.customContextMenuRequested.connect(self._header_menu)
        hh.sortIndicatorChanged.connect(self._sort_indicator_changed)

    def _make_actions(self) -> None:
        def action(
            text: str,
            keys: QKeySequence | QKeySequence.StandardKey | str | None,
            slot: Callable[[], None],
        ) -> QAction:
            a = QAction(text, self)
            if keys is not None:
                a.setShortcut(QKeySequence(keys))
                a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        self.copy_reference = action(
            "Copy reference", QKeySequence.StandardKey.Copy, self.copy_references
        )
        self.copy_reference.setToolTip("Copy host/repository:tag of the selected tags")
        self.copy_pull = action("Copy docker pull command", None, self.copy_pull_commands)
        self.copy_digest = action("Copy digest reference", None, self.copy_digest_references)
        self.copy_link = action("Copy link to this view", None, self.copyLinkRequested.emit)
        self.select_all_tags = action("Select all shown", None, self.table.selectAll)
        self.focus_filter = action("Filter", QKeySequence.StandardKey.Find, self.focus_filter_box)
        # the whole window's: a repository opened from the sidebar leaves the focus there, and
        # Ctrl+F must still reach this filter (the window's menu disables it on other pages)
        self.focus_filter.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        # F5 belongs to the window's Refresh (two owners make Qt drop it as ambiguous); the
        # menu still names the key
        f5 = QKeySequence(QKeySequence.StandardKey.Refresh).toString(
            QKeySequence.SequenceFormat.NativeText
        )
        self.refresh = action(f"Refresh\t{f5}", None, self.refreshRequested.emit)
        self.delete = action("Delete…", QKeySequence.StandardKey.Delete, self._request_delete)
        self.delete.setEnabled(False)
        self.delete.setToolTip("Delete the selected tags (plans first, asks before acting)")

    def tick(self) -> None:
        self.model.refresh_relative_times()
        self.table.viewport().update()

    # --- public API ----------------------------------------------------------------------
    def attach_delete_handler(self, handler: Callable[[list[TagInfo]], None]) -> None:
        self.deleteRequested.connect(handler)
        self.delete.setEnabled(True)

    def set_tags(self, repository: str, tags: Iterable[TagInfo]) -> None:
        self.unread = ""
        self.model.set_tags(repository, tags)
        self.filter_bar.set_platforms(self._platform_labels())
        self._show_pulled(self.model.rows, anew=True)

    def remove_tags(self, names: Iterable[str]) -> None:
        """Deleted tags leave the table row range by row range (no reset: nothing else is
        rebuilt); the other rows keep their selection, current row and place on screen."""
        model, table = self.model, self.table
        gone = set(names)
        top = table.rowAt(0)
        anchor, anchor_y = None, 0
        if top >= 0:  # the first row on screen that stays: it stays where it is
            for r in range(top, len(model.visible)):
                if model.row_at(r).tag not in gone:
                    anchor, anchor_y = model.row_at(r).tag, table.rowViewportPosition(r)
                    break
        kept = model.remove_rows(gone)
        if kept is None:
            return
        self._hidden_selected = {kept[b] for b in self._hidden_selected if b in kept}
        self.filter_bar.set_platforms(self._platform_labels())
        if anchor is not None and (backing := model.backing_row(anchor)) is not None:
            row = model.visible.index(backing)
            table.updateGeometries()
            bar = table.verticalScrollBar()
            bar.setValue(table.rowViewportPosition(row) + bar.value() - anchor_y)

    def append_tags(self, tags: list[TagInfo]) -> None:
        shown = len(self.model.visible)
        below = shown > 0 and not self.table.shows_row_after(shown - 1)
        self.model.append_rows(tags)
        if below and len(self.model.visible) > shown:
            self.table.rows_appended_below()  # no repaint of the unchanged viewport
        self._show_pulled(tags)

    def _show_pulled(self, rows: Iterable[TagInfo], *, anew: bool = False) -> None:
        """Last pulled appears where the registry says when tags were pulled (Harbor, Docker
        Hub) and goes for one that does not — unless the user showed or hid it by hand."""
        if self._pulled_chosen:
            return
        known = any(r.pulled is not None for r in rows)
        if anew or known:
            self.table.setColumnHidden(tm.PULLED, not known)

    def finish_loading(self) -> None:
        """A load finished: put late rows in sorted order and refresh the platform choices."""
        self._preserving(self.model.resort)
        self.filter_bar.set_platforms(self._platform_labels())
        self.finish_progress()

    def _frees_computed(self) -> None:
        """New Frees figures: re-sort when the table is sorted on them; new selection total."""
        if self.model.sort_column == tm.FREES:
            self._preserving(self.model.resort)
        self._summary_timer.start()

    def _platform_labels(self) -> set[str]:
        labels: set[str] = set()
        for plats in self.model.index_.platforms:
            labels |= plats
        return labels

    def selected_rows(self) -> list[int]:
        """Selected display rows, ascending."""
        rows: list[int] = []
        for rng in _ranges(self.table.selectionModel().selection()):
            rows.extend(range(rng.top(), rng.bottom() + 1))
        return sorted(set(rows))

    def selected_tags(self) -> list[TagInfo]:
        return [self.model.row_at(r) for r in self.selected_rows()]

    def current_tag(self) -> TagInfo | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def select_tags(self, names: Iterable[str], current: str | None = None) -> None:
        backing = {b for n in names if (b := self.model.backing_row(n)) is not None}
        self._hidden_selected.clear()
        self._select_backing(backing)
        if current is not None:
            b = self.model.backing_row(current)
            if b is not None and b in self.model.visible:
                row = self.model.visible.index(b)
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate
                )
                self.table.scrollTo(self.model.index(row, 0))

    def spec(self) -> FilterSpec:
        return self.model.spec

    def set_spec(self, spec: FilterSpec) -> None:
        self.filter_bar.set_spec(spec)

    def sort_by(self, column: int | None, descending: bool = False) -> None:
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.table.horizontalHeader().setSortIndicator(-1 if column is None else column, order)

    def show_progress(self, done: int, total: int) -> None:
        # QProgressBar.setValue repaints synchronously (~8 ms, ~27 ms behind a busy loader
        # thread): at most 4 updates a second, and with updates disabled around the changes so
        # that the bar is only scheduled for the next paint (setUpdatesEnabled(True) → update()).
        self.frees.paused = True  # what each tag frees waits for the whole listing
        now = time.monotonic()
        if 0 < done < total and now - self._progress_at < 0.25:
            return
        if (done, total) == self._progress_shown and self.progress_row.isVisible():
            return
        self._progress_at = now
        self._progress_shown = (done, total)
        bar = self.progress
        bar.setUpdatesEnabled(False)
        try:
            if bar.maximum() != max(total, 1):
                bar.setRange(0, max(total, 1))
            bar.setValue(done)
            bar.setFormat(f"Reading tags… {done:,} of {total:,}")
        finally:
            bar.setUpdatesEnabled(True)
        self.progress_row.show()

    def finish_progress(self) -> None:
        self.progress_row.hide()
        self.frees.pause(False)

    def focus_filter_box(self) -> None:
        self.filter_bar.text.setFocus()
        self.filter_bar.text.selectAll()

    # --- references ----------------------------------------------------------------------
    def reference(self, tag: TagInfo, by_digest: bool = False) -> str:
        host = f"{self.registry_host}/" if self.registry_host else ""
        sep_ref = f"@{tag.digest}" if by_digest and tag.digest else f":{tag.tag}"
        return f"{host}{tag.repository}{sep_ref}"

    def _copy(self, lines: list[str]) -> None:
        if lines:
            QGuiApplication.clipboard().setText("\n".join(lines))

    def _targets(self) -> list[TagInfo]:
        tags = self.selected_tags()
        if not tags and (cur := self.current_tag()) is not None:
            tags = [cur]
        return tags

    def copy_references(self) -> None:
        self._copy([self.reference(t) for t in self._targets()])

    def copy_pull_commands(self) -> None:
        self._copy([f"docker pull {self.reference(t)}" for t in self._targets()])

    def copy_digest_references(self) -> None:
        self._copy([self.reference(t, by_digest=True) for t in self._targets()])

    def _request_delete(self) -> None:
        tags = self.selected_tags()
        if tags and self.delete.isEnabled():
            self.deleteRequested.emit(tags)

    # --- filter / sort keeping selection and scroll --------------------------------------
    def _spec_changed(self) -> None:
        spec = self.filter_bar.spec()
        try:
            self._preserving(lambda: self.model.apply(spec=spec))
        except FilterError as exc:
            self.filter_bar.show_error(str(exc))
            return
        self.filter_bar.show_error("")

    def _sort_indicator_changed(self, column: int, order: Qt.SortOrder) -> None:
        descending = order == Qt.SortOrder.DescendingOrder
        col = column if 0 <= column < self.model.columnCount() else None
        self._preserving(lambda: self.model.apply(sort_column=col, descending=descending))

    def _selection_changed(self) -> None:
        if not self._restoring:
            self._hidden_selected.clear()  # the user chose anew

    def _preserving(self, change: Callable[[], None]) -> None:
        self._restoring = True
        try:
            self._preserve(change)
        finally:
            self._restoring = False

    def _preserve(self, change: Callable[[], None]) -> None:
        model, table = self.model, self.table
        sel = table.selectionModel()
        visible = model.visible
        selected = set(self._hidden_selected)
        for rng in _ranges(sel.selection()):
            selected.update(visible[rng.top() : rng.bottom() + 1])
        current = sel.currentIndex()
        top = table.rowAt(0)
        anchor_row = top
        if current.isValid() and top >= 0:
            bottom = table.rowAt(table.viewport().height() - 1)
            if top <= current.row() <= (bottom if bottom >= 0 else len(visible) - 1):
                anchor_row = current.row()
        anchor = visible[anchor_row] if 0 <= anchor_row < len(visible) else None
        anchor_y = table.rowViewportPosition(anchor_row) if anchor is not None else 0
        if selected:
            sel.clearSelection()
        change()
        if selected:
            shown = self._select_backing(selected, keep_current=True)
            self._hidden_selected = selected - set(model.visible[r] for r in shown)
        if anchor is not None:
            try:
                new_row = model.visible.index(anchor)
            except ValueError:
                return
            # The scroll range follows the new row count only at the next layout pass: update
            # it now, or the value below is clamped to the old (maybe much shorter) range.
            table.updateGeometries()
            bar = table.verticalScrollBar()
            bar.setValue(table.rowViewportPosition(new_row) + bar.value() - anchor_y)

    def _select_backing(self, backing: set[int], keep_current: bool = False) -> list[int]:
        """Select these backing rows where shown; the display rows selected."""
        sel = self.table.selectionModel()
        rows = self.model.visible_rows_of(backing) if backing else []
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        for first, end in contiguous(rows):
            selection.select(self.model.index(first, 0), self.model.index(end, last))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        sel.select(selection, flags)
        if not keep_current and rows:
            sel.setCurrentIndex(
                self.model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )
        return rows

    # --- status --------------------------------------------------------------------------
    def summary(self) -> str:
        total, shown = len(self.model.rows), len(self.model.visible)
        if not total and self.unread:  # a registry not reached has not "0 tags"
            return self.unread
        rows = self.selected_rows()
        parts = [f"{total:,} tags"]
        if shown != total:
            parts.append(f"{shown:,} shown")
        if rows:
            parts.append(f"{len(rows):,} selected" + self._selection_frees(rows))
        return " · ".join(parts)

    def _selection_frees(self, rows: list[int]) -> str:
        """What deleting the selection frees, each blob once: the delete plan's figure.

        Up to SYNC_SELECTION rows it is computed here (a few ms); a larger selection goes to
        the frees worker and the status bar says so until the figure arrives."""
        model = self.model
        space = model.space
        if space is None:
            return SELECTION_COMPUTING
        names = [model.row_at(r).tag for r in rows]
        if len(rows) <= SYNC_SELECTION:
            freed = space.freed_bytes(names)
        else:
            key = (model.generation, tuple(names))
            done = self._selection_done
            if done is not None and done[0] == key:
                freed = done[1]
            else:
                if self._selection_asked != key:
                    self._selection_asked = key
                    self._selection_token = self._selection_worker.run(space.freed_bytes, names)
                return SELECTION_COMPUTING
        if freed == 0:
            return " — frees nothing after GC (other tags use all of it)"
        bound = "" if space is None or space.complete else "at most "
        return f" — frees {bound}{human_size(freed)} after GC"

    def _selection_computed(self, token: int, freed: int | None) -> None:
        if (
            token == self._selection_token
            and self._selection_asked is not None
            and freed is not None
        ):
            self._selection_done = (self._selection_asked, freed)
            self._summary_timer.start()

    def _emit_summary(self) -> None:
        self.selectionSummaryChanged.emit(self.summary())

    def _current_changed(self) -> None:
        self.currentTagChanged.emit(self.current_tag())

    def _header_menu(self, pos: QPoint) -> None:
        hh = self.table.horizontalHeader()
        menu = QMenu(self)
        menu.addSection("Columns")
        for col, name in enumerate(tm.HEADERS):
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not hh.isSectionHidden(col))
            action.setEnabled(col != tm.TAG)
            action.toggled.connect(lambda on, c=col: self._choose_column(c, on))
        menu.popup(hh.mapToGlobal(pos))

    def _choose_column(self, column: int, shown: bool) -> None:
        self.table.setColumnHidden(column, not shown)
        if column == tm.PULLED:
            self._pulled_chosen = True  # the rows no longer decide

    def _context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        for a in (self.copy_reference, self.copy_pull, self.copy_digest, self.copy_link):
            menu.addAction(a)
        menu.addSeparator()
        menu.addAction(self.select_all_tags)
        menu.addAction(self.refresh)
        menu.addSeparator()
        menu.addAction(self.delete)
        menu.popup(self.table.viewport().mapToGlobal(pos))
