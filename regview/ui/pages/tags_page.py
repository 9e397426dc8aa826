"""The tags page: a repository's tags table beside the details pane of its current tag.

TagsPage(context: PageContext)      a QSplitter
    tags_view: TagsView ; details: DetailsPane
    binding: PageBinding             the registry and repository on show
    open(name, path) -> Binding      bind; another repository's rows go at once
    shows(name, repository) -> bool  the table shows that repository (its binding holds)
    sync_details(reread=False)       the pane describes the selection: one tag, "N tags
                                     selected", or none — never a row only current
    apply_link(ViewLink)             a link's filter, sort and tag
    remove_tags(names) ; add_tags(tags)   a deletion's or restore's rows, the rest kept
    clear()
    detailsLoaded(tag)               a tag's details arrived
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSplitter, QWidget

from regview.core.model import TagInfo
from regview.ui.errors import Problem
from regview.ui.links import ViewLink
from regview.ui.models.filtering import FilterSpec
from regview.ui.pages.context import PageContext
from regview.ui.pages.details import DetailsPane
from regview.ui.pages.tags_view import TagsView
from regview.ui.window.binding import PAGE_TAGS, Binding, PageBinding

#: the pane's line when a details read ended without an answer (stopped, or its session replaced)
NOT_READ = "Manifest and config not read: the read was stopped. Press F5 to read them again."


#: the tags table's width below which the details pane goes under it instead of beside it
TABLE_MIN_WIDTH = 560


class TagsPage(QSplitter):
    detailsLoaded = Signal(str)

    def __init__(
        self,
        context: PageContext,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.controller = context.controller
        self.tasks = context.tasks
        self.registries = context.registries
        self.binding = PageBinding(PAGE_TAGS, context.generation)
        self.tags_view = TagsView()
        self.details = DetailsPane()
        self.addWidget(self.tags_view)
        self.addWidget(self.details)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)
        self.setSizes([780, 380])
        # The pane follows the selection, which Del acts on, not the focused row: Ctrl+Home or
        # Ctrl+click moves the current row without selecting it.
        self.tags_view.currentTagChanged.connect(lambda _tag: self.sync_details())
        # after the selection or the rows shown changed (filter, reload): the pane follows
        self.tags_view.selectionSummaryChanged.connect(lambda _text: self.sync_details())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # On a narrow window (1024 px: sidebar, then ~780 px here) the pane beside the table
        # left it three columns; there the pane goes under the table, as a mail client's
        # preview does, and comes back beside it when there is room for both.
        beside = self.width() >= self.details.minimumSizeHint().width() + TABLE_MIN_WIDTH
        want = Qt.Orientation.Horizontal if beside else Qt.Orientation.Vertical
        if self.orientation() != want:
            self.setOrientation(want)
            total = self.width() if beside else self.height()
            first = total * 2 // 3 if beside else total * 3 // 5
            self.setSizes([first, total - first])

    def open(self, name: str, path: str) -> Binding:
        shown = self.binding.current
        binding = self.binding.bind(name, repository=path)
        if shown is None or (shown.profile, shown.repository) != (name, path):
            # another registry (or repository) was on show: its rows go before anything loads
            self.tasks.cancel("details")
            self.details.clear()
            self.tags_view.set_tags(path, self.controller.cached_tags(name, path) or [])
        # read again (Refresh): the selection and the details pane stay; they are re-read
        return binding

    def shows(self, name: str, repository: str) -> bool:
        binding = self.binding.current
        return (
            binding is not None
            and self.binding.holds(binding)
            and (binding.profile, binding.repository) == (name, repository)
            and self.tags_view.model.repository == repository
        )

    def clear(self) -> None:
        self.tasks.cancel("details")
        self.tags_view.set_tags("", [])
        self.details.clear()

    def select_first(self) -> None:
        """The first row current and selected, unless a tag already is."""
        view = self.tags_view
        if view.current_tag() is None and view.model.rowCount():
            first = view.model.row_at(0).tag
            view.select_tags([first], current=first)

    def sync_details(self, reread: bool = False) -> None:
        """Keep the details pane on what the table has selected (after a click, a filter, a
        reload, a deletion or restore): the one selected tag, a count of several, or empty when
        none is; `reread` loads the one tag again."""
        view = self.tags_view
        rows = view.selected_rows()
        shown = self.details.current
        if len(rows) != 1:
            self.tasks.cancel("details")
            if rows:
                self.details.show_count(len(rows))
            elif shown is not None or self.details.counted:
                self.details.clear()
            return
        tag = view.model.row_at(rows[0])
        if reread or shown is None or (shown.tag, shown.digest) != (tag.tag, tag.digest):
            self._show_tag(tag)

    def _show_tag(self, tag: TagInfo | None) -> None:
        binding = self.binding.current
        if tag is None or binding is None:
            self.tasks.cancel("details")
            self.details.clear()
            return
        model = self.tags_view.model
        others = model.shared_with(model.backing_row(tag.tag) or 0)
        self.details.show_tag(tag, self.tags_view.reference(tag), others)
        if tag.error:
            self.tasks.cancel("details")
            return
        reading = self.details.show_loading()
        self.tasks.start("details", self._load_details(binding, tag, reading))

    async def _load_details(self, binding: Binding, tag: TagInfo, reading: int) -> None:
        try:
            await self._read_details(binding, tag)
        finally:  # dropped, cancelled or failed: the pane says so if it still waits for this
            self.details.end_reading(reading, NOT_READ)

    async def _read_details(self, binding: Binding, tag: TagInfo) -> None:
        await asyncio.sleep(0.08)  # moving through rows with the keyboard: fetch where it stops
        try:
            details = await self.registries.attempt(
                self.controller.load_details(binding.profile, tag), binding.profile
            )
        except Exception:
            if self.binding.holds(binding):
                raise
            return  # its session was replaced (and closed) meanwhile: nobody waits for this
        shown = self.details.current  # the pane moved on to another tag: this answer is old
        if not self.binding.holds(binding) or shown is None:
            return
        if (shown.tag, shown.digest) != (tag.tag, tag.digest):
            return
        if isinstance(details, Problem):
            self.details.show_error(details.text())
            return
        self.details.show_details(details)
        self.detailsLoaded.emit(tag.tag)

    def apply_link(self, link: ViewLink) -> None:
        view = self.tags_view
        view.set_spec(
            FilterSpec(
                text=link.filter,
                regex=link.regex,
                older_than_days=link.older_than_days,
                newer_than_days=link.newer_than_days,
                platform=link.platform,
            )
        )
        if link.sort_column is not None:
            view.sort_by(link.sort_column, link.descending)
        if link.tag:
            view.select_tags([link.tag], current=link.tag)

    def remove_tags(self, names: Collection[str]) -> None:
        """A deletion's rows leave the table; the others keep their selection and place."""
        self.tags_view.remove_tags(names)
        self.sync_details()

    def add_tags(self, tags: list[TagInfo]) -> None:
        """A restore's rows join the table in sorted order."""
        self.tags_view.append_tags(tags)
        self.tags_view.finish_loading()
        self.sync_details()
