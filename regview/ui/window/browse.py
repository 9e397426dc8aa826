"""The main window's browsing: registry → repositories → tags → details, the overview, refresh.

    WindowBrowsing (a part of MainWindow, see window.base)
        open_profile(name) ; open_repository(name, path) ; show_overview(name) ; refresh()

A registry whose profile has a GitLab API address is listed through window.tree instead of the
catalog. Failures appear in the banner (or the details pane), in words — only while the page on
screen is bound to that registry (window.binding). After a listing, the "sizes" task measures
the repositories in the background for the Size column (all of them for a small registry, see
AUTO_MEASURE; the overview reads every one); the details pane
follows the table's current, selected tag (`_sync_details`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import shiboken6

from regview.core.model import RegistryKind, RepositoryInfo, TagInfo
from regview.core.untagged import Untagged
from regview.log import get_logger
from regview.ui.errors import Problem, describe
from regview.ui.expiry import explain_refusal
from regview.ui.window.base import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, WindowBase
from regview.ui.window.binding import Binding

log = get_logger("ui.window")

#: Registries with at most this many repositories get their Size column filled unasked.
AUTO_MEASURE = 30


class WindowBrowsing(WindowBase):
    def _set_registries(self, profiles: list[Any]) -> None:
        self.sidebar.set_registries(
            [(p.name, p.url, p.kind == RegistryKind.GITLAB) for p in profiles]
        )
        self._profiles = {p.name: p for p in profiles}

    def open_profile(self, name: str, scope: str = "") -> None:
        """A registry's repositories, read again; `scope` keeps a group (path prefix) in view."""
        if not name:
            return
        self.profile = name
        self.repository = ""
        self._scope = scope
        self.banner.hide()
        binding = self._bind(PAGE_REPOS, name, scope=scope)
        self._page(PAGE_REPOS, f"{name}  ›  {scope}" if scope else name)
        # this registry's own last listing while it is read again, never another registry's rows
        self._show_scope(name)
        self.sidebar.set_loading(name)
        task = self.tasks.start("repos", self._load_repositories(binding))
        # another registry opened meanwhile cancels this listing (one slot for all of them),
        # started or not: its node must not say "Listing repositories…" for good
        task.add_done_callback(lambda t: self._listing_cancelled(name, t))

    def _listing_cancelled(self, name: str, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() or not shiboken6.isValid(self.sidebar):  # window closing
            return
        shown = self.bindings.of(PAGE_REPOS)
        if shown is not None and shown.profile == name:
            return  # the same registry is being listed again (Refresh): that listing says so
        self.sidebar.listing_stopped(name)

    async def _load_repositories(self, binding: Binding) -> list[str]:
        name = binding.profile
        try:
            if await self.gitlab.uses_api(name):
                paths = await self._load_gitlab_tree(name)
                if self._holds(binding):
                    self._measure_sizes(name)
                return paths
            self._readers.pop(name, None)
            self._gitlab_projects.pop(name, None)
            repos, listable = await self.controller.list_repositories(name)
        except Exception as exc:
            # an expired token is told as such (with its date and Replace), not as a bare 401
            problem = explain_refusal(describe(exc), exc, getattr(self, "_profiles", {}).get(name))
            if problem is None:
                raise
            self.sidebar.set_problem(name, "Repositories cannot be listed")
            self._all_repos.pop(name, None)  # what it listed before is no longer known true
            if self._holds(binding):
                self.repos_model.set_repositories([])
                self._set_counts("")
            self._report(binding, problem)
            return []
        self.sidebar.set_repositories(name, [r.path for r in repos], listable)
        self._all_repos[name] = repos
        if self._holds(binding):
            self._measure_sizes(name)  # the Size column fills without the overview
        if self._holds(binding):
            self._show_scope(name)
            if self._scope:
                self.sidebar.select_scope(name, self._scope)
            if self.repository:
                self.sidebar.select_repository(name, self.repository)
        return [r.path for r in repos]

    def open_repository(self, name: str, path: str) -> None:
        if not name or not path:
            return
        self.profile, self.repository = name, path
        self.banner.hide()
        shown = self.bindings.of(PAGE_TAGS)
        binding = self._bind(PAGE_TAGS, name, repository=path)
        self._page(PAGE_TAGS, f"{name}  ›  {path}")
        self._set_counts(self.tags_view.summary())
        self.sidebar.select_repository(name, path)
        if shown is None or (shown.profile, shown.repository) != (name, path):
            # another registry (or repository) was on show: its rows go before anything loads
            self.tasks.cancel("details")
            self.details.clear()
            self.tags_view.set_tags(path, self.controller.cached_tags(name, path) or [])
        # read again (Refresh): the selection and the details pane stay; they are re-read below
        self.tasks.start("tags", self._load_tags(binding))

    async def _load_tags(self, binding: Binding) -> None:
        name, path = binding.profile, binding.repository
        outcome = await self._attempt(self.controller.load_tags(name, path, self.tags_view))
        if not self._holds(binding):
            return
        if isinstance(outcome, Problem):
            self.tags_view.finish_progress()
            self._report(binding, outcome)
            return
        if self.controller.link_note:  # throttled, or the registry counts pulls
            self.statusBar().showMessage(self.controller.link_note)
        link, self._pending_link = self._pending_link, None
        if link is not None and link.repository == path:
            self._apply_link_view(link)
        elif self.tags_view.current_tag() is None and self.tags_view.model.rowCount():
            first = self.tags_view.model.row_at(0).tag
            self.tags_view.select_tags([first], current=first)
        self._sync_details(reread=True)
        self.loaded.emit(path)

    def _sync_details(self, reread: bool = False) -> None:
        """Keep the details pane on the tag the table has current and selected (after a filter,
        a reload, a deletion or restore), or empty when none is; `reread` loads it again."""
        view = self.tags_view
        tag = view.current_tag()
        rows = view.selected_rows()
        index = view.table.selectionModel().currentIndex()
        if tag is None or index.row() not in rows:  # e.g. a filter hid the current row
            tag = view.model.row_at(rows[0]) if rows else None
        shown = self.details.current
        if tag is None:
            if shown is not None:
                self.tasks.cancel("details")
                self.details.clear()
        elif reread or shown is None or (shown.tag, shown.digest) != (tag.tag, tag.digest):
            self._current_tag(tag)

    def _current_tag(self, tag: TagInfo | None) -> None:
        binding = self.bindings.of(PAGE_TAGS)
        if tag is None or binding is None:
            self.tasks.cancel("details")
            self.details.clear()
            return
        others = self.tags_view.model.shared_with(self.tags_view.model.backing_row(tag.tag) or 0)
        self.details.show_tag(tag, self.tags_view.reference(tag), others)
        if tag.error:
            self.tasks.cancel("details")
            return
        self.details.show_loading()
        self.tasks.start("details", self._load_details(binding, tag))

    async def _load_details(self, binding: Binding, tag: TagInfo) -> None:
        await asyncio.sleep(
            0.08
        )  # moving through rows with the keyboard: fetch only where it stops
        details = await self._attempt(self.controller.load_details(binding.profile, tag))
        shown = self.details.current  # the pane moved on to another tag: this answer is old
        if (
            not self._holds(binding)
            or shown is None
            or (shown.tag, shown.digest)
            != (
                tag.tag,
                tag.digest,
            )
        ):
            return
        if isinstance(details, Problem):
            self.details.show_error(details.text())
            return
        self.details.show_details(details)
        self.detailsLoaded.emit(tag.tag)

    def show_overview(self, name: str) -> None:
        if not name:
            return
        if name != self.profile or self.bindings.of(PAGE_REPOS) is None:
            self.open_profile(name)
        binding = self._bind(PAGE_OVERVIEW, name)
        self._page(PAGE_OVERVIEW, f"{name}  ›  Storage overview")
        # this registry's own figures so far, never the last registry's bars
        self._show_overview_figures(name, done=False)
        self.tasks.start("measure", self._measure(binding))

    def _repositories_of(self, name: str) -> list[RepositoryInfo]:
        """The registry's listing with every tag count and size measured so far."""
        measured = self._measured.get(name, {})
        return [_with_measure(r, measured.get(r.path)) for r in self._all_repos.get(name, [])]

    def _show_measured(self, name: str, measure: RepositoryInfo) -> None:
        """A repository's new tag count and size, in the table if it lists that repository (its
        GitLab ids and status kept; a row outside the group on show is not added)."""
        self._measured.setdefault(name, {})[measure.path] = measure
        if not self._lists(name):
            return
        row = next((r for r in self.repos_model.rows if r.path == measure.path), None)
        if row is not None:
            self.repos_model.update_repository(_with_measure(row, measure))

    def _show_overview_figures(self, name: str, done: bool) -> None:
        repos = self._repositories_of(name)
        tags = self.controller.all_cached_tags(name)
        self.overview.set_repositories(repos)
        self.overview.set_tags(tags, "all repositories" if done else "all repositories read so far")
        read = sum(1 for r in repos if r.tag_count is not None)
        self._set_counts(
            f"{len(repos):,} repositories · {len(tags):,} tags"
            + ("" if done or read == len(repos) else f" · {read:,} of {len(repos):,} read")
        )

    def _measure_sizes(self, name: str, everything: bool = False) -> asyncio.Task[None]:
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
        repos = self._all_repos.get(name, [])
        self._sizes_whole = everything or len(repos) <= AUTO_MEASURE
        paths = [
            r.path
            for r in repos
            if self._sizes_whole or self.controller.cached_tags(name, r.path) is not None
        ]
        self._sizes_for = name
        return self.tasks.start(
            "sizes", self._read_sizes(name, paths, self.sessions.generation(name))
        )

    async def _read_sizes(self, name: str, paths: list[str], generation: int) -> None:

        def on_repo(repo: RepositoryInfo, _tags: list[TagInfo]) -> None:
            if self.sessions.generation(name) != generation:
                return  # measured through a session since replaced
            self._show_measured(name, repo)
            shown = self.view_binding()
            if shown is not None and shown.page == PAGE_OVERVIEW and shown.profile == name:
                self._show_overview_figures(name, done=False)

        async def tags_first() -> None:
            # one load at a time: the tags table the user opened goes first (a long queue of
            # requests behind a background read would only make it slower)
            tags = self.tasks.task("tags")
            if tags is not None and not tags.done():
                await asyncio.wait([tags])

        outcome = await self._attempt(self.controller.measure(name, paths, on_repo, tags_first))
        if isinstance(outcome, Problem):
            log.info("sizes of %s not read: %s", name, outcome.text())
            overview = self.bindings.of(PAGE_OVERVIEW)
            if overview is not None and overview.profile == name:
                self._report(overview, outcome)

    async def _measure(self, binding: Binding) -> None:
        name = binding.profile
        repos_task = self.tasks.task("repos")
        if repos_task is not None and not repos_task.done():
            await asyncio.wait([repos_task])
        if not self._holds(binding):
            return
        self._show_overview_figures(name, done=False)
        self.tasks.start("gitlab sizes", self._gitlab_sizes(binding))
        self.overview.set_untagged({})  # never another registry's figures
        await asyncio.wait([self._measure_sizes(name, everything=True)])
        if self._holds(binding):
            self.tasks.start("untagged", self._untagged_sizes(binding))
        if self._holds(binding) and self.pages.currentIndex() == PAGE_OVERVIEW:
            self._show_overview_figures(name, done=True)
        self.loaded.emit("overview")

    async def _gitlab_sizes(self, binding: Binding) -> None:
        """GitLab's own size of each repository, beside ours in the overview (one request per
        repository listed through its API; only when the overview is asked for)."""
        name = binding.profile
        self.overview.set_gitlab_sizes({})  # never another registry's figures
        repos = [r for r in self._all_repos.get(name, []) if r.gitlab_id is not None]
        if not repos:
            return
        found: dict[str, int] = {}

        def on_size(path: str, size: int) -> None:
            found[path] = size
            if self._holds(binding):
                self.overview.set_gitlab_sizes(found)

        outcome = await self._attempt(self.gitlab.repository_sizes(name, repos, on_size))
        if isinstance(outcome, Problem):
            log.info("GitLab's sizes of %s not read: %s", name, outcome.text())
        else:
            for warning in outcome.warnings:
                log.info("%s", warning)

    async def _untagged_sizes(self, binding: Binding) -> None:
        """What untagged artifacts hold per measured repository, where the registry lists
        them (Harbor's API; one listing per repository and a manifest read per untagged one)."""
        name = binding.profile
        found: dict[str, Untagged] = {}

        def on_figure(path: str, figure: Untagged) -> None:
            found[path] = figure
            if self._holds(binding):
                self.overview.set_untagged(found)

        paths = [r.path for r in self._all_repos.get(name, [])]
        outcome = await self._attempt(self.controller.untagged(name, paths, on_figure))
        if isinstance(outcome, Problem):
            log.info("untagged artifacts of %s not read: %s", name, outcome.text())

    def refresh(self) -> None:
        binding = self.view_binding()
        if binding is None:
            return
        page = self.pages.currentIndex()
        if page == PAGE_TAGS:
            self.open_repository(binding.profile, binding.repository)
        elif page == PAGE_OVERVIEW:
            self.show_overview(binding.profile)
        elif binding.scope in self._gitlab_projects.get(binding.profile, {}):
            self.open_project(binding.profile, binding.scope)
        else:  # the whole registry, or a group of it: read again, the group stays in view
            self.open_profile(binding.profile, scope=binding.scope)


def _with_measure(row: RepositoryInfo, measure: RepositoryInfo | None) -> RepositoryInfo:
    if measure is None:
        return row
    return replace(
        row, tag_count=measure.tag_count, size=measure.size, created=measure.created or row.created
    )
