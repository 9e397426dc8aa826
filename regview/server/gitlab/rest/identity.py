"""Who a token is, as GitLab answers it: the token's user and the token's own record.

    GET /api/v4/user                            the token's user (GitLab's fields); needs api or
                                                read_api; CI job tokens have no user here (401)
    GET /api/v4/personal_access_tokens/self     the token itself (GitLab 15.5+): id, name,
                                                revoked, created_at, scopes, user_id,
                                                last_used_at, active, expires_at (YYYY-MM-DD);
                                                any scope; personal, project and group tokens
    GET /api/v4/personal_access_tokens/:id      the same for one of the caller's own tokens
                                                (an administrator sees every one); else 404

An expired or revoked token gets GitLab's 401 body (`invalid_token`, "Token has expired.") so a
client can tell a dead token from a wrong one. The routes are registered ahead of the rest of
`/api/v4` (`gitlab.app`); everything else about the API lives in `gitlab.rest.api`.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regview.server.gitlab import perms
from regview.server.gitlab.perms import ApiAccess, TokenKind
from regview.server.gitlab.records import Identity, NotFound, Token, iso, parse_time
from regview.server.gitlab.rest.api import GitLabApi
from regview.server.gitlab.rest.views import UNAUTHORIZED, ApiError, insufficient_scope

_USER_TOKENS = (TokenKind.PERSONAL, TokenKind.PROJECT, TokenKind.GROUP)
_NOT_FOUND = ApiError(404, {"message": "404 Not Found"})


def _dead(token: Token) -> ApiError:
    """GitLab's answer to a token that exists but no longer works."""
    said = (
        "Token has expired."
        if not token.revoked
        else ("Token was revoked. You have to re-authorize from the user.")
    )
    return ApiError(401, {"error": "invalid_token", "error_description": said})


class IdentityApi:
    """The three identity routes of the embedded GitLab, over the API's store and sign-in."""

    def __init__(self, api: GitLabApi, base_url: str = "") -> None:
        self.api = api
        self.store = api.store
        self.base_url = base_url.rstrip("/")

    def routes(self) -> list[Route]:
        return [
            Route("/api/v4/user", self._wrap(self._user), methods=["GET"]),
            Route("/api/v4/personal_access_tokens/self", self._wrap(self._self), methods=["GET"]),
            Route(
                "/api/v4/personal_access_tokens/{token_id}",
                self._wrap(self._by_id),
                methods=["GET"],
            ),
        ]

    def _wrap(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                identity = await anyio.to_thread.run_sync(self._identify, request)
                body = await anyio.to_thread.run_sync(handler, request, identity)
            except ApiError as exc:
                return JSONResponse(exc.body, exc.status)
            return JSONResponse(body)

        return endpoint

    def _identify(self, request: Request) -> Identity:
        secret = _presented_secret(request)
        if secret is not None:
            token = self.store.find_token(secret)
            if token is not None and not token.active() and token.kind in _USER_TOKENS:
                raise _dead(token)
        identity = self.api._authenticate(request)
        if identity.token is None or identity.token.kind not in _USER_TOKENS:
            raise UNAUTHORIZED  # anonymous; CI job tokens have no user or token record here
        return identity

    # --- handlers (worker thread: they read the database) ----------------------------------

    def _user(self, request: Request, identity: Identity) -> dict[str, Any]:
        if perms.api_access(identity.caller) is ApiAccess.NONE or not (
            identity.caller.scopes & {"api", "read_api"}
        ):
            raise insufficient_scope("api read_api read_user")
        user = identity.user
        assert user is not None  # user tokens always have one
        created = self._created("users", user.id)
        base = self.base_url or str(request.base_url).rstrip("/")
        body: dict[str, Any] = {
            "id": user.id,
            "username": user.username,
            "name": user.username.replace("_", " ").title() if not user.bot else user.username,
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{base}/{user.username}",
            "created_at": created,
            "bot": user.bot,
            "public_email": None,
        }
        if user.admin:
            body["is_admin"] = True
        return body

    def _self(self, _request: Request, identity: Identity) -> dict[str, Any]:
        assert identity.token is not None
        return self._record(identity.token)

    def _by_id(self, request: Request, identity: Identity) -> dict[str, Any]:
        assert identity.token is not None
        try:
            wanted = int(request.path_params["token_id"])
        except ValueError:
            raise _NOT_FOUND from None
        if wanted != identity.token.id:
            access = perms.api_access(identity.caller)
            if access is ApiAccess.NONE or not identity.caller.scopes & {"api", "read_api"}:
                raise insufficient_scope("api read_api")
        try:
            token = self.store.token(wanted)
        except NotFound:
            raise _NOT_FOUND from None
        admin = identity.user is not None and identity.user.admin
        if token.kind not in _USER_TOKENS or (
            token.user_id != identity.token.user_id and not admin
        ):
            raise _NOT_FOUND  # GitLab does not say that someone else's token exists
        return self._record(token)

    def _record(self, token: Token) -> dict[str, Any]:
        expires = parse_time(token.expires_at).date().isoformat() if token.expires_at else None
        return {
            "id": token.id,
            "name": token.name,
            "revoked": token.revoked,
            "created_at": self._created("tokens", token.id),
            "description": None,
            "scopes": sorted(token.scopes),
            "user_id": token.user_id,
            "last_used_at": None,
            "active": token.active(),
            "expires_at": expires,
        }

    def _created(self, table: str, row_id: int) -> str | None:
        row = self.store._one(f"SELECT created_at FROM {table} WHERE id = ?", row_id)
        return iso(parse_time(row["created_at"])) if row is not None else None


def _presented_secret(request: Request) -> str | None:
    headers = request.headers
    if headers.get("private-token"):
        return headers["private-token"].strip()
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
