"""GitLab API handlers for the tags of a container repository: list (offset or keyset), details,
delete one, and the once-an-hour bulk delete by name patterns."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from regview.server.gitlab.policy import CleanupRules, InvalidRule
from regview.server.gitlab.rest.base import ApiContext
from regview.server.gitlab.rest.views import (
    BULK_ONCE_AN_HOUR,
    Call,
    bad_request,
    int_param,
    keyset,
    not_found,
    paginate,
    param_error,
    tag_details_json,
    tag_json,
)
from regview.server.gitlab.service import RepoView


class TagHandlers:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def list_tags(self, call: Call) -> Response:
        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            project = self.ctx.project(call, call.segments[1])
            self.ctx.require_registry_read(call, project)
            view = self.ctx.repo_in_project(call, project, call.segments[4])
            records = self.ctx.service.tags(view.repo.path)
            if call.params.get("pagination") == "keyset":
                return keyset(call, view.repo.path, records)
            chunk, headers = paginate(call, records)
            return [tag_json(call, view.repo.path, t) for t in chunk], headers

        body, headers = await self.ctx.run(work)
        return JSONResponse(body, headers=headers)

    async def tag_details(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            project = self.ctx.project(call, call.segments[1])
            self.ctx.require_registry_read(call, project)
            view = self.ctx.repo_in_project(call, project, call.segments[4])
            name = call.segments[6]
            for tag in self.ctx.service.tags(view.repo.path):
                if tag.name == name:
                    return tag_details_json(call, view.repo.path, tag)
            raise not_found("Tag")

        return JSONResponse(await self.ctx.run(work))

    async def delete_tag(self, call: Call) -> Response:
        def work() -> None:
            project = self.ctx.project(call, call.segments[1])
            self.ctx.require_destroy(call, project)
            view = self.ctx.repo_in_project(call, project, call.segments[4])
            if not self.ctx.service.delete_tag(view.repo.path, call.segments[6]):
                raise not_found("Tag")

        await self.ctx.run(work)
        return Response(status_code=200)

    async def bulk_delete(self, call: Call) -> Response:
        def work() -> tuple[RepoView, CleanupRules]:
            project = self.ctx.project(call, call.segments[1])
            self.ctx.require_destroy(call, project)
            view = self.ctx.repo_in_project(call, project, call.segments[4])
            p = call.params
            delete = p.get("name_regex_delete") or p.get("name_regex")
            if not delete:
                raise param_error(
                    "name_regex, name_regex_delete are missing, at least one parameter must be "
                    "provided"
                )
            keep_n = int_param(p, "keep_n")
            rules = CleanupRules(
                name_regex_delete=str(delete),
                name_regex_keep=str(p["name_regex_keep"]) if p.get("name_regex_keep") else None,
                keep_n=keep_n,
                older_than=str(p["older_than"]) if p.get("older_than") else None,
            )
            try:
                rules.check()
            except InvalidRule as exc:
                raise param_error(str(exc)) from None
            if not self.ctx.service.claim_bulk_delete(view.repo.id):
                raise bad_request(BULK_ONCE_AN_HOUR)
            return view, rules

        view, rules = await self.ctx.run(work)
        path = view.repo.path
        self.ctx.service.schedule(
            f"cleanup-tags-{view.repo.id}", lambda: self.ctx.service.cleanup(path, rules)
        )
        return Response(status_code=202)
