"""Browsing: registry → repositories → tags → details, the storage overview, refresh.

    Browser(stack, repositories, tags, overview, sidebar, controller, gitlab, registries,
            tasks, status, progress)
        profile, repository              the registry and repository last opened ("" = none)
        pending_link: ViewLink | None    a link's view, applied when its repository has loaded
        tree: GitLabTree                 registries listed through GitLab's API
        set_registries(profiles) ; open_profile(name, scope="") ; open_repository(name, path)
        open_project(name, project) ; show_group(name, group) ; show_overview(name)
        refresh() ; overview_of_view() ; show_welcome() ; forget_profile(name)
        loaded(str)                      a repository's tags (or "overview") finished loading

The pages own what they show and their bindings; this object starts the loads, and each load
touches its page only while the page's binding still holds. Failures appear in the banner in
words — only under the registry they are about.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

from regview.core.model import RegistryKind
from regview.core.untagged import Untagged
from regview.log import get_logger
from regview.services.gitlab_browse import GitLabBrowser, GitLabProject
from regview.settings.profiles import Profile
from regview.ui.controllers import BrowseController
from regview.ui.errors import Problem
from regview.ui.links import ViewLink
from regview.ui.pages.overview import OverviewPanel
from regview.ui.pages.repositories import RepositoriesPage
from regview.ui.pages.tags_page import TagsPage
from regview.ui.registries import Registries
from regview.ui.tasks import Tasks
from regview.ui.window.binding import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, PAGE_WELCOME, Binding
from regview.ui.window.sidebar import Sidebar
from regview.ui.window.stack import PageStack
from regview.ui.window.tree import GitLabTree

log = get_logger("ui.window")

#: the task slots a load of one registry may be running in
LOAD_SLOTS = ("repos", "tags", "details", "measure", "project", "sizes")


class Browser(QObject):
    loaded = Signal(str)

    def __init__(
        self,
        stack: PageStack,
        repositories: RepositoriesPage,
        tags: TagsPage,
        overview: OverviewPanel,
        sidebar: Sidebar,
        controller: BrowseController,
        gitlab: GitLabBrowser,
        registries: Registries,
        tasks: Tasks,
        status: Callable[[str], None],
        progress: QLabel,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.stack, self.repositories, self.tags, self.overview = (
            stack,
            repositories,
            tags,
            overview,
        )
        self.sidebar, self.controller, self.registries = sidebar, controller, registries
        self.tasks, self._status = tasks, status
        self.tree = GitLabTree(
            gitlab, sidebar, repositories, stack, registries, progress, lambda: self.profile, self
        )
        self.profile = ""
        self.repository = ""
        self.pending_link: ViewLink | None = None
        sidebar.registrySelected.connect(self.open_profile)
        sidebar.repositorySelected.connect(self.open_repository)
        sidebar.overviewSelected.connect(self.show_overview)
        sidebar.groupSelected.connect(self.show_group)
        sidebar.projectSelected.connect(self.open_project)
        sidebar.projectExpanded.connect(self.tree.expanded)
        repositories.repositoryActivated.connect(self.open_repository)
        repositories.measured.connect(self._measured)
        repositories.sizesFailed.connect(self._sizes_failed)
        view = tags.tags_view
        view.selectionSummaryChanged.connect(self._tags_summary)
        view.refreshRequested.connect(self.refresh)
        view.cancelRequested.connect(controller.cancel_load)
        overview.repositoryActivated.connect(self._overview_activated)
        overview.tagActivated.connect(self._open_ranked_tag)

    # --- registries ----------------------------------------------------------------------
    def set_registries(self, profiles: list[Profile]) -> None:
        self.sidebar.set_registries(
            [(p.name, p.url, p.kind == RegistryKind.GITLAB) for p in profiles]
        )
        self.registries.set(profiles)

    def forget_profile(self, name: str) -> None:
        """Drop what is held of registry `name` and reset the pages bound to it."""
        self.controller.forget_profile(name)
        self.tree.forget(name)
        listed = self.repositories.forget(name)
        tagged = self.tags.binding.unbind(name)
        measured = self.overview.binding.unbind(name)
        if listed or tagged or measured:
            for slot in LOAD_SLOTS:
                self.tasks.cancel(slot)
            self.stack.banner.hide()
        if listed:
            self.stack.set_counts("")
        if tagged:
            self.tags.clear()
        if measured:
            self.overview.set_repositories([])
            self.overview.set_tags([], "")
        if self.profile == name:
            self.profile = self.repository = ""

    def show_welcome(self) -> None:
        self.profile = self.repository = ""
        self.stack.show_page(PAGE_WELCOME, "Welcome to regview")

    # --- repositories --------------------------------------------------------------------
    def open_profile(self, name: str, scope: str = "") -> None:
        """A registry's repositories, read again; `scope` keeps a group (path prefix) in view."""
        if not name:
            return
        self.profile = name
        self.repository = ""
        self.repositories.scope = scope
        self.stack.banner.hide()
        binding = self.repositories.binding.bind(name, scope=scope)
        self.stack.show_page(PAGE_REPOS, f"{name}  ›  {scope}" if scope else name)
        # this registry's own last listing while it is read again, never another registry's rows
        self._show_scope(name)
        self.sidebar.set_loading(name)
        if not scope:  # opened by the program too (start-up, a link): the sidebar says which
            self.sidebar.select_registry(name)
        task = self.tasks.start("repos", self._load_repositories(binding))
        # another registry opened meanwhile cancels this listing (one slot for all of them),
        # started or not: its node must not say "Listing repositories…" for good
        task.add_done_callback(lambda t: self._listing_cancelled(name, t))

    def _show_scope(self, name: str) -> None:
        count = self.repositories.show_scope(name)
        # a registry never listed (or whose listing failed) has no count yet: "0 repositories"
        # would read as an answer while its listing is still running or about to fail
        listed = name in self.repositories.listed
        self.stack.set_counts(f"{count:,} repositories" if listed else "Listing repositories…")
        self.tree.show_progress()

    def _listing_cancelled(self, name: str, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() or not shiboken6.isValid(self.sidebar):  # window closing
            return
        shown = self.repositories.binding.current
        if shown is not None and shown.profile == name:
            return  # the same registry is being listed again (Refresh): that listing says so
        self.sidebar.listing_stopped(name)

    async def _load_repositories(self, binding: Binding) -> list[str]:
        name = binding.profile
        outcome = await self.registries.attempt(self._list(binding), name)
        if not isinstance(outcome, Problem):
            return outcome
        self.sidebar.set_problem(name, "Repositories cannot be listed")
        self.repositories.listed.pop(name, None)  # what it listed before is no longer known true
        if self.repositories.binding.holds(binding):
            self.repositories.model.set_repositories([])
            self.stack.set_counts("")
        self.stack.report(binding, outcome)
        return []

    async def _list(self, binding: Binding) -> list[str]:
        name, page = binding.profile, self.repositories
        if await self.tree.gitlab.uses_api(name):
            paths = await self.tree.load(name)
            if page.binding.holds(binding):
                page.measure_sizes(name)
            if page.lists(name) and self.repository:
                self.sidebar.select_repository(name, self.repository)
            return paths
        self.tree.forget(name)
        repos, listable = await self.controller.list_repositories(name)
        self.sidebar.set_repositories(name, [r.path for r in repos], listable)
        page.listed[name] = repos
        if page.binding.holds(binding):
            page.measure_sizes(name)  # the Size column fills without the overview
            self._show_scope(name)
            if page.scope:
                self.sidebar.select_scope(name, page.scope)
            if self.repository:
                self.sidebar.select_repository(name, self.repository)
        return [r.path for r in repos]

    def open_project(self, name: str, project: str) -> None:
        """A GitLab project: its repositories (read again) with their status in the table."""
        info = self.tree.project(name, project)
        if info is None:
            self.show_group(name, project)
            return
        self.profile, self.repository = name, ""
        self.repositories.scope = project
        self.stack.banner.hide()
        self.repositories.binding.bind(name, scope=project)
        self.stack.show_page(PAGE_REPOS, f"{name}  ›  {project}")
        self._show_scope(name)
        self.tasks.start("project", self._load_project(name, info))

    async def _load_project(self, name: str, info: GitLabProject) -> None:
        reader = self.tree.reader(name)
        if reader is not None and reader.running and not reader.is_read(info.path):
            # the tree load has not read it yet: read it now, once, ahead of its queue
            if await reader.want(info.path) is None:
                return
        else:
            repos = await self.tree.read_project(name, info)  # deliberately read again
            if reader is not None:
                reader.update(info.path, repos)
        if reader is not None:
            self.repositories.listed[name] = reader.repositories()
        if self.repositories.lists(name) and self.repositories.scope == info.path:
            self._show_scope(name)

    def show_group(self, name: str, group: str) -> None:
        """The repositories under a group (or a catalog path prefix), from the last listing."""
        if name != self.profile or name not in self.repositories.listed:
            self.open_profile(name)
            return
        self.repository = ""
        self.repositories.scope = group
        self.stack.banner.hide()
        self.repositories.binding.bind(name, scope=group)
        self.stack.show_page(PAGE_REPOS, f"{name}  ›  {group}")
        self._show_scope(name)

    # --- tags ----------------------------------------------------------------------------
    def open_repository(self, name: str, path: str) -> None:
        if not name or not path:
            return
        self.profile, self.repository = name, path
        self.stack.banner.hide()
        binding = self.tags.open(name, path)
        self.stack.show_page(PAGE_TAGS, f"{name}  ›  {path}")
        self.stack.set_counts(self.tags.tags_view.summary())
        self.sidebar.select_repository(name, path)
        self.tasks.start("tags", self._load_tags(binding))

    async def _load_tags(self, binding: Binding) -> None:
        name, path, page = binding.profile, binding.repository, self.tags
        outcome = await self.registries.attempt(
            self.controller.load_tags(name, path, page.tags_view), name
        )
        if not page.binding.holds(binding):
            return
        if isinstance(outcome, Problem):
            page.tags_view.finish_progress()
            title = outcome.title
            page.tags_view.unread = f"tags unknown — {title[:1].lower()}{title[1:]}"
            self._tags_summary(page.tags_view.summary())
            self.stack.report(binding, outcome)
            return
        page.tags_view.unread = ""
        if self.controller.link_note:  # throttled, or the registry counts pulls
            self._status(self.controller.link_note)
        link, self.pending_link = self.pending_link, None
        if link is not None and link.repository == path:
            page.apply_link(link)
        else:
            page.select_first()
        page.sync_details(reread=True)
        self.loaded.emit(path)

    def _tags_summary(self, text: str) -> None:
        if self.stack.current() == PAGE_TAGS:  # not over the overview's or the list's
            self.stack.set_counts(text)

    # --- storage overview ----------------------------------------------------------------
    def show_overview(self, name: str) -> None:
        if not name:
            return
        # The overview is made of the registry's listing: one that never succeeded (the
        # registry was down) is read again here — so Retry on the overview's banner, or F5,
        # reaches the registry, not only the repositories already known (none).
        listed = name in self.repositories.listed
        if name != self.profile or self.repositories.binding.current is None or not listed:
            self.open_profile(name)
        binding = self.overview.binding.bind(name)
        self.stack.show_page(PAGE_OVERVIEW, f"{name}  ›  Storage overview")
        # this registry's own figures so far, never the last registry's bars
        self._show_overview_figures(name, done=False)
        self.tasks.start("measure", self._measure(binding))

    def overview_of_view(self) -> None:
        binding = self.stack.view_binding()
        if binding is not None:
            self.show_overview(binding.profile)

    def _overview_activated(self, path: str) -> None:
        binding = self.overview.binding.current
        if binding is not None and self.overview.binding.holds(binding):
            self.open_repository(binding.profile, path)

    def _open_ranked_tag(self, path: str, tag: str) -> None:
        """A tag of the Storage overview's ranking: its table, sorted by Frees, tag selected."""
        binding = self.overview.binding.current  # the registry whose ranking was clicked
        if binding is None or not self.overview.binding.holds(binding):
            return
        self.pending_link = ViewLink(
            registry="", repository=path, tag=tag, sort="frees", descending=True
        )
        self.open_repository(binding.profile, path)

    def _show_overview_figures(self, name: str, done: bool) -> None:
        repos = self.repositories.repositories_of(name)
        tags = self.controller.all_cached_tags(name)
        self.overview.set_repositories(repos)
        self.overview.set_tags(tags, "all repositories" if done else "all repositories read so far")
        read = sum(1 for r in repos if r.tag_count is not None)
        self.stack.set_counts(
            f"{len(repos):,} repositories · {len(tags):,} tags"
            + ("" if done or read == len(repos) else f" · {read:,} of {len(repos):,} read")
        )

    def _measured(self, name: str) -> None:
        shown = self.stack.view_binding()
        if shown is not None and shown.page == PAGE_OVERVIEW and shown.profile == name:
            self._show_overview_figures(name, done=False)

    def _sizes_failed(self, name: str, problem: Problem) -> None:
        overview = self.overview.binding.current
        if overview is not None and overview.profile == name:
            self.stack.report(overview, problem)

    async def _measure(self, binding: Binding) -> None:
        name, holds = binding.profile, self.overview.binding.holds
        repos_task = self.tasks.task("repos")
        if repos_task is not None and not repos_task.done():
            await asyncio.wait([repos_task])
        if not holds(binding):
            return
        self._show_overview_figures(name, done=False)
        self.tasks.start("gitlab sizes", self._gitlab_sizes(binding))
        self.overview.set_untagged({})  # never another registry's figures
        await asyncio.wait([self.repositories.measure_sizes(name, everything=True)])
        if holds(binding):
            self.tasks.start("untagged", self._untagged_sizes(binding))
        if holds(binding) and self.stack.current() == PAGE_OVERVIEW:
            self._show_overview_figures(name, done=True)
        self.loaded.emit("overview")

    async def _gitlab_sizes(self, binding: Binding) -> None:
        """GitLab's own size of each repository, beside ours in the overview (one request per
        repository listed through its API; only when the overview is asked for)."""
        name = binding.profile
        self.overview.set_gitlab_sizes({})  # never another registry's figures
        repos = [r for r in self.repositories.listed.get(name, []) if r.gitlab_id is not None]
        if not repos:
            return
        found: dict[str, int] = {}

        def on_size(path: str, size: int) -> None:
            found[path] = size
            if self.overview.binding.holds(binding):
                self.overview.set_gitlab_sizes(found)

        outcome = await self.registries.attempt(
            self.tree.gitlab.repository_sizes(name, repos, on_size), name
        )
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
            if self.overview.binding.holds(binding):
                self.overview.set_untagged(found)

        paths = [r.path for r in self.repositories.listed.get(name, [])]
        outcome = await self.registries.attempt(
            self.controller.untagged(name, paths, on_figure), name
        )
        if isinstance(outcome, Problem):
            log.info("untagged artifacts of %s not read: %s", name, outcome.text())

    # --- all pages -----------------------------------------------------------------------
    def refresh(self) -> None:
        binding = self.stack.view_binding()
        if binding is None:
            return
        page = self.stack.current()
        if page == PAGE_TAGS:
            self.open_repository(binding.profile, binding.repository)
        elif page == PAGE_OVERVIEW:
            self.show_overview(binding.profile)
        elif self.tree.project(binding.profile, binding.scope) is not None:
            self.open_project(binding.profile, binding.scope)
        else:  # the whole registry, or a group of it: read again, the group stays in view
            self.open_profile(binding.profile, scope=binding.scope)
