"""The REST API subset under `/api/v4`: authentication and routing to the handlers.

Handlers live in `gitlab.rest.projects`, `gitlab.rest.repositories` and `gitlab.rest.tags`; JSON
shapes, errors and pagination in `gitlab.rest.views`. Field names, pagination and errors are
GitLab's:

    GET    /version
    GET    /projects                                      ?membership=&search=, paged
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

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regview.log import get_logger
from regview.server.gitlab import perms
from regview.server.gitlab.perms import ApiAccess, TokenKind
from regview.server.gitlab.records import Identity
from regview.server.gitlab.rest.base import ApiContext
from regview.server.gitlab.rest.projects import ProjectHandlers
from regview.server.gitlab.rest.repositories import RepositoryHandlers
from regview.server.gitlab.rest.tags import TagHandlers
from regview.server.gitlab.rest.views import (
    BULK_ONCE_AN_HOUR,
    GITLAB_VERSION,
    UNAUTHORIZED,
    ApiError,
    Call,
    insufficient_scope,
    param_error,
)
from regview.server.gitlab.service import GitLabService
from regview.server.v2.bodies import BodyTimeout, BodyTooLarge, read_capped
from regview.spec.jsondoc import JSONDocumentError, parse_json

__all__ = ["BULK_ONCE_AN_HOUR", "GITLAB_VERSION", "ApiError", "Call", "GitLabApi"]

log = get_logger("server.gitlab.api")

#: REST bodies are a few settings; nothing legitimate comes near this.
MAX_BODY = 1024 * 1024


class GitLabApi:
    """`/api/v4`: authenticates, routes, reads bodies and turns errors into GitLab's JSON; the
    handler groups (projects, repositories, tags) share one `ApiContext`."""

    def __init__(self, service: GitLabService, *, public_url: str | None = None) -> None:
        self.ctx = ApiContext(service, public_url=public_url)
        self.service = service
        self.store = service.store
        self.public_url = public_url
        self.projects = ProjectHandlers(self.ctx)
        self.repositories = RepositoryHandlers(self.ctx)
        self.tags = TagHandlers(self.ctx)

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
        try:
            # Credentials, route and API access are decided from the headers alone: a caller who
            # may not write never gets the server to read (and hold) a body.
            identity = await anyio.to_thread.run_sync(self._authenticate, request)
            call = Call(request, segments, params, identity, path, self.public_url)
            handler = self._route(request.method, segments)
            if handler is None:
                raise ApiError(404, {"error": "404 Not Found"})
            self._check_api_access(call)
            if request.method in ("PUT", "POST", "DELETE"):
                params.update(await self._body_params(request))
            return await handler(call)
        except ApiError as exc:
            return JSONResponse(exc.body, exc.status)
        except BodyTooLarge as exc:
            return JSONResponse(
                {"message": f"413 Request Entity Too Large - {exc}"},
                413,
                headers={"Connection": "close"},
            )
        except BodyTimeout as exc:
            return JSONResponse(
                {"message": f"408 Request Timeout - {exc}"}, 408, headers={"Connection": "close"}
            )
        except Exception:
            # A bug: answered here (logged with its traceback), not by Starlette's error
            # middleware, whose re-raise makes uvicorn reset the client's connection.
            log.exception("%s %s failed", request.method, path)
            return JSONResponse({"message": "500 Internal Server Error"}, 500)

    async def _body_params(self, request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "")
        body = await read_capped(request, MAX_BODY)
        if not body:
            return {}
        if ctype.startswith("application/json"):
            try:
                data = parse_json(body, what="request body")
            except JSONDocumentError as exc:
                raise param_error(str(exc)) from None
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
            table = {("GET",): self.projects.version}
        elif seg == ["projects"]:
            table = {("GET",): self.projects.list_projects}
        elif n == 2 and seg[0] == "projects":
            table = {("GET",): self.projects.get_project, ("PUT",): self.projects.put_project}
        elif n == 4 and seg[0] == "projects" and seg[2:] == ["registry", "repositories"]:
            table = {("GET",): self.repositories.project_repositories}
        elif n == 4 and seg[0] == "groups" and seg[2:] == ["registry", "repositories"]:
            table = {("GET",): self.repositories.group_repositories}
        elif n == 3 and seg[:2] == ["registry", "repositories"]:
            table = {("GET",): self.repositories.single_repository}
        elif n == 5 and seg[0] == "projects" and seg[2:4] == ["registry", "repositories"]:
            table = {("DELETE",): self.repositories.delete_repository}
        elif n in (6, 7) and seg[0] == "projects" and seg[2:4] == ["registry", "repositories"]:
            if seg[5] == "tags" and n == 6:
                table = {("GET",): self.tags.list_tags, ("DELETE",): self.tags.bulk_delete}
            elif seg[5] == "tags":
                table = {("GET",): self.tags.tag_details, ("DELETE",): self.tags.delete_tag}
        for methods, handler in table.items():
            if method in methods:
                return handler
        return None
