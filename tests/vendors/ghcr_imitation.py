"""GitHub Container Registry, imitated from GitHub's REST API documentation for packages
(docs.github.com/rest/packages), over regview's embedded registry.

- `/v2` behind a token realm taking a username and personal access token (classic); DELETE
  refused (ghcr.io does not delete through `/v2`); pushes need `write:packages`;
- `GET /user` (the token's login), `GET /users/{name}` (`type`: User or Organization);
- versions of a container package under `/orgs/{org}/packages/container/{name}`,
  `/users/{user}/…` and `/user/…`: `GET …/versions?per_page=&page=&state=active|deleted`,
  Link-paged (`rel="next"`, `rel="last"`), each version `{id, name: digest, url, created_at,
  updated_at, html_url, metadata: {package_type: "container", container: {tags: […]}}}`;
  a manifest in the registry is a version (index children too, untagged);
- `DELETE …/versions/{id}` (204; needs read:packages and delete:packages, else 403; the last
  tagged version of a package cannot be deleted, 400) removes the version and every tag on it;
- `POST …/versions/{id}/restore` (204) within 30 days, tags coming back where free;
- every answer to a token: `X-OAuth-Scopes`, `X-Accepted-OAuth-Scopes`, `X-RateLimit-*`;
  errors `{"message", "documentation_url"}`.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import httpx
from imitation import Front, Handler, Token
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

DOCS = "https://docs.github.com/rest/packages/packages"
INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
RESTORE_DAYS = 30


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Version:
    id: int
    digest: str
    created: float


@dataclass
class Deleted:
    version: Version
    media_type: str
    data: bytes
    tags: list[str]
    at: float


@dataclass
class GhcrImitation(Front):
    orgs: dict[str, set[str]] = field(default_factory=dict)  # org → members with admin
    _ids: Any = field(default_factory=lambda: itertools.count(1000))
    _versions: dict[str, dict[str, Version]] = field(default_factory=dict)  # repo → digest → v
    _deleted: dict[str, dict[int, Deleted]] = field(default_factory=dict)
    #: answer this many version DELETEs 500 without doing anything (GitHub having a bad day)
    failing_deletes: int = 0

    def may_push(self, token: Token | None, repository: str) -> bool:
        return (
            token is not None
            and "write:packages" in token.scopes
            and self._admin(token, repository.split("/", 1)[0])
        )

    def _admin(self, token: Token, owner: str) -> bool:
        return token.user == owner or token.user in self.orgs.get(owner, set())

    def routes(self) -> list[tuple[str, Handler, list[str]]]:
        out: list[tuple[str, Handler, list[str]]] = [
            ("/user", self.user, ["GET"]),
            ("/users/{name}", self.users, ["GET"]),
        ]
        for prefix in ("/orgs/{owner}", "/users/{owner}", "/user"):
            base = prefix + "/packages/container/{package}/versions"
            out += [
                (base, self.list_versions, ["GET"]),
                (base + "/{id:int}", self.version, ["GET", "DELETE"]),
                (base + "/{id:int}/restore", self.restore, ["POST"]),
            ]
        return out

    # -- answers -----------------------------------------------------------------------------
    def token_of(self, request: Request) -> Token | None:
        header = request.headers.get("Authorization", "")
        for scheme in ("bearer ", "token "):
            if header.lower().startswith(scheme):
                return self.tokens.get(header[len(scheme) :])
        return None

    def answer(
        self, request: Request, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        out = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-GitHub-Media-Type": "github.v3; format=json",
            **(headers or {}),
        }
        token = self.token_of(request)
        if token is not None:
            out["X-OAuth-Scopes"] = ", ".join(token.scopes)
            out["X-Accepted-OAuth-Scopes"] = "read:packages"
        if body is None:
            return Response(status_code=status, headers=out)
        return JSONResponse(body, status_code=status, headers=out)

    def error(self, request: Request, status: int, message: str) -> Response:
        return self.answer(request, {"message": message, "documentation_url": DOCS}, status)

    def _auth(self, request: Request) -> Token | Response:
        if not request.headers.get("Authorization"):
            return self.error(request, 401, "Requires authentication")
        token = self.token_of(request)
        if token is None:
            return self.error(request, 401, "Bad credentials")
        return token

    async def user(self, request: Request) -> Response:
        token = self._auth(request)
        if isinstance(token, Response):
            return token
        return self.answer(request, {"login": token.user, "id": 1, "type": "User"})

    async def users(self, request: Request) -> Response:
        name = request.path_params["name"]
        kind = "Organization" if name in self.orgs else "User"
        return self.answer(request, {"login": name, "id": 2, "type": kind})

    def _owner(self, request: Request, token: Token) -> str:
        return str(request.path_params.get("owner") or token.user)

    def _repo(self, request: Request, token: Token) -> str:
        return f"{self._owner(request, token)}/{unquote(request.path_params['package'])}"

    # -- the versions -------------------------------------------------------------------------
    async def _sync(self, repository: str) -> tuple[dict[str, Version], dict[str, list[str]]]:
        """The package's versions (every manifest regview can see in the registry) and the
        tags on each."""
        known = self._versions.setdefault(repository, {})
        tags: dict[str, list[str]] = {}
        for tag in await self.tags_of(repository):
            got = await self.manifest(repository, tag)
            if got is None:
                continue
            digest, media_type, data = got
            tags.setdefault(digest, []).append(tag)
            self._see(repository, digest)
            if media_type in INDEXES:
                for child in json.loads(data).get("manifests") or []:
                    self._see(repository, child["digest"])
        return known, tags

    def _see(self, repository: str, digest: str) -> Version:
        known = self._versions.setdefault(repository, {})
        if digest not in known:
            known[digest] = Version(next(self._ids), digest, time.time())
        return known[digest]

    async def pushed(self, rest: str, answer: httpx.Response) -> None:
        if "/manifests/" in rest:
            repository = rest.rsplit("/manifests/", 1)[0]
            digest = answer.headers.get("Docker-Content-Digest", "")
            if digest:
                self._see(repository, digest)

    def _version_json(self, request: Request, repository: str, v: Version, tags: list[str]) -> Any:
        owner, package = repository.split("/", 1)
        return {
            "id": v.id,
            "name": v.digest,
            "url": f"{request.base_url}users/{owner}/packages/container/{quote(package, safe='')}"
            f"/versions/{v.id}",
            "package_html_url": f"https://github.com/users/{owner}/packages/container/package/{package}",
            "created_at": iso(v.created),
            "updated_at": iso(v.created),
            "html_url": f"https://github.com/users/{owner}/packages/container/{package}/{v.id}",
            "metadata": {"package_type": "container", "container": {"tags": sorted(tags)}},
        }

    async def list_versions(self, request: Request) -> Response:
        token = self._auth(request)
        if isinstance(token, Response):
            return token
        if not {"read:packages", "write:packages", "delete:packages"} & set(token.scopes):
            return self.error(
                request, 403, "You need at least read:packages scope to list packages."
            )
        repository = self._repo(request, token)
        state = request.query_params.get("state", "active")
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = min(100, int(request.query_params.get("per_page", "30")))
        except ValueError:
            return self.error(request, 422, "Invalid request.")
        if state == "deleted":
            cutoff = time.time() - RESTORE_DAYS * 86400
            items = [
                self._version_json(request, repository, d.version, [])
                for d in self._deleted.get(repository, {}).values()
                if d.at > cutoff
            ]
        else:
            known, tags = await self._sync(repository)
            if not known:
                return self.error(request, 404, "Package not found.")
            ordered = sorted(known.values(), key=lambda v: -v.id)  # newest first, as GitHub
            items = [
                self._version_json(request, repository, v, tags.get(v.digest, [])) for v in ordered
            ]
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        url = request.url.remove_query_params("page")
        if page < last:
            links.append(f'<{url.include_query_params(page=page + 1)}>; rel="next"')
            links.append(f'<{url.include_query_params(page=last)}>; rel="last"')
        if page > 1:
            links.append(f'<{url.include_query_params(page=1)}>; rel="first"')
            links.append(f'<{url.include_query_params(page=page - 1)}>; rel="prev"')
        return self.answer(request, chunk, headers={"Link": ", ".join(links)} if links else None)

    async def version(self, request: Request) -> Response:
        token = self._auth(request)
        if isinstance(token, Response):
            return token
        repository = self._repo(request, token)
        known, tags = await self._sync(repository)
        found = next((v for v in known.values() if v.id == request.path_params["id"]), None)
        if found is None:
            return self.error(request, 404, "Package version not found.")
        if request.method == "GET":
            return self.answer(
                request, self._version_json(request, repository, found, tags.get(found.digest, []))
            )
        if not {"read:packages", "delete:packages"} <= set(token.scopes) or not self._admin(
            token, repository.split("/", 1)[0]
        ):
            return self.error(
                request,
                403,
                "You must have the read:packages and delete:packages scopes and admin "
                "permission on the package to delete a version.",
            )
        if self.failing_deletes > 0:
            self.failing_deletes -= 1
            return self.error(request, 500, "Server Error")
        tagged = [d for d in known if tags.get(d)]
        if tags.get(found.digest) and tagged == [found.digest]:
            # reported by cleanup tools against api.github.com (kairos-io/kairos#4723)
            return self.error(
                request,
                400,
                "You cannot delete the last tagged version of a package. You must delete the "
                "package instead.",
            )
        got = await self.manifest(repository, found.digest)
        if got is None:
            return self.error(request, 404, "Package version not found.")
        _digest, media_type, data = got
        status = await self.delete_underlying(repository, found.digest)  # every tag on it
        if status >= 300:
            return self.error(request, 500, f"registry answered {status}")
        del known[found.digest]
        self._deleted.setdefault(repository, {})[found.id] = Deleted(
            found, media_type, data, tags.get(found.digest, []), time.time()
        )
        return self.answer(request, None, 204)

    async def restore(self, request: Request) -> Response:
        token = self._auth(request)
        if isinstance(token, Response):
            return token
        repository = self._repo(request, token)
        if not {"read:packages", "write:packages"} <= set(token.scopes):
            return self.error(
                request, 403, "You must have the read:packages and write:packages scopes."
            )
        gone = self._deleted.get(repository, {}).get(request.path_params["id"])
        if gone is None or gone.at < time.time() - RESTORE_DAYS * 86400:
            return self.error(request, 404, "Package version not found.")
        digest = gone.version.digest
        if await self.put_underlying(repository, digest, gone.data, gone.media_type) >= 300:
            return self.error(request, 500, "could not restore")
        taken = set(await self.tags_of(repository))
        for tag in gone.tags:
            if tag not in taken:
                await self.put_underlying(repository, tag, gone.data, gone.media_type)
        del self._deleted[repository][gone.version.id]
        self._versions.setdefault(repository, {})[digest] = gone.version
        return self.answer(request, None, 204)
