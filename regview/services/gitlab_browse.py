"""The GitLab side of browsing: a registry's groups → projects → repositories through the REST API.

    GitLabBrowser(sessions)
        await uses_api(profile) -> bool        a confirmed `api_url` and a credential that may
                                               call the API (personal, project, group, job token)
        await projects(profile) -> list[GitLabProject]        the token user's projects (membership)
        await project_repositories(profile, project) -> list[RepositoryInfo]
                                               with GitLab's status (delete_scheduled…), tag count,
                                               created

    ProjectReader(projects, read, manual=(), workers=4)      one tree load's reading
        await run()                  every project's repositories, `workers` at a time, in order
        prefer(path) -> bool         the user expanded/picked it: read it now, ahead of the queue
        await want(path) -> list[RepositoryInfo] | None      that read's result (no second request)
        is_read(path) / done / total / running
        repositories() -> list[RepositoryInfo]    read so far, then hand-added paths not listed
        take_new() -> list[RepositoryInfo]        arrived since the last call (table batches)
        update(path, repos) ; add_manual(path)    a deliberate re-read; a path added by hand

Deploy tokens and anonymous access never reach the API: the window lists the catalog instead, or
offers "Add repository path…" where the catalog is refused. The API client is the session's one
`GitLabAPI` (on the I/O loop); it closes with the session. Plain async code, no widgets: the window runs it in its task slots.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.sizes import GitLabSizes, repository_sizes
from regview.core.model import RepositoryInfo
from regview.services.sessions import RegistrySession, SessionManager


@dataclass(frozen=True, slots=True)
class GitLabProject:
    id: int
    path: str  # path_with_namespace, e.g. acme/webshop
    namespace: str  # namespace.full_path: the group (or user) it lives in
    visibility: str = ""
    registry_access: str = ""  # container_registry_access_level: enabled, private, disabled

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> GitLabProject | None:
        path = obj.get("path_with_namespace")
        pid = obj.get("id")
        if not isinstance(path, str) or not path or not isinstance(pid, int):
            return None
        ns = obj.get("namespace")
        namespace = ns.get("full_path") if isinstance(ns, dict) else None
        if not isinstance(namespace, str) or not namespace:
            namespace = path.rsplit("/", 1)[0] if "/" in path else ""
        return cls(
            id=pid,
            path=path,
            namespace=namespace,
            visibility=str(obj.get("visibility") or ""),
            registry_access=str(obj.get("container_registry_access_level") or ""),
        )


class GitLabBrowser:
    def __init__(self, sessions: SessionManager) -> None:
        self.sessions = sessions

    async def uses_api(self, profile: str) -> bool:
        session = await self.sessions.open(profile)
        return _can_use_api(session)

    async def _api(self, profile: str) -> GitLabAPI:
        """The session's GitLab API client (one per profile, on the I/O loop)."""
        session = await self.sessions.open(profile)
        return await session.gitlab_api()

    async def repository_sizes(
        self, profile: str, repos: Sequence[RepositoryInfo], on_size: Callable[[str, int], None]
    ) -> GitLabSizes:
        """GitLab's own size of these repositories, where its API has one (`on_size` as each
        arrives); nothing is asked when the profile cannot call the API."""
        if not await self.uses_api(profile):
            return GitLabSizes()
        return await repository_sizes(await self._api(profile), repos, on_size=on_size)

    async def projects(self, profile: str) -> list[GitLabProject]:
        api = await self._api(profile)
        found = (GitLabProject.from_json(obj) for obj in await api.projects(membership=True))
        return sorted((p for p in found if p is not None), key=lambda p: p.path.lower())

    async def project_repositories(
        self, profile: str, project: GitLabProject
    ) -> list[RepositoryInfo]:
        if project.registry_access == "disabled":
            return []
        api = await self._api(profile)
        repos = await api.project_repositories(project.id)
        return sorted(repos, key=lambda r: r.path.lower())


