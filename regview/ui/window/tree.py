"""The GitLab API tree of each registry listed through it: groups → projects → repositories.

    GitLabTree(gitlab, sidebar, repositories, stack, registries, progress, shown)
        gitlab: GitLabBrowser            the API reads (the window's browsing uses it too)
        await load(name) -> [path]       the projects, then their repositories, project by project
        project(name, path) -> GitLabProject | None ; reader(name) -> ProjectReader | None
        await read_project(name, project) -> [RepositoryInfo]   one project read again
        expanded(name, project)          read that project ahead of the queue
        show_progress()                  the status bar's `progress` label for the one shown
        forget(name)

`gitlab_browse.ProjectReader` reads the projects' repositories TREE_WORKERS at a time (an
expanded or picked project first); the table takes what it read in batches at most every
TREE_BATCH_MS, and the status bar's `progress` label counts the projects read of the registry
`shown()` names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from regview.core.model import RepositoryInfo
from regview.services.gitlab_browse import GitLabBrowser, GitLabProject, ProjectReader
from regview.ui.errors import Problem
from regview.ui.models.repos_model import status_text
from regview.ui.pages.repositories import RepositoriesPage
from regview.ui.registries import Registries
from regview.ui.window.binding import PAGE_REPOS
from regview.ui.window.sidebar import Sidebar
from regview.ui.window.stack import PageStack

TREE_WORKERS = 4  # GitLab API requests at a time while reading the projects' repositories
TREE_BATCH_MS = 250  # new repositories reach the table at most this often during a tree load


class GitLabTree(QObject):
    def __init__(
        self,
        gitlab: GitLabBrowser,
        sidebar: Sidebar,
        repositories: RepositoriesPage,
        stack: PageStack,
        registries: Registries,
        progress: QLabel,
        shown: Callable[[], str],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.gitlab, self.sidebar, self.repositories = gitlab, sidebar, repositories
        self.stack, self.registries, self.progress, self._shown = stack, registries, progress, shown
        self._projects: dict[str, dict[str, GitLabProject]] = {}
        self._readers: dict[str, ProjectReader] = {}
        # GitLab projects arrive one by one; the table takes them in batches (a reset per project
        # of a 500-project tree would repaint it hundreds of times a second)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TREE_BATCH_MS)
        self._timer.timeout.connect(self._flush)

    def project(self, name: str, path: str) -> GitLabProject | None:
        return self._projects.get(name, {}).get(path)

    def reader(self, name: str) -> ProjectReader | None:
        return self._readers.get(name)

    def forget(self, name: str) -> None:
        self._readers.pop(name, None)
        self._projects.pop(name, None)

    async def load(self, name: str) -> list[str]:
        projects = await self.gitlab.projects(name)
        manual = self.registries.hand_added(name)
        self._projects[name] = {p.path: p for p in projects}
        self.sidebar.set_gitlab_projects(
            name,
            [(p.namespace, p.path) for p in projects],
            manual=manual,
            disabled=[p.path for p in projects if p.registry_access == "disabled"],
        )
        reader = ProjectReader(
            projects,
            functools.partial(self._read_queued, name),
            manual=manual,
            workers=TREE_WORKERS,
        )
        self._readers[name] = reader
        repos_page = self.repositories
        repos_page.listed[name] = reader.repositories()
        on_list = self.stack.current() == PAGE_REPOS
        if repos_page.lists(name):
            count = repos_page.show_scope(name)
            if on_list:
                self.stack.set_counts(f"{count:,} repositories")
            if repos_page.scope and on_list:
                self.sidebar.select_scope(name, repos_page.scope)  # refreshed on a group
        self.show_progress()
        try:
            await reader.run()
        finally:
            self._flush()
        repos = repos_page.listed[name] = reader.repositories()
        if repos_page.lists(name):
            repos_page.model.resort()  # batches were appended at the end of the view
            if self.stack.current() == PAGE_REPOS:
                self.stack.set_counts(f"{len(repos_page.model.rows):,} repositories")
        return [r.path for r in repos]

    async def _read_queued(self, name: str, project: GitLabProject) -> list[RepositoryInfo]:
        repos = await self.read_project(name, project)
        if not self._timer.isActive():
            self._timer.start()
        return repos

    def expanded(self, name: str, project: str) -> None:
        reader = self._readers.get(name)
        if reader is not None:
            reader.prefer(project)  # read by the load's own task group, ahead of its queue

    def _flush(self) -> None:
        """Hand what the tree load read since the last batch to the table and the counts."""
        self._timer.stop()
        for name, reader in self._readers.items():
            new = reader.take_new()
            if not new:
                continue
            self.repositories.listed[name] = reader.repositories()
            if self.repositories.lists(name):
                self.repositories.append_listed(new)
        self.show_progress()

    def show_progress(self) -> None:
        """The progress label of the registry shown; its counts while the table lists it."""
        reader = self._readers.get(self._shown())
        if reader is None or not reader.running:
            self.progress.hide()
            return
        self.progress.setText(f"Reading repositories: {reader.done:,} of {reader.total:,} projects")
        self.progress.show()
        if self.stack.current() == PAGE_REPOS:
            self.stack.set_counts(f"{len(self.repositories.model.rows):,} repositories so far")

    async def read_project(self, name: str, project: GitLabProject) -> list[RepositoryInfo]:
        repos = await self.registries.attempt(self.gitlab.project_repositories(name, project), name)
        if isinstance(repos, Problem):
            self.sidebar.set_project_problem(name, project.path, repos.title)
            return []
        self.sidebar.set_project_repositories(
            name, project.path, [(r.path, status_text(r.status)) for r in repos]
        )
        return repos
