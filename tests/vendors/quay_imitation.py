"""A Quay imitation (API v1) over the embedded registry, written from Red Hat Quay's API
reference (listRepoTags, deleteFullTag, restoreTag, getRepo) and, where it is silent, from Quay's
own handlers (`endpoints/api/tag.py`, `endpoints/exception.py`, `data/model/oci/tag.py`,
`endpoints/v2/manifest.py`).

    quay = Quay(upstream_url)
    quay.add_user("alice", {"org/app": "admin"})
    token = quay.oauth_token("alice", {"repo:read", "repo:write"})
    quay.add_robot("org+ci", "robot-token", {"org/app": "write"})
    with serve_asgi(quay.app()) as url: ...
    quay.advance(seconds)             the clock moves on (the time-machine window runs out)

What it answers:
- `/v2/…` from its own tag history (vendor_front); token realm `/v2/auth` (service = the host).
  Logins: `$oauthtoken` + an OAuth token, or a robot `namespace+name` + its token. `DELETE
  /v2/<repo>/manifests/<tag>` removes that tag only; by digest, every tag on the manifest.
- `GET /api/v1/repository/{ns}/{repo}/tag/?onlyActiveTags=&page=&limit=&specificTag=` →
  `{"tags": [...], "page": n, "has_additional": bool}`, newest start first then by name, at most
  100 per page (default 50); each tag `name, reversion, start_ts, end_ts, manifest_digest,
  is_manifest_list, size, last_modified, expiration, immutable`. Without onlyActiveTags the
  history is listed too: deleted tags (with end_ts) inside the time-machine window.
- `DELETE /api/v1/repository/{ns}/{repo}/tag/{tag}` → 204 (repo:write); an immutable tag → 409.
- `POST /api/v1/repository/{ns}/{repo}/tag/{tag}/restore {"manifest_digest"}` → 200 `{}`
  (repo:write); the manifest gone (outside the window) → 404.
- `GET /api/v1/repository/{ns}/{repo}` (`tag_expiration_s`, `can_write`, `can_admin`).
- Errors in Quay's problem+json shape: `{"detail","error_message","error_type","title","type",
  "status"}` — 401 invalid_token without a usable token, 403 insufficient_scope when the token's
  scopes (repo:read / repo:write / repo:admin) or the user's role do not allow it.
The API takes OAuth tokens only (`Authorization: Bearer`); robot tokens work on `/v2` only.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from vendor_front import (
    Grant,
    Repo,
    Store,
    TagRow,
    Throttle,
    TokenBook,
    V2Front,
    parse_scopes,
    v2_error,
)

LEVELS = {"read": 1, "write": 2, "admin": 3}
SCOPE_LEVEL = {"repo:read": 1, "repo:write": 2, "repo:admin": 3}
DEFAULT_WINDOW = 1209600  # two weeks: Quay's default time-machine window (tag_expiration_s)


@dataclass
class Account:
    name: str
    roles: dict[str, str]  # repository "ns/name" → read | write | admin
    robot_token: str = ""


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def problem(request: Request, status: int, error_type: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "detail": detail,
            "error_message": detail,
            "error_type": error_type,
            "title": error_type,
            "type": f"{str(request.base_url).rstrip('/')}/api/v1/error/{error_type}",
            "status": status,
        },
        status_code=status,
        media_type="application/problem+json",
    )


class Quay:
    def __init__(self, upstream: str, *, window: int = DEFAULT_WINDOW) -> None:
        self.clock = Clock()
        self.store = Store(self.clock)
        self.tokens = TokenBook()
        self.accounts: dict[str, Account] = {}
        self.oauth: dict[str, tuple[str, frozenset[str]]] = {}  # token → (user, scopes)
        self.public: set[str] = set()
        self.window = window
        self.front = V2Front(self.store, upstream, self, self.tokens)
        #: Quay answers 429 with Retry-After and a text body (endpoints/decorated.py; quay.io
        #: rate-limits per address in front of the app, in no documented shape)
        self.throttle = Throttle(
            "/api/",
            lambda: Response("Too many requests", status_code=429, headers={"Retry-After": "1"}),
        )

    # -- set-up by the test ------------------------------------------------------------------

    def add_user(self, name: str, roles: dict[str, str]) -> None:
        self.accounts[name] = Account(name, roles)

    def oauth_token(self, user: str, scopes: set[str]) -> str:
        token = base64.urlsafe_b64encode(
            f"{user}:{sorted(scopes)}:{len(self.oauth)}".encode()
        ).decode()
        self.oauth[token] = (user, frozenset(scopes))
        return token

    def add_robot(self, name: str, token: str, roles: dict[str, str]) -> None:
        assert "+" in name, "Quay robot accounts are named namespace+name"
        self.accounts[name] = Account(name, roles, robot_token=token)

    def make_immutable(self, repository: str, tag: str) -> None:
        with self.store.lock:
            repo = self.store.repo(repository)
            assert repo is not None
            repo.tags[tag].immutable = True

    def advance(self, seconds: float) -> None:
        """Move the clock on; history and manifests that fell out of the window are collected."""
        self.clock.offset += seconds
        with self.store.lock:
            for repo in self.store.repos.values():
                self._collect(repo)

    def _collect(self, repo: Repo) -> None:
        now = self.clock()
        repo.history = [
            r for r in repo.history if r.ended is not None and r.ended + self.window > now
        ]
        alive = {r.digest for r in repo.tags.values()} | {r.digest for r in repo.history}
        for digest, m in list(repo.manifests.items()):
            children = {c for c, _ in m.children}
            alive |= children if digest in alive else set()
        for digest in list(repo.manifests):
            if digest not in alive:
                del repo.manifests[digest]

    # -- who may do what ----------------------------------------------------------------------

    def level(self, user: str | None, scopes: frozenset[str] | None, repository: str) -> int:
        level = 1 if repository in self.public else 0
        if user is None or user not in self.accounts:
            return level
        role = LEVELS.get(self.accounts[user].roles.get(repository, ""), 0)
        if scopes is not None:  # an OAuth token: its scopes cap the user's role
            role = min(role, max((SCOPE_LEVEL.get(s, 0) for s in scopes), default=0))
        return max(level, role)

    # -- VendorRules for /v2 --------------------------------------------------------------------

    def challenge(self, request: Request, name: str, actions: str) -> Response:
        realm = f"{str(request.base_url).rstrip('/')}/v2/auth"
        value = f'Bearer realm="{realm}",service="{request.url.netloc}"'
        return v2_error(
            401,
            "UNAUTHORIZED",
            "access to the requested resource is not authorized",
            **{"WWW-Authenticate": value},
        )

    def check_push(self, repo: Repo, tag: str) -> Response | None:
        row = repo.tags.get(tag)
        if row is not None and row.immutable:
            return v2_error(409, "TAG_IMMUTABLE", "tag is immutable and cannot be overwritten")
        return None

    def delete_manifest(self, repo: Repo, reference: str) -> Response:
        now = self.clock()
        if reference.startswith("sha256:"):
            rows = repo.tags_on(reference)
        else:
            rows = [repo.tags[reference]] if reference in repo.tags else []
        if not rows:
            return v2_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        immutable = [r.name for r in rows if r.immutable]
        if immutable:
            return v2_error(409, "TAG_IMMUTABLE", f"tag '{immutable[0]}' is immutable")
        for row in rows:
            repo.end_tag(row.name, now)
        return Response(status_code=202)

    def visible(self, repo: Repo, digest: str) -> bool:
        """Quay's lookup_manifest without allow_dead: a manifest a live tag points at, or a
        child of one; a manifest only deleted tags point at is not found."""
        live = {t.digest for t in repo.tags.values()}
        if digest in live:
            return True
        return any(p.digest in live for p in repo.parents_of(digest))

    def may_catalog(self, grant: Grant | None, name: str) -> bool:
        return grant is not None and bool(grant.access.get(name))

    async def token(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        user: str | None = None
        scopes: frozenset[str] | None = None
        if header.lower().startswith("basic "):
            name, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            if name == "$oauthtoken" and secret in self.oauth:
                user, scopes = self.oauth[secret]
            elif (
                name in self.accounts
                and self.accounts[name].robot_token
                and self.accounts[name].robot_token == secret
            ):
                user = name
            else:
                return JSONResponse({"detail": "Invalid username or password"}, status_code=401)
        access: dict[str, frozenset[str]] = {}
        for repository, actions in parse_scopes(request.query_params.getlist("scope")).items():
            level = self.level(user, scopes, repository)
            ok = {
                a
                for a in actions
                if (a == "pull" and level >= 1) or (a in ("push", "delete", "*") and level >= 2)
            }
            access[repository] = frozenset(ok)
        token = self.tokens.issue(Grant(user or "", access))
        return JSONResponse({"token": token})

    # -- the API ------------------------------------------------------------------------------

    def _caller(self, request: Request) -> tuple[str, frozenset[str]] | None:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return self.oauth.get(header[7:].strip())
        return None

    def _require(self, request: Request, repository: str, need: int) -> Response | None:
        caller = self._caller(request)
        if request.headers.get("Authorization") and caller is None:
            return problem(request, 401, "invalid_token", "Requires authentication")
        user, scopes = caller if caller else (None, None)
        if self.level(user, scopes, repository) >= need:
            return None
        if caller is None:
            return problem(request, 401, "invalid_token", "Requires authentication")
        return problem(request, 403, "insufficient_scope", "Unauthorized")

    def _tag_json(self, row: TagRow, repo: Repo) -> dict[str, Any]:
        manifest = repo.manifests.get(row.digest)
        is_list = bool(manifest and manifest.is_index)
        out: dict[str, Any] = {
            "name": row.name,
            "reversion": row.reversion,
            "immutable": row.immutable,
        }
        out["start_ts"] = int(row.pushed)
        if row.ended is not None:
            out["end_ts"] = int(row.ended)
        out["manifest_digest"] = row.digest
        out["is_manifest_list"] = is_list
        size = None
        if manifest is not None and not is_list:
            size = manifest.size - len(manifest.body) - int(_config_size(manifest.body))
        out["size"] = size
        out["last_modified"] = formatdate(int(row.pushed), usegmt=False).replace("+0000", "-0000")
        if row.ended is not None:
            out["expiration"] = formatdate(int(row.ended)).replace("+0000", "-0000")
        return out

    async def list_tags(self, request: Request) -> Response:
        repository = f"{request.path_params['ns']}/{request.path_params['repo']}"
        refused = self._require(request, repository, 1)
        if refused:
            return refused
        q = request.query_params
        try:
            page = max(1, int(q.get("page", "1")))
            limit = min(100, max(1, int(q.get("limit", "50"))))
        except ValueError:
            return problem(request, 400, "invalid_request", "page and limit must be integers")
        active_only = q.get("onlyActiveTags", "false").lower() in ("true", "1", "yes")
        specific = q.get("specificTag", "")
        with self.store.lock:
            repo = self.store.repo(repository)
            if repo is None:
                return problem(request, 404, "not_found", "Not Found")
            self._collect(repo)
            rows = list(repo.tags.values()) + ([] if active_only else list(repo.history))
            if specific:
                rows = [r for r in rows if r.name == specific]
            rows.sort(key=lambda r: r.name)
            rows.sort(key=lambda r: r.pushed, reverse=True)
            chunk = rows[(page - 1) * limit : page * limit]
            body = [self._tag_json(r, repo) for r in chunk]
        return JSONResponse(
            {"tags": body, "page": page, "has_additional": len(rows) > page * limit}
        )

    async def delete_tag(self, request: Request) -> Response:
        repository = f"{request.path_params['ns']}/{request.path_params['repo']}"
        refused = self._require(request, repository, 2)
        if refused:
            return refused
        tag = request.path_params["tag"]
        with self.store.lock:
            repo = self.store.repo(repository)
            if repo is None or tag not in repo.tags:
                return problem(request, 404, "not_found", "Not Found")
            if repo.tags[tag].immutable:
                return problem(
                    request, 409, "tag_immutable", f"Cannot delete immutable tag '{tag}'"
                )
            repo.end_tag(tag, self.clock())
        return Response(status_code=204)

    async def restore_tag(self, request: Request) -> Response:
        repository = f"{request.path_params['ns']}/{request.path_params['repo']}"
        refused = self._require(request, repository, 2)
        if refused:
            return refused
        tag = request.path_params["tag"]
        try:
            body = await request.json()
        except ValueError:
            return problem(request, 400, "invalid_request", "Missing JSON body")
        digest = body.get("manifest_digest") if isinstance(body, dict) else None
        if not digest:
            return problem(request, 400, "invalid_request", "Missing manifest_digest")
        with self.store.lock:
            repo = self.store.repo(repository)
            if repo is None:
                return problem(request, 404, "not_found", "Not Found")
            self._collect(repo)
            if digest not in repo.manifests:
                return problem(request, 404, "not_found", "Not Found")
            current = repo.tags.get(tag)
            if current is not None and current.immutable:
                return problem(
                    request, 409, "tag_immutable", f"Cannot restore immutable tag '{tag}'"
                )
            self.store.set_tag(repo, tag, digest, reversion=True)
        return JSONResponse({})

    async def get_repo(self, request: Request) -> Response:
        repository = f"{request.path_params['ns']}/{request.path_params['repo']}"
        refused = self._require(request, repository, 1)
        if refused:
            return refused
        caller = self._caller(request)
        user, scopes = caller if caller else (None, None)
        level = self.level(user, scopes, repository)
        with self.store.lock:
            if self.store.repo(repository) is None:
                return problem(request, 404, "not_found", "Not Found")
        ns, name = repository.split("/", 1)
        return JSONResponse(
            {
                "namespace": ns,
                "name": name,
                "kind": "image",
                "description": None,
                "is_public": repository in self.public,
                "is_organization": True,
                "is_starred": False,
                "tag_expiration_s": self.window,
                "state": "NORMAL",
                "can_write": level >= 2,
                "can_admin": level >= 3,
            }
        )

    def app(self) -> Any:
        base = "/api/v1/repository/{ns}/{repo}"
        routes = [
            Route("/v2/auth", self.token, methods=["GET"]),
            Route(base, self.get_repo, methods=["GET"]),
            Route(base + "/tag/", self.list_tags, methods=["GET"]),
            Route(base + "/tag/{tag}", self.delete_tag, methods=["DELETE"]),
            Route(base + "/tag/{tag}/restore", self.restore_tag, methods=["POST"]),
            *self.front.routes(),
        ]
        return self.throttle.wrap(Starlette(routes=routes, lifespan=self.front.lifespan))


def _config_size(body: bytes) -> int:
    """Quay's tag `size` is the compressed layers only, without the config blob."""
    import json

    try:
        return int(json.loads(body).get("config", {}).get("size", 0))
    except (ValueError, AttributeError):
        return 0