class ProjectReader:
    """One load of the GitLab tree: every project's repositories, `workers` requests at a time in
    tree order, except that `prefer(path)` starts a project at once, beside the workers (the user
    expanded or picked it and should not wait behind 500 others). Each project is read at most once
    per load; the read function handles the errors it can explain and returns [] for them.

    Hand-added paths (profile.repositories, for deploy tokens) join the listing unless the API
    lists them too. Owned by one task (`run()`): cancelling it cancels every read.
    """

    def __init__(
        self,
        projects: Sequence[GitLabProject],
        read: Callable[[GitLabProject], Awaitable[list[RepositoryInfo]]],
        *,
        manual: Iterable[str] = (),
        workers: int = 4,
    ) -> None:
        self.projects = {p.path: p for p in projects}
        self._order = list(projects)
        self._queue = deque(projects)
        self._read_fn = read
        self.manual = list(dict.fromkeys(manual))
        self.workers = max(1, workers)
        self._results: dict[str, list[RepositoryInfo]] = {}
        self._futures: dict[str, asyncio.Future[list[RepositoryInfo] | None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._new: list[RepositoryInfo] = []
        self.finished = False

    @property
    def running(self) -> bool:
        """Until the load ended (read everything, or was cancelled)."""
        return not self.finished

    @property
    def total(self) -> int:
        return len(self.projects)

    @property
    def done(self) -> int:
        return sum(1 for p in self._results if p in self.projects)

    def is_read(self, path: str) -> bool:
        return path in self._results

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for _ in range(min(self.workers, len(self._queue))):
                    group.create_task(self._worker())
        finally:
            self._group = None
            self.finished = True
            for fut in self._futures.values():
                if not fut.done():
                    fut.set_result(None)  # cancelled: a waiting `want` gets None

    async def _worker(self) -> None:
        while self._queue:
            project = self._queue.popleft()
            if project.path not in self._futures:
                await self._read(project, self._begin(project))

    def _begin(self, project: GitLabProject) -> asyncio.Future[list[RepositoryInfo] | None]:
        # registered before the read starts, so neither a worker nor `prefer` starts it again
        fut: asyncio.Future[list[RepositoryInfo] | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._futures[project.path] = fut
        return fut

    async def _read(
        self, project: GitLabProject, fut: asyncio.Future[list[RepositoryInfo] | None]
    ) -> None:
        try:
            repos = await self._read_fn(project)
        except BaseException:
            if not fut.done():
                fut.set_result(None)
            raise
        self._results[project.path] = repos
        self._new.extend(repos)
        if not fut.done():
            fut.set_result(repos)

    def prefer(self, path: str) -> bool:
        """Read this project now if nobody has started it yet; True if a read was started/queued."""
        project = self.projects.get(path)
        if project is None or path in self._futures or self.finished:
            return False
        if self._group is None:  # not running yet: first in the queue
            self._queue.appendleft(project)
            return True
        fut = self._begin(project)
        try:
            self._group.create_task(self._read(project, fut))
        except RuntimeError:  # the load is shutting down (a bug in another read)
            del self._futures[path]
            fut.set_result(None)
            return False
        return True

    async def want(self, path: str) -> list[RepositoryInfo] | None:
        """This project's repositories from this load, read now if the queue has not reached
        it; None if the load ended without reading it."""
        if path in self._results:
            return self._results[path]
        self.prefer(path)
        fut = self._futures.get(path)
        if fut is None:
            return None
        return await asyncio.shield(fut)  # a cancelled caller must not cancel the shared read

    def take_new(self) -> list[RepositoryInfo]:
        new, self._new = self._new, []
        return new

    def update(self, path: str, repos: list[RepositoryInfo]) -> None:
        """The result of a deliberate re-read (the user picked the project again)."""
        self._results[path] = repos

    def add_manual(self, path: str) -> None:
        if path not in self.manual:
            self.manual.append(path)

    def repositories(self) -> list[RepositoryInfo]:
        read = [r for p in self._order for r in self._results.get(p.path, ())]
        listed = {r.path for r in read}
        return read + [RepositoryInfo(p) for p in self.manual if p not in listed]


def _can_use_api(session: RegistrySession) -> bool:
    creds = session.credentials
    return bool(session.profile.api_url) and creds is not None and creds.can_call_gitlab_api
