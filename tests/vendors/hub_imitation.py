"""Docker Hub, imitated from its public API documentation (docs.docker.com/reference/api/hub),
over regview's embedded registry.

- `/v2` of the registry behind a token realm taking a username and personal access token;
  `DELETE …/manifests/…` refused (Docker Hub's registry does not delete);
- `POST /v2/auth/token {"identifier","secret"}` -> `{"access_token": JWT}`, and the deprecated
  `POST /v2/users/login {"username","password"}` -> `{"token": JWT}`;
- `GET /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=&page=` -> `{"count","next",
  "previous","results":[tag]}`, at most 100 per page, tag objects with `name`, `digest`,
  `media_type`, `full_size`, `images` [{architecture, os, variant, digest, size, …}],
  `tag_last_pushed`, `last_updated`, `tag_status`;
- `DELETE /v2/namespaces/{ns}/repositories/{repo}/tags/{tag}` -> 204, removing that tag only;
  403 without the "Read, Write, Delete" permission (`repo:admin`) or outside the user's
  namespace; 404 for a tag that is not there;
- every API answer carries `X-RateLimit-Limit/-Remaining/-Reset`; past the limit, 429 with
  `Retry-After`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from imitation import Front, Handler, Token
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
WRITE_SCOPES = ("repo:write", "repo:admin")
DELETE_SCOPE = "repo:admin"


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fake_jwt(claims: dict[str, Any]) -> str:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.{secrets.token_urlsafe(16)}"


@dataclass
class HubImitation(Front):
    #: the limit announced in `X-RateLimit-Limit` (None: no rate-limit headers)
    rate_limit: int | None = None
    window: float = 60.0
    #: answer every Nth API request 429 (`Retry-After: 1`): the limit running out, made
    #: independent of how fast the machine is
    throttle_every: int | None = None
    #: a Hub whose namespaced tag route takes GET only: DELETE goes to the older
    #: `/v2/repositories/{ns}/{repo}/tags/{tag}/` (405 on the namespaced one)
    legacy_delete: bool = False
    #: put the PAT's scopes into the JWT (Docker Hub's documentation does not say it does)
    scopes_in_jwt: bool = False
    _jwts: dict[str, Token] = field(default_factory=dict)
    _pushed: dict[tuple[str, str, str], float] = field(default_factory=dict)
    #: (repository, tag) → when it was last pulled, as Hub's `tag_last_pulled` says (a test sets it)
    pulled: dict[tuple[str, str], float] = field(default_factory=dict)
    _calls: list[float] = field(default_factory=list)
    _rl_lock: threading.Lock = field(default_factory=threading.Lock)
    too_many: int = 0  # 429s answered

    def is_sign_in(self, method: str, path: str) -> bool:
        return path in ("/v2/auth/token", "/v2/users/login")

    def may_push(self, token: Token | None, repository: str) -> bool:
        return (
            token is not None
            and any(s in WRITE_SCOPES for s in token.scopes)
            and repository.split("/", 1)[0] == token.user
        )

    def routes(self) -> list[tuple[str, Handler, list[str]]]:
        base = "/v2/namespaces/{ns}/repositories/{repo}/tags"
        return [
            ("/v2/auth/token", self.limited(self.auth_token), ["POST"]),
            ("/v2/users/login", self.limited(self.users_login), ["POST"]),
            (base, self.limited(self.list_tags), ["GET"]),
            (base + "/{tag}", self.limited(self.tag), ["GET", "DELETE"]),
            ("/v2/repositories/{ns}/{repo}/tags/{tag}/", self.limited(self.legacy_tag), ["DELETE"]),
        ]

    # -- rate limit ------------------------------------------------------------------------
    def limited(self, handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            now = time.time()
            reset = str(int(now + self.window))
            limit = self.rate_limit
            with self._rl_lock:
                self._calls.append(now)
                n = len(self._calls)
                if self.throttle_every and n % self.throttle_every == 0:
                    self.too_many += 1
                    return JSONResponse(
                        {"message": "Too Many Requests", "errinfo": {}},
                        status_code=429,
                        headers={
                            "Retry-After": "1",
                            "X-RateLimit-Limit": str(limit or 0),
                            "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": str(int(now) + 1),
                        },
                    )
            response = await handler(request)
            if limit is not None:
                response.headers["X-RateLimit-Limit"] = str(limit)
                response.headers["X-RateLimit-Remaining"] = str(max(0, limit - n))
                response.headers["X-RateLimit-Reset"] = reset
            return response

        return run

    # -- sign-in ---------------------------------------------------------------------------
    def _issue(self, user: str, secret: str) -> str | None:
        found = self.tokens.get(secret)
        if found is None or found.user != user:
            return None
        claims: dict[str, Any] = {
            "sub": secrets.token_hex(8),
            "username": user,
            "iat": int(time.time()),
            "exp": int(time.time()) + 600,
        }
        if self.scopes_in_jwt:
            claims["scope"] = " ".join(found.scopes)
        jwt = fake_jwt(claims)
        self._jwts[jwt] = found
        return jwt

    async def auth_token(self, request: Request) -> Response:
        body = await request.json()
        jwt = self._issue(str(body.get("identifier", "")), str(body.get("secret", "")))
        if jwt is None:
            return JSONResponse(
                {"errinfo": {}, "message": "incorrect username or password"}, status_code=401
            )
        return JSONResponse({"access_token": jwt})

    async def users_login(self, request: Request) -> Response:
        body = await request.json()
        jwt = self._issue(str(body.get("username", "")), str(body.get("password", "")))
        if jwt is None:
            return JSONResponse({"detail": "Incorrect authentication credentials"}, status_code=401)
        return JSONResponse({"token": jwt})

    def bearer(self, request: Request) -> Token | None:
        header = request.headers.get("Authorization", "")
        return self._jwts.get(header[7:]) if header.lower().startswith("bearer ") else None

    # -- tags ------------------------------------------------------------------------------
    async def _tag_object(self, repository: str, name: str, n: int) -> dict[str, Any] | None:
        got = await self.manifest(repository, name)
        if got is None:
            return None
        digest, media_type, data = got
        body = json.loads(data)
        pushed = self._pushed.setdefault((repository, name, digest), time.time())
        images: list[dict[str, Any]] = []
        if media_type in INDEXES:
            for d in body.get("manifests") or []:
                child = await self.manifest(repository, d["digest"])
                size = 0
                if child is not None:
                    cb = json.loads(child[2])
                    size = cb["config"]["size"] + sum(x["size"] for x in cb.get("layers") or [])
                p = d.get("platform") or {}
                images.append(self._image(p, d["digest"], size, pushed))
        else:
            cfg_digest = body["config"]["digest"]
            r = await self.http.get(f"/v2/{repository}/blobs/{cfg_digest}")
            cfg = r.json() if r.status_code == 200 and r.content.strip() else {}
            size = body["config"]["size"] + sum(x["size"] for x in body.get("layers") or [])
            images.append(self._image(cfg, digest, size, pushed))
        return {
            "creator": 7,
            "id": n,
            "images": images,
            "last_updated": iso(pushed),
            "last_updater": 7,
            "last_updater_username": repository.split("/", 1)[0],
            "name": name,
            "repository": 1,
            "full_size": sum(i["size"] for i in images),
            "v2": True,
            "tag_status": "active",
            "tag_last_pulled": iso(self.pulled[repository, name])
            if (repository, name) in self.pulled
            else None,
            "tag_last_pushed": iso(pushed),
            "media_type": media_type,
            "content_type": "image",
            "digest": digest,
        }

    @staticmethod
    def _image(p: dict[str, Any], digest: str, size: int, pushed: float) -> dict[str, Any]:
        return {
            "architecture": p.get("architecture", ""),
            "features": "",
            "variant": p.get("variant") or None,
            "digest": digest,
            "os": p.get("os", ""),
            "os_features": "",
            "os_version": None,
            "size": size,
            "status": "active",
            "last_pulled": None,
            "last_pushed": iso(pushed),
        }

    async def list_tags(self, request: Request) -> Response:
        ns, repo = request.path_params["ns"], request.path_params["repo"]
        repository = f"{ns}/{repo}"
        try:
            page = int(request.query_params.get("page", "1"))
            size = int(request.query_params.get("page_size", "10"))
        except ValueError:
            return JSONResponse({"message": "invalid page"}, status_code=400)
        if page < 1 or not 1 <= size <= 100:
            return JSONResponse(
                {"message": "page_size must be between 1 and 100", "errinfo": {}}, status_code=400
            )
        names = sorted(await self.tags_of(repository))
        if not names:
            return JSONResponse({"message": "object not found", "errinfo": {}}, status_code=404)
        chunk = names[(page - 1) * size : page * size]
        results = [
            obj
            for i, name in enumerate(chunk)
            if (obj := await self._tag_object(repository, name, (page - 1) * size + i + 1))
        ]
        url = str(request.url.remove_query_params("page"))
        sep = "&" if "?" in url else "?"
        more = page * size < len(names)
        return JSONResponse(
            {
                "count": len(names),
                "next": f"{url}{sep}page={page + 1}" if more else None,
                "previous": f"{url}{sep}page={page - 1}" if page > 1 else None,
                "results": results,
            }
        )

    async def legacy_tag(self, request: Request) -> Response:
        if not self.legacy_delete:
            return JSONResponse({"message": "page not found", "errinfo": {}}, status_code=404)
        return await self._delete(request)

    async def tag(self, request: Request) -> Response:
        ns, repo, name = (request.path_params[k] for k in ("ns", "repo", "tag"))
        repository = f"{ns}/{repo}"
        if request.method == "DELETE" and self.legacy_delete:
            return JSONResponse({"detail": 'Method "DELETE" not allowed.'}, status_code=405)
        if request.method == "DELETE":
            return await self._delete(request)
            obj = await self._tag_object(repository, name, 1)
            if obj is None:
                return JSONResponse({"message": "object not found", "errinfo": {}}, 404)
            return JSONResponse(obj)
        raise AssertionError(request.method)

    async def _delete(self, request: Request) -> Response:
        ns, repo, name = (request.path_params[k] for k in ("ns", "repo", "tag"))
        repository = f"{ns}/{repo}"
        who = self.bearer(request)
        if who is None:
            return JSONResponse({"detail": "authentication credentials were not provided"}, 401)
        if DELETE_SCOPE not in who.scopes or ns != who.user:
            return JSONResponse(
                {"message": "access denied: insufficient scope", "errinfo": {}}, status_code=403
            )
        if name not in await self.tags_of(repository):
            return JSONResponse(
                {"message": f"tag '{name}' not found", "errinfo": {}}, status_code=404
            )
        status = await self.delete_underlying(repository, name)  # the tag only
        if status >= 300:
            return JSONResponse({"message": f"registry answered {status}"}, status_code=500)
        return Response(status_code=204)
