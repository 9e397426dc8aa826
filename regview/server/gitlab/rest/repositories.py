"""GitLab API handlers for container repositories: list by project or group, get one, delete one
(asynchronously, as GitLab does)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from regview.server.gitlab import perms
from regview.server.gitlab.perms import Visibility
from regview.server.gitlab.records import NotFound
from regview.server.gitlab.rest.base import ApiContext
from regview.server.gitlab.rest.views import Call, flag, not_found, paginate
from regview.server.gitlab.service import RepoView


class RepositoryHandlers:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def project_repositories(self, call: Call) -> Response:
        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            project = self.ctx.project(call, call.segments[1])
            self.ctx.require_registry_read(call, project)
            views, headers = paginate(call, self.ctx.service.repositories([project]))
            return [self._repo_list_json(call, v) for v in views], headers

        body, headers = await self.ctx.run(work)
        return JSONResponse(body, headers=headers)

    def _repo_list_json(self, call: Call, view: RepoView) -> dict[str, Any]:
        return self.ctx.repo_json(
            call,
            view,
            tags=flag(call.params.get("tags")),
            tags_count=flag(call.params.get("tags_count")),
        )

    async def group_repositories(self, call: Call) -> Response:
        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            try:
                group = self.ctx.store.group(call.segments[1])
            except NotFound:
                raise not_found("Group") from None
            readable = [
                p
                for p in self.ctx.store.projects_in_group(group.path)
                if perms.api_can_read_registry(call.caller, p.facts, self.ctx.role(call, p))
            ]
            if (
                not readable
                and not call.caller.authenticated
                and group.visibility is not Visibility.PUBLIC
            ):
                raise not_found("Group")
            views, headers = paginate(call, self.ctx.service.repositories(readable))
            return [self._repo_list_json(call, v) for v in views], headers

        body, headers = await self.ctx.run(work)
        return JSONResponse(body, headers=headers)

    async def single_repository(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            ref = call.segments[2]
            view = self.ctx.service.repository(int(ref)) if ref.isdigit() else None
            if view is None:
                raise not_found("Repository")
            if not perms.can_see_project(
                call.caller, view.project.facts, self.ctx.role(call, view.project)
            ):
                raise not_found("Repository")
            self.ctx.require_registry_read(call, view.project)
            return self.ctx.repo_json(
                call,
                view,
                tags=flag(call.params.get("tags")),
                tags_count=flag(call.params.get("tags_count")),
                size=flag(call.params.get("size")),
            )

        return JSONResponse(await self.ctx.run(work))

    async def delete_repository(self, call: Call) -> Response:
        def work() -> RepoView:
            project = self.ctx.project(call, call.segments[1])
            self.ctx.require_destroy(call, project)
            view = self.ctx.repo_in_project(call, project, call.segments[4])
            self.ctx.store.set_repository_status(view.repo.id, "delete_scheduled")
            return view

        view = await self.ctx.run(work)
        self.ctx.service.schedule(
            f"delete-repository-{view.repo.id}",
            lambda: self.ctx.service.delete_repository_now(view.repo),
        )
        return Response(status_code=202)
