"""The GitLab side of browsing: a registry's groups → projects → repositories through the REST API.

    GitLabBrowser(sessions)
        await uses_api(profile) -> bool        a confirmed `api_url` and a credential that may
                                               call the API (personal, project, group, job token)
        await projects(profile) -> list[GitLabProject]        the token user's projects (membership)
        await project_repositories(profile, project) -> list[RepositoryInfo]
                                               with GitLab's status (delete_scheduled…), tag count,
                                               created

Deploy tokens and anonymous access never reach the API: the window lists the catalog instead, or
offers "Add repository path…" where the catalog is refused. One `GitLabAPI` per open session; it
closes with the session. Plain async code, no widgets: the window runs it in its task slots.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from regview.core.gitlab import GitLabAPI
from regview.core.model import RepositoryInfo
from regview.ui.registry_session import RegistrySession, SessionManager


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
        self._apis: dict[int, GitLabAPI] = {}

    async def uses_api(self, profile: str) -> bool:
        session = await self.sessions.open(profile)
        return _can_use_api(session)

    async def _api(self, profile: str) -> GitLabAPI:
        session = await self.sessions.open(profile)
        key = id(session)
        api = self._apis.get(key)
        if api is None:
            endpoint = session.endpoint
            api = GitLabAPI(
                session.profile.api_url,
                session.credentials,
                insecure=endpoint.insecure,
                ca_file=endpoint.ca_file,
            )
            self._apis[key] = api
            session.add_closer(functools.partial(self._forget, key))
        return api

    async def _forget(self, key: int) -> None:
        api = self._apis.pop(key, None)
        if api is not None:
            await api.aclose()

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


def _can_use_api(session: RegistrySession) -> bool:
    creds = session.credentials
    return bool(session.profile.api_url) and creds is not None and creds.can_call_gitlab_api
