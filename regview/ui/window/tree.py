"""The main window's GitLab API tree: groups → projects → repositories, read project by project.

    WindowGitLabTree (a part of MainWindow, see window.base)
        open_project(name, project) ; show_group(name, group)

`gitlab_browse.ProjectReader` reads the projects' repositories TREE_WORKERS at a time (an
expanded or picked project first); the table takes what it read in batches at most every
TREE_BATCH_MS, and the status bar's `tree_progress` label counts the projects read.
"""

from __future__ import annotations

import functools

from regview.core.model import RepositoryInfo
from regview.services.gitlab_browse import GitLabProject, ProjectReader
from regview.ui.errors import Problem
from regview.ui.models.repos_model import status_text
from regview.ui.window.base import PAGE_REPOS, WindowBase

TREE_WORKERS = 4  # GitLab API requests at a time while reading the projects' repositories
TREE_BATCH_MS = 250  # new repositories reach the table at most this often during a tree load


class WindowGitLabTree(WindowBase):
    async def _load_gitlab_tree(self, name: str) -> list[str]:
        projects = await self.gitlab.projects(name)
        manual = self._hand_added(name)
        self._gitlab_projects[name] = {p.path: p for p in projects}
        self.sidebar.set_gitlab_projects(
            name,
            [(p.namespace, p.path) for p in projects],
            manual=manual,
            disabled=[p.path for p in projects if p.registry_access == "disabled"],
        )
        reader = ProjectReader(
            projects,
            functools.partial(self._read_project, name),
            manual=manual,
            workers=TREE_WORKERS,
        )
        self._readers[name] = reader
        self._all_repos[name] = reader.repositories()
        if self._lists(name):
            self._show_scope(name, counts=self.pages.currentIndex() == PAGE_REPOS)
            if self._scope and self.pages.currentIndex() == PAGE_REPOS:
                self.sidebar.select_scope(name, self._scope)  # refreshed on a group
        self._tree_progress()
        try:
            await reader.run()
        finally:
            self._flush_tree()
        repos = self._all_repos[name] = reader.repositories()
        if self._lists(name):
            self.repos_model.resort()  # batches were appended at the end of the view
            if self.pages.currentIndex() == PAGE_REPOS:
                self._set_counts(f"{len(self.repos_model.rows):,} repositories")
            if self.repository:
                self.sidebar.select_repository(name, self.repository)
        return [r.path for r in repos]

    def _hand_added(self, name: str) -> list[str]:
        profile = getattr(self, "_profiles", {}).get(name)
        return list(profile.repositories) if profile is not None else []

    async def _read_project(self, name: str, project: GitLabProject) -> list[RepositoryInfo]:
        repos = await self._project_repositories(name, project)
        if not self._tree_timer.isActive():
            self._tree_timer.start()
        return repos

    def _project_expanded(self, name: str, project: str) -> None:
        reader = self._readers.get(name)
        if reader is not None:
            reader.prefer(project)  # read by the load's own task group, ahead of its queue

    def _flush_tree(self) -> None:
        """Hand what the tree load read since the last batch to the table and the counts."""
        self._tree_timer.stop()
        for name, reader in self._readers.items():
            new = reader.take_new()
            if not new:
                continue
            self._all_repos[name] = reader.repositories()
            if self._lists(name):
                scope = self._scope
                self.repos_model.append_rows(r for r in new if _in_scope(r.path, scope))
        self._tree_progress()

    def _tree_progress(self) -> None:
        reader = self._readers.get(self.profile)
        if reader is None or not reader.running:
            self.tree_progress.hide()
            return
        self.tree_progress.setText(
            f"Reading repositories: {reader.done:,} of {reader.total:,} projects"
        )
        self.tree_progress.show()
        if self.pages.currentIndex() == PAGE_REPOS:
            self._set_counts(f"{len(self.repos_model.rows):,} repositories so far")

    async def _project_repositories(
        self, name: str, project: GitLabProject
    ) -> list[RepositoryInfo]:
        repos = await self._attempt(self.gitlab.project_repositories(name, project))
        if isinstance(repos, Problem):
            self.sidebar.set_project_problem(name, project.path, repos.title)
            return []
        self.sidebar.set_project_repositories(
            name, project.path, [(r.path, status_text(r.status)) for r in repos]
        )
        return repos

    def _show_scope(self, name: str, counts: bool = True) -> None:
        scope = self._scope
        repos = [r for r in self._repositories_of(name) if _in_scope(r.path, scope)]
        self.repos_model.set_repositories(repos)
        if counts:
            self._set_counts(f"{len(repos):,} repositories")
            self._tree_progress()

    def open_project(self, name: str, project: str) -> None:
        """A GitLab project: its repositories (read again) with their status in the table."""
        info = self._gitlab_projects.get(name, {}).get(project)
        if info is None:
            self.show_group(name, project)
            return
        self.profile, self.repository, self._scope = name, "", project
        self.banner.hide()
        self._bind(PAGE_REPOS, name, scope=project)
        self._page(PAGE_REPOS, f"{name}  ›  {project}")
        self._show_scope(name)
        self.tasks.start("project", self._load_project(name, info))

    async def _load_project(self, name: str, info: GitLabProject) -> None:
        reader = self._readers.get(name)
        if reader is not None and reader.running and not reader.is_read(info.path):
            # the tree load has not read it yet: read it now, once, ahead of its queue
            if await reader.want(info.path) is None:
                return
        else:
            repos = await self._project_repositories(name, info)  # deliberately read again
            if reader is not None:
                reader.update(info.path, repos)
        if reader is not None:
            self._all_repos[name] = reader.repositories()
        if self._lists(name) and self._scope == info.path:
            self._show_scope(name)

    def show_group(self, name: str, group: str) -> None:
        """The repositories under a group (or a catalog path prefix), from the last listing."""
        if name != self.profile or name not in self._all_repos:
            self.open_profile(name)
            return
        self.repository, self._scope = "", group
        self.banner.hide()
        self._bind(PAGE_REPOS, name, scope=group)
        self._page(PAGE_REPOS, f"{name}  ›  {group}")
        self._show_scope(name)


def _in_scope(path: str, scope: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")
