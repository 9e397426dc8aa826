"""The REST API subset under `/api/v4`, with GitLab's field names, pagination and errors.

    GET    /version
    GET    /projects/:id                                  (numeric id or URL-encoded path)
    PUT    /projects/:id                                  container_registry_access_level,
                                                          container_expiration_policy_attributes
    GET    /projects/:id/registry/repositories            ?tags=&tags_count=
    GET    /groups/:id/registry/repositories              ?tags=&tags_count=
    GET    /registry/repositories/:repository_id          ?tags=&tags_count=&size=
    DELETE /projects/:id/registry/repositories/:rid       202, asynchronous
    GET    /projects/:id/registry/repositories/:rid/tags  offset, or pagination=keyset
    DELETE /projects/:id/registry/repositories/:rid/tags  bulk: 202, once an hour per repository
    GET    /projects/:id/registry/repositories/:rid/tags/:tag_name
    DELETE /projects/:id/registry/repositories/:rid/tags/:tag_name

Credentials: `PRIVATE-TOKEN`, `Authorization: Bearer`, `JOB-TOKEN`. Errors are GitLab's:
`{"message": "404 Project Not Found"}`, `{"error": "... is missing"}` for bad parameters,
`{"error": "insufficient_scope", ...}` for a token whose scopes do not allow the call.

Paths arrive percent-decoded in ASGI's `path`, so routing splits `raw_path` instead: a project
id like `acme%2Fwebshop` must stay one segment.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regview.log import get_logger
from regview.server import gitlab_perms as perms
from regview.server.gitlab_api_views import (
    BULK_ONCE_AN_HOUR,
    FORBIDDEN,
    GITLAB_VERSION,
    UNAUTHORIZED,
    ApiError,
    Call,
    bad_request,
    flag,
    insufficient_scope,
    int_param,
    iso,
    keyset,
    not_found,
    paginate,
    param_error,
    tag_details_json,
    tag_json,
)
from regview.server.gitlab_perms import ApiAccess, RegistryAccess, TokenKind, Visibility
from regview.server.gitlab_policy import (
    CleanupRules,
    InvalidRule,
    next_run_after,
    validate_policy,
)
from regview.server.gitlab_records import Identity, NotFound, Project
from regview.server.gitlab_service import GitLabService, RepoView
from regview.server.registry import TagRecord

log = get_logger("server.gitlab.api")


class GitLabApi:
    def __init__(self, service: GitLabService) -> None:
        self.service = service
        self.store = service.store

    def routes(self) -> list[Route]:
        methods = ["GET", "PUT", "POST", "DELETE"]
        return [
            Route("/api/v4/{rest:path}", self.endpoint, methods=methods),
            Route("/api/v4", self.endpoint, methods=methods),
        ]

    # --- plumbing -------------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        rest = path.split("/api/v4", 1)[1].strip("/")
        segments = [unquote(s) for s in rest.split("/")] if rest else []
        params: dict[str, Any] = dict(request.query_params)
        if request.method in ("PUT", "POST", "DELETE"):
            params.update(await self._body_params(request))
        try:
            identity = await anyio.to_thread.run_sync(self._authenticate, request)
            call = Call(request, segments, params, identity, path)
            handler = self._route(request.method, segments)
            if handler is None:
                raise ApiError(404, {"error": "404 Not Found"})
            self._check_api_access(call)
            return await handler(call)
        except ApiError as exc:
            return JSONResponse(exc.body, exc.status)

    async def _body_params(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        body = await request.body()
        if not body:
            return {}
        if ctype.startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                raise param_error("the request body is not valid JSON") from None
            if not isinstance(data, dict):
                raise param_error("the request body must be a JSON object")
            return data
        if ctype.startswith("application/x-www-form-urlencoded"):
            # parsed here: Starlette's form parser needs python-multipart, which we do not ship
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise param_error("the request body is not valid UTF-8") from None
            return dict(parse_qsl(text, keep_blank_values=True))
        return {}

    def _authenticate(self, request: Request) -> Identity:
        headers = request.headers
        secret, job_header = None, False
        if headers.get("private-token"):
            secret = headers["private-token"]
        elif headers.get("job-token"):
            secret, job_header = headers["job-token"], True
        else:
            scheme, _, value = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                secret = value.strip()
        if secret is None:
            return Identity(perms.ANONYMOUS_CALLER, None, None)
        token = self.store.find_token(secret.strip())
        if token is None or not token.active() or token.kind is TokenKind.DEPLOY:
            raise UNAUTHORIZED
        if job_header != (token.kind is TokenKind.JOB):
            raise UNAUTHORIZED
        return self.store.identify(token)

    def _check_api_access(self, call: Call) -> None:
        access = perms.api_access(call.caller)
        if access is ApiAccess.NONE:
            raise insufficient_scope("api read_api")
        if access is ApiAccess.READ and call.request.method != "GET":
            if not call.caller.authenticated:
                raise UNAUTHORIZED
            raise insufficient_scope("api")

    def _route(self, method: str, seg: list[str]) -> Callable[[Call], Awaitable[Response]] | None:
        n = len(seg)
        table: dict[tuple[str, ...], Callable[[Call], Awaitable[Response]]] = {}
        if seg == ["version"]:
            table = {("GET",): self.version}
        elif n == 2 and seg[0] == "projects":
            table = {("GET",): self.get_project, ("PUT",): self.put_project}
        elif n == 4 and seg[0] == "projects" and seg[2:] == ["registry", "repositories"]:
            table = {("GET",): self.project_repositories}
        elif n == 4 and seg[0] == "groups" and seg[2:] == ["registry", "repositories"]:
            table = {("GET",): self.group_repositories}
        elif n == 3 and seg[:2] == ["registry", "repositories"]:
            table = {("GET",): self.single_repository}
        elif n == 5 and seg[0] == "projects" and seg[2:4] == ["registry", "repositories"]:
            table = {("DELETE",): self.delete_repository}
        elif n in (6, 7) and seg[0] == "projects" and seg[2:4] == ["registry", "repositories"]:
            if seg[5] == "tags" and n == 6:
                table = {("GET",): self.list_tags, ("DELETE",): self.bulk_delete}
            elif seg[5] == "tags":
                table = {("GET",): self.tag_details, ("DELETE",): self.delete_tag}
        for methods, handler in table.items():
            if method in methods:
                return handler
        return None

    async def _run(self, func: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(func, *args)

    # --- lookups --------------------------------------------------------------------------

    def _project(self, call: Call, ref: str) -> Project:
        try:
            project = self.store.project(ref)
        except NotFound:
            raise not_found("Project") from None
        if not perms.can_see_project(call.caller, project.facts, self._role(call, project)):
            raise not_found("Project")
        return project

    def _role(self, call: Call, project: Project) -> perms.Role:
        return self.store.role(call.user_id, project)

    def _require_registry_read(self, call: Call, project: Project) -> None:
        if not perms.api_can_read_registry(call.caller, project.facts, self._role(call, project)):
            raise FORBIDDEN

    def _require_destroy(self, call: Call, project: Project) -> None:
        self._require_registry_read(call, project)
        if not perms.api_can_destroy_images(call.caller, project.facts, self._role(call, project)):
            raise FORBIDDEN

    def _repo_in_project(self, call: Call, project: Project, ref: str) -> RepoView:
        if not ref.isdigit():
            raise not_found("Repository")
        view = self.service.repository(int(ref))
        if view is None or view.project.id != project.id:
            raise not_found("Repository")
        return view

    # --- JSON -----------------------------------------------------------------------------

    def _project_json(self, call: Call, project: Project) -> dict[str, Any]:
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
        role = self._role(call, project)
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

    def _repo_json(
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

    # --- pagination -----------------------------------------------------------------------

    # --- handlers -------------------------------------------------------------------------

    async def version(self, call: Call) -> Response:
        if not call.caller.authenticated:
            raise UNAUTHORIZED
        return JSONResponse({"version": GITLAB_VERSION, "revision": "regview", "enterprise": False})

    async def get_project(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            return self._project_json(call, self._project(call, call.segments[1]))

        return JSONResponse(await self._run(work))

    async def put_project(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            project = self._project(call, call.segments[1])
            if not perms.api_can_admin_project(
                call.caller, project.facts, self._role(call, project)
            ):
                raise FORBIDDEN
            access = call.params.get("container_registry_access_level")
            if access is not None and access not in {str(a) for a in RegistryAccess}:
                raise param_error("container_registry_access_level does not have a valid value")
            visibility = call.params.get("visibility")
            if visibility is not None and visibility not in {str(v) for v in Visibility}:
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
            updated = self.store.update_project(
                project.id,
                visibility=Visibility(visibility) if visibility else None,
                registry_access=RegistryAccess(access) if access else None,
                policy=policy,
                policy_next_run_at=next_run,
            )
            return self._project_json(call, updated)

        return JSONResponse(await self._run(work))

    async def project_repositories(self, call: Call) -> Response:
        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            project = self._project(call, call.segments[1])
            self._require_registry_read(call, project)
            views, headers = paginate(call, self.service.repositories([project]))
            return [self._repo_list_json(call, v) for v in views], headers

        body, headers = await self._run(work)
        return JSONResponse(body, headers=headers)

    def _repo_list_json(self, call: Call, view: RepoView) -> dict[str, Any]:
        return self._repo_json(
            call,
            view,
            tags=flag(call.params.get("tags")),
            tags_count=flag(call.params.get("tags_count")),
        )

    async def group_repositories(self, call: Call) -> Response:
        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            try:
                group = self.store.group(call.segments[1])
            except NotFound:
                raise not_found("Group") from None
            readable = [
                p
                for p in self.store.projects_in_group(group.path)
                if perms.api_can_read_registry(call.caller, p.facts, self._role(call, p))
            ]
            if (
                not readable
                and not call.caller.authenticated
                and group.visibility is not Visibility.PUBLIC
            ):
                raise not_found("Group")
            views, headers = paginate(call, self.service.repositories(readable))
            return [self._repo_list_json(call, v) for v in views], headers

        body, headers = await self._run(work)
        return JSONResponse(body, headers=headers)

    async def single_repository(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            ref = call.segments[2]
            view = self.service.repository(int(ref)) if ref.isdigit() else None
            if view is None:
                raise not_found("Repository")
            if not perms.can_see_project(
                call.caller, view.project.facts, self._role(call, view.project)
            ):
                raise not_found("Repository")
            self._require_registry_read(call, view.project)
            return self._repo_json(
                call,
                view,
                tags=flag(call.params.get("tags")),
                tags_count=flag(call.params.get("tags_count")),
                size=flag(call.params.get("size")),
            )

        return JSONResponse(await self._run(work))

    async def delete_repository(self, call: Call) -> Response:
        def work() -> RepoView:
            project = self._project(call, call.segments[1])
            self._require_destroy(call, project)
            view = self._repo_in_project(call, project, call.segments[4])
            self.store.set_repository_status(view.repo.id, "delete_scheduled")
            return view

        view = await self._run(work)
        self.service.schedule(
            f"delete-repository-{view.repo.id}",
            lambda: self.service.delete_repository_now(view.repo),
        )
        return Response(status_code=202)

    async def list_tags(self, call: Call) -> Response:
        def work() -> tuple[list[dict[str, Any]], dict[str, str]]:
            project = self._project(call, call.segments[1])
            self._require_registry_read(call, project)
            view = self._repo_in_project(call, project, call.segments[4])
            records = self.service.tags(view.repo.path)
            if call.params.get("pagination") == "keyset":
                return keyset(call, view.repo.path, records)
            chunk, headers = paginate(call, records)
            return [tag_json(call, view.repo.path, t) for t in chunk], headers

        body, headers = await self._run(work)
        return JSONResponse(body, headers=headers)

    async def tag_details(self, call: Call) -> Response:
        def work() -> dict[str, Any]:
            project = self._project(call, call.segments[1])
            self._require_registry_read(call, project)
            view = self._repo_in_project(call, project, call.segments[4])
            name = call.segments[6]
            for tag in self.service.tags(view.repo.path):
                if tag.name == name:
                    return tag_details_json(call, view.repo.path, tag)
            raise not_found("Tag")

        return JSONResponse(await self._run(work))

    async def delete_tag(self, call: Call) -> Response:
        def work() -> None:
            project = self._project(call, call.segments[1])
            self._require_destroy(call, project)
            view = self._repo_in_project(call, project, call.segments[4])
            if not self.service.delete_tag(view.repo.path, call.segments[6]):
                raise not_found("Tag")

        await self._run(work)
        return Response(status_code=200)

    async def bulk_delete(self, call: Call) -> Response:
        def work() -> tuple[RepoView, CleanupRules]:
            project = self._project(call, call.segments[1])
            self._require_destroy(call, project)
            view = self._repo_in_project(call, project, call.segments[4])
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
            if not self.service.claim_bulk_delete(view.repo.id):
                raise bad_request(BULK_ONCE_AN_HOUR)
            return view, rules

        view, rules = await self._run(work)
        path = view.repo.path
        self.service.schedule(
            f"cleanup-tags-{view.repo.id}", lambda: self.service.cleanup(path, rules)
        )
        return Response(status_code=202)
