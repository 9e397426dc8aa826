"""What every GitLab API handler shares: the service and store, project and repository look-ups
with their permission checks, and the JSON of a project and a repository. One `ApiContext`
is built by `GitLabApi` and handed to each handler group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread

from regview.server.gitlab import perms
from regview.server.gitlab.perms import RegistryAccess
from regview.server.gitlab.records import NotFound, Project
from regview.server.gitlab.rest.views import FORBIDDEN, Call, not_found, tag_json
from regview.server.gitlab.service import GitLabService, RepoView
from regview.server.registry.records import TagRecord


class ApiContext:
    """The state and look-ups the handler groups (`gitlab.rest.projects`, `_repositories`,
    `_tags`) share; `GitLabApi` owns one and routes to the groups."""

    def __init__(self, service: GitLabService, *, public_url: str | None = None) -> None:
        self.service = service
        self.store = service.store
        self.public_url = public_url

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(func, *args)

    # --- lookups --------------------------------------------------------------------------

    def project(self, call: Call, ref: str) -> Project:
        try:
            project = self.store.project(ref)
        except NotFound:
            raise not_found("Project") from None
        if not perms.can_see_project(call.caller, project.facts, self.role(call, project)):
            raise not_found("Project")
        return project

    def role(self, call: Call, project: Project) -> perms.Role:
        return self.store.role(call.user_id, project)

    def require_registry_read(self, call: Call, project: Project) -> None:
        if not perms.api_can_read_registry(call.caller, project.facts, self.role(call, project)):
            raise FORBIDDEN

    def require_destroy(self, call: Call, project: Project) -> None:
        self.require_registry_read(call, project)
        if not perms.api_can_destroy_images(call.caller, project.facts, self.role(call, project)):
            raise FORBIDDEN

    def repo_in_project(self, call: Call, project: Project, ref: str) -> RepoView:
        if not ref.isdigit():
            raise not_found("Repository")
        view = self.service.repository(int(ref))
        if view is None or view.project.id != project.id:
            raise not_found("Repository")
        return view

    # --- JSON -----------------------------------------------------------------------------

    def project_json(self, call: Call, project: Project) -> dict[str, Any]:
        namespace = project.namespace_path
        try:
            group = self.store.group(namespace)
            ns = {
                "id": group.id,
                "name": group.name,
                "path": group.name,
                "kind": "group",
                "full_path": group.path,
            }
        except NotFound:
            ns = {
                "id": 0,
                "name": namespace,
                "path": namespace,
                "kind": "user",
                "full_path": namespace,
            }
        policy = dict(project.policy)
        policy["next_run_at"] = project.policy_next_run_at
        role = self.role(call, project)
        return {
            "id": project.id,
            "description": None,
            "name": project.name,
            "name_with_namespace": " / ".join(project.path.split("/")),
            "path": project.name,
            "path_with_namespace": project.path,
            "created_at": project.created_at,
            "default_branch": "main",
            "web_url": f"{call.base}/{project.path}",
            "visibility": str(project.visibility),
            "namespace": ns,
            "container_registry_enabled": project.registry_access is not RegistryAccess.DISABLED,
            "container_registry_access_level": str(project.registry_access),
            "container_registry_image_prefix": f"{call.registry_host}/{project.path}",
            "container_expiration_policy": policy,
            "permissions": {
                "project_access": {"access_level": int(role)} if role else None,
                "group_access": None,
            },
        }

    def repo_json(
        self,
        call: Call,
        view: RepoView,
        *,
        tags: bool = False,
        tags_count: bool = False,
        size: bool = False,
        records: list[TagRecord] | None = None,
    ) -> dict[str, Any]:
        repo = view.repo
        out: dict[str, Any] = {
            "id": repo.id,
            "name": view.name,
            "path": repo.path,
            "project_id": view.project.id,
            "location": f"{call.registry_host}/{repo.path}",
            "created_at": repo.created_at,
            "cleanup_policy_started_at": repo.cleanup_policy_started_at,
            "status": repo.status,
        }
        if tags_count:
            out["tags_count"] = view.tags_count
        if tags:
            recs = records if records is not None else self.service.tags(repo.path)
            out["tags"] = [tag_json(call, repo.path, t) for t in recs]
        if size:
            out["size"] = self.service.size(repo.path)
        return out
