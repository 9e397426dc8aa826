"""The main window's browsing: registry → repositories → tags → details, the overview, refresh.

    WindowBrowsing (a part of MainWindow, see window_base)
        open_profile(name) ; open_repository(name, path) ; show_overview(name) ; refresh()

A registry whose profile has a GitLab API address is listed through window_tree instead of the
catalog. Failures appear in the banner (or the details pane), in words.
"""

from __future__ import annotations

import asyncio
from typing import Any

from regview.core.model import RegistryKind, TagInfo
from regview.ui.errors import Problem, describe
from regview.ui.window_base import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, WindowBase


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
        self._page(PAGE_REPOS, f"{name}  ›  {scope}" if scope else name)
        self.sidebar.set_loading(name)
        self.tasks.start("repos", self._load_repositories(name))

    async def _load_repositories(self, name: str) -> list[str]:
        try:
            if await self.gitlab.uses_api(name):
                return await self._load_gitlab_tree(name)
            self._readers.pop(name, None)
            self._gitlab_projects.pop(name, None)
            repos, listable = await self.controller.list_repositories(name)
        except Exception as exc:
            if describe(exc) is None:
                raise
            self.sidebar.set_problem(name, "Repositories cannot be listed")
            self._show_problem(exc)
            return []
        self.sidebar.set_repositories(name, [r.path for r in repos], listable)
        self._all_repos[name] = repos
        if self.profile == name:
            self._show_scope(name)
            self.overview.set_repositories(repos)
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
        self._page(PAGE_TAGS, f"{name}  ›  {path}")
        self.sidebar.select_repository(name, path)
        self.details.clear()
        self.tasks.cancel("details")
        self.tasks.start("tags", self._load_tags(name, path))

    async def _load_tags(self, name: str, path: str) -> None:
        outcome = await self._attempt(self.controller.load_tags(name, path, self.tags_view))
        if isinstance(outcome, Problem):
            self.banner.show_problem(outcome)
            return
        if self.controller.link_note:  # throttled, or the registry counts pulls
            self.statusBar().showMessage(self.controller.link_note)
        link, self._pending_link = self._pending_link, None
        if link is not None and link.repository == path:
            self._apply_link_view(link)
        elif self.tags_view.current_tag() is None and self.tags_view.model.rowCount():
            first = self.tags_view.model.row_at(0).tag
            self.tags_view.select_tags([first], current=first)
        self.loaded.emit(path)

    def _current_tag(self, tag: TagInfo | None) -> None:
        if tag is None:
            self.details.clear()
            return
        others = self.tags_view.model.shared_with(self.tags_view.model.backing_row(tag.tag) or 0)
        self.details.show_tag(tag, self.tags_view.reference(tag), others)
        if tag.error:
            return
        self.details.show_loading()
        self.tasks.start("details", self._load_details(self.profile, tag))

    async def _load_details(self, name: str, tag: TagInfo) -> None:
        await asyncio.sleep(
            0.08
        )  # moving through rows with the keyboard: fetch only where it stops
        details = await self._attempt(self.controller.load_details(name, tag))
        if isinstance(details, Problem):
            self.details.show_error(details.text())
            return
        self.details.show_details(details)
        self.detailsLoaded.emit(tag.tag)

    def show_overview(self, name: str) -> None:
        if not name:
            return
        if name != self.profile:
            self.open_profile(name)
        self._page(PAGE_OVERVIEW, f"{name}  ›  Storage overview")
        self.tasks.start("measure", self._measure(name))

    async def _measure(self, name: str) -> None:
        repos_task = self.tasks.task("repos")
        if repos_task is not None and not repos_task.done():
            await asyncio.wait([repos_task])
        paths = [r.path for r in self.repos_model.repositories()]
        self.overview.set_tags(
            self.controller.all_cached_tags(name), "all repositories read so far"
        )

        def on_repo(repo: Any, _tags: list[TagInfo]) -> None:
            self.repos_model.update_repository(repo)
            self.overview.set_repositories(self.repos_model.repositories())
            self.overview.set_tags(self.controller.all_cached_tags(name), "all repositories")

        outcome = await self._attempt(self.controller.measure(name, paths, on_repo))
        if isinstance(outcome, Problem):
            self.banner.show_problem(outcome)
        self.loaded.emit("overview")

    def refresh(self) -> None:
        if self.pages.currentIndex() == PAGE_TAGS and self.repository:
            self.open_repository(self.profile, self.repository)
        elif self.pages.currentIndex() == PAGE_OVERVIEW:
            self.show_overview(self.profile)
        elif self._scope in self._gitlab_projects.get(self.profile, {}):
            self.open_project(self.profile, self._scope)
        else:  # the whole registry, or a group of it: read again, the group stays in view
            self.open_profile(self.profile, scope=self._scope)
