"""The repositories page: a registry's repositories (or a group's) with tag counts and sizes.

RepositoriesPage(context: PageContext)
    filter, model, table             the filter box and the table (RepositoriesModel)
    binding: PageBinding             the registry (and group or project: scope) on show
    listed: {profile: [RepositoryInfo]}   each registry's last listing
    repositories_of(name) -> [RepositoryInfo]   the listing with every size measured so far
    show_scope(name) -> int          the listing's rows under `scope` into the table; how many
    show_measured(name, repo)        a repository's new tag count and size
    measure_sizes(name, everything=False) -> Task   the "sizes" task (see AUTO_MEASURE)
    forget(name) -> bool             drop a registry; True when the page showed it
    repositoryActivated(profile, path)   a row double-clicked (only while its binding holds)
    measured(profile)                a repository of `profile` got its size
    sizesFailed(profile, Problem)    the sizes could not be read
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import RepositoryInfo, TagInfo
from regview.log import get_logger
from regview.ui.errors import Problem
from regview.ui.filter_box import escape_clears
from regview.ui.models.filtering import FilterSpec
from regview.ui.models.repos_model import PATH, RepositoriesModel
from regview.ui.pages.context import PageContext
from regview.ui.screen_fit import scaled
from regview.ui.window.binding import PAGE_REPOS, PageBinding

log = get_logger("ui.window")

#: Registries with at most this many repositories get their Size column filled unasked.
AUTO_MEASURE = 30


def in_scope(path: str, scope: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")


class RepositoriesPage(QWidget):
    repositoryActivated = Signal(str, str)
    measured = Signal(str)
    sizesFailed = Signal(str, object)

    def __init__(
        self,
        context: PageContext,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = context.controller
        self.tasks = context.tasks
        self.registries = context.registries
        self._generation = context.generation
        self.binding = PageBinding(PAGE_REPOS, context.generation)
        self.scope = ""  # the group or project shown ("" = all)
        self.listed: dict[str, list[RepositoryInfo]] = {}
        self._measured: dict[str, dict[str, RepositoryInfo]] = {}  # profile → path → figures
        self._sizes_for = ""  # the registry the "sizes" task measures
        self._sizes_whole = False  # … and whether it reads every repository of it

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.filter = QLineEdit()
        self.filter.setAccessibleName("Filter repositories")
        self.filter.setPlaceholderText("Filter repositories…")
        self.filter.setClearButtonEnabled(True)
        self.model = RepositoriesModel(self)
        self.filter.textChanged.connect(lambda text: self.model.apply(FilterSpec(text=text)))
        self.table = table = QTableView()
        table.setAccessibleName("Repositories")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setTabKeyNavigation(False)  # Tab: next pane, not next cell
        escape_clears(self.filter, table.setFocus)
        table.verticalHeader().hide()
        table.setSortingEnabled(True)
        # Qt's own default is the first column descending (Z → A); people expect paths A → Z
        table.sortByColumn(PATH, Qt.SortOrder.AscendingOrder)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setDefaultSectionSize(scaled(header, header.defaultSectionSize()))
        table.doubleClicked.connect(self._activated)
        layout.addWidget(self.filter)
        layout.addWidget(table, 1)

    def _activated(self, index: QModelIndex) -> None:
        binding = self.binding.current  # the registry whose rows the table shows
        if binding is not None and self.binding.holds(binding) and index.isValid():
            self.repositoryActivated.emit(binding.profile, self.model.row_at(index.row()).path)

    def lists(self, name: str) -> bool:
        """Does the page show registry `name` (with its current session)?"""
        return self.binding.shows(name)

    def repositories_of(self, name: str) -> list[RepositoryInfo]:
        """The registry's listing with every tag count and size measured so far."""
        measured = self._measured.get(name, {})
        return [_with_measure(r, measured.get(r.path)) for r in self.listed.get(name, [])]

    def show_scope(self, name: str) -> int:
        scope = self.scope
        repos = [r for r in self.repositories_of(name) if in_scope(r.path, scope)]
        self.model.set_repositories(repos)
        return len(repos)

    def append_listed(self, new: Iterable[RepositoryInfo]) -> None:
        """Rows a tree load read since its last batch, those under the scope on show."""
        scope = self.scope
        self.model.append_rows(r for r in new if in_scope(r.path, scope))

    def show_measured(self, name: str, measure: RepositoryInfo) -> None:
        """A repository's new tag count and size, in the table if it lists that repository (its
        GitLab ids and status kept; a row outside the group on show is not added)."""
        self._measured.setdefault(name, {})[measure.path] = measure
        if not self.lists(name):
            return
        row = next((r for r in self.model.rows if r.path == measure.path), None)
        if row is not None:
            self.model.update_repository(_with_measure(row, measure))

    def forget(self, name: str) -> bool:
        """Drop what the page holds of registry `name`; True when it showed it (now empty)."""
        self.listed.pop(name, None)
        self._measured.pop(name, None)
        if not self.binding.unbind(name):
            return False
        self.model.set_repositories([])
        return True

    def measure_sizes(self, name: str, everything: bool = False) -> asyncio.Task[None]:
        """Tag count and size of the repositories of `name`, read in the background (the
        loader's worker thread; its disk cache makes a second time cheap) for the Size column
        and the overview; one registry at a time (a new listing replaces the task).

        Unasked (after a listing) only a registry of at most AUTO_MEASURE repositories is read
        whole — every tag of every repository is a request each, and a registry we do not own
        should not see thousands of them because someone glanced at its list; beyond that the
        column shows what is already read, and the Storage overview (`everything`) reads it all.
        """
        task = self.tasks.task("sizes")
        running = task is not None and not task.done() and self._sizes_for == name
        if running and (self._sizes_whole or not everything):
            assert task is not None
            return task
        repos = self.listed.get(name, [])
        self._sizes_whole = everything or len(repos) <= AUTO_MEASURE
        paths = [
            r.path
            for r in repos
            if self._sizes_whole or self.controller.cached_tags(name, r.path) is not None
        ]
        self._sizes_for = name
        return self.tasks.start("sizes", self._read_sizes(name, paths, self._generation(name)))

    async def _read_sizes(self, name: str, paths: list[str], generation: int) -> None:
        def on_repo(repo: RepositoryInfo, _tags: list[TagInfo]) -> None:
            if self._generation(name) != generation:
                return  # measured through a session since replaced
            self.show_measured(name, repo)
            self.measured.emit(name)

        async def tags_first() -> None:
            # one load at a time: the tags table the user opened goes first (a long queue of
            # requests behind a background read would only make it slower)
            tags = self.tasks.task("tags")
            if tags is not None and not tags.done():
                await asyncio.wait([tags])

        outcome = await self.registries.attempt(
            self.controller.measure(name, paths, on_repo, tags_first), name
        )
        if isinstance(outcome, Problem):
            log.info("sizes of %s not read: %s", name, outcome.text())
            self.sizesFailed.emit(name, outcome)


def _with_measure(row: RepositoryInfo, measure: RepositoryInfo | None) -> RepositoryInfo:
    if measure is None:
        return row
    return replace(
        row, tag_count=measure.tag_count, size=measure.size, created=measure.created or row.created
    )
