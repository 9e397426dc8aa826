"""GitLab API handlers for the instance and projects: `/version`, list, get and update projects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from regview.server.gitlab import perms
from regview.server.gitlab.perms import RegistryAccess, Visibility
from regview.server.gitlab.policy import next_run_after, validate_policy
from regview.server.gitlab.rest.base import ApiContext
from regview.server.gitlab.rest.views import (
    FORBIDDEN,
    GITLAB_VERSION,
    UNAUTHORIZED,
    ApiError,
    Call,
    flag,
    iso,
    paginate,
    param_error,
)


class ProjectHandlers:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def version(self, call: Call) -> Response:
        if not call.caller.authenticated:
            raise UNAUTHORIZED
        return JSONResponse({"version": GITLAB_VERSION, "revision": "regview", "enterprise": False})

    async def list_projects(self, call: Call) -> Response:
        """`GET /projects`: the projects the caller can see, ordered by id descending (GitLab's
        default); `membership=true` keeps those the caller is a member of (directly or through
        a group), `search=` filters by path."""

        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            membership = flag(call.params.get("membership"))
            if membership and not call.caller.authenticated:
                raise UNAUTHORIZED
            search = str(call.params.get("search") or "").lower()
            visible = []
            for project in reversed(self.ctx.store.projects()):
                role = self.ctx.role(call, project)
                if not perms.can_see_project(call.caller, project.facts, role):
                    continue
                if membership and not role:
                    continue
                if search and search not in project.path.lower():
                    continue
                visible.append(project)
            chunk, headers = paginate(call, visible)
            return [self.ctx.project_json(call, p) for p in chunk], headers

        body, headers = await self.ctx.run(work)
        return JSONResponse(body, headers=headers)

    async def get_project(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            return self.ctx.project_json(call, self.ctx.project(call, call.segments[1]))

        return JSONResponse(await self.ctx.run(work))

    async def put_project(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            project = self.ctx.project(call, call.segments[1])
            if not perms.api_can_admin_project(
                call.caller, project.facts, self.ctx.role(call, project)
            ):
                raise FORBIDDEN
            access = call.params.get("container_registry_access_level")
            if access is not None and (
                not isinstance(access, str) or access not in {str(a) for a in RegistryAccess}
            ):
                raise param_error("container_registry_access_level does not have a valid value")
            visibility = call.params.get("visibility")
            if visibility is not None and (
                not isinstance(visibility, str) or visibility not in {str(v) for v in Visibility}
            ):
                raise param_error("visibility does not have a valid value")
            changes = call.params.get("container_expiration_policy_attributes")
            policy = None
            next_run: str | bool | None = False
            if changes is not None:
                if not isinstance(changes, dict):
                    raise param_error("container_expiration_policy_attributes is invalid")
                try:
                    policy = validate_policy(project.policy, changes)
                except ValueError as exc:
                    raise ApiError(400, {"message": exc.args[0]}) from None
                if policy.get("enabled"):
                    if (
                        not project.policy.get("enabled")
                        or policy.get("cadence") != project.policy.get("cadence")
                        or project.policy_next_run_at is None
                    ):
                        next_run = iso(next_run_after(policy, datetime.now(UTC)))
                else:
                    next_run = None
            updated = self.ctx.store.update_project(
                project.id,
                visibility=Visibility(visibility) if visibility else None,
                registry_access=RegistryAccess(access) if access else None,
                policy=policy,
                policy_next_run_at=next_run,
            )
            return self.ctx.project_json(call, updated)

        return JSONResponse(await self.ctx.run(work))
