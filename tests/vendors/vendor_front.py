"""What the Harbor and Quay imitations share: a registry's `/v2` answered from the vendor's own
database of tags and manifests, over a real registry's storage underneath.

Both products work this way (Harbor: `src/server/registry/route.go` answers tags/list and
manifest GETs from its database and proxies blobs to distribution; Quay stores manifests and tag
history in its database), which is what lets their APIs keep untagged artifacts (Harbor) and
deleted tags (Quay's time machine) that plain `/v2` cannot list. Here:

    store = Store()                                  repositories → manifests + current tags
    front = V2Front(store, upstream_url, vendor)     the /v2 routes; `vendor` decides auth and
                                                     what DELETE means (VendorRules)

Blob uploads and blob reads go to the upstream registry unchanged; a manifest PUT is checked and
stored upstream **by digest** (the upstream never holds a tag, so nothing there can lose one),
and its tag is recorded here with push time; GETs record the pull time. Tokens for `/v2` are
opaque strings the vendor's token endpoint issues (`TokenBook`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
_V2_PATH = re.compile(r"^(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<rest>.*)$")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def v2_error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"code": code, "message": message, "detail": None}]},
        status_code=status,
        headers=headers,
    )


# -- the vendor's database ---------------------------------------------------------------------


@dataclass
class Manifest:
    id: int
    digest: str
    media_type: str
    body: bytes
    pushed: float
    pulled: float | None = None
    #: config + layers (an image), or the children's sizes (an index), + the manifest itself
    size: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    config_media_type: str = ""
    #: index children: (digest, platform dict)
    children: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


@dataclass
class TagRow:
    id: int
    name: str
    digest: str
    pushed: float
    pulled: float | None = None
    ended: float | None = None  # Quay's tag history: when the tag stopped pointing here
    reversion: bool = False  # Quay: the row was made by a time-machine restore
    immutable: bool = False  # Quay's per-tag immutability (Harbor uses rules instead)


@dataclass
class Repo:
    name: str
    manifests: dict[str, Manifest] = field(default_factory=dict)
    tags: dict[str, TagRow] = field(default_factory=dict)
    history: list[TagRow] = field(default_factory=list)  # ended rows, newest last

    def tags_on(self, digest: str) -> list[TagRow]:
        return sorted((t for t in self.tags.values() if t.digest == digest), key=lambda t: t.id)

    def parents_of(self, digest: str) -> list[Manifest]:
        return [m for m in self.manifests.values() if any(c == digest for c, _ in m.children)]

    def end_tag(self, name: str, when: float) -> TagRow | None:
        row = self.tags.pop(name, None)
        if row is not None:
            row.ended = when
            self.history.append(row)
        return row


class Store:
    """Every repository the imitation knows, behind one lock (the server thread and the test's
    own thread both read it)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.repos: dict[str, Repo] = {}
        self.lock = threading.RLock()
        self.clock = clock
        self._ids = 0

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def repo(self, name: str, *, create: bool = False) -> Repo | None:
        if name not in self.repos and create:
            self.repos[name] = Repo(name)
        return self.repos.get(name)

    def set_tag(self, repo: Repo, tag: str, digest: str, *, reversion: bool = False) -> TagRow:
        now = self.clock()
        repo.end_tag(tag, now)
        row = TagRow(self.next_id(), tag, digest, pushed=now, reversion=reversion)
        repo.tags[tag] = row
        return row


# -- tokens for /v2 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    principal: str
    #: repository → actions granted ("pull", "push", "delete", "*")
    access: dict[str, frozenset[str]]


class TokenBook:
    def __init__(self) -> None:
        self._tokens: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, grant: Grant) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = grant
        return token

    def grant_of(self, request: Request) -> Grant | None:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        with self._lock:
            return self._tokens.get(header[7:].strip())


def parse_scopes(values: list[str]) -> dict[str, set[str]]:
    """`repository:p/r:pull,push` scopes (several may be given) → repository → actions."""
    wanted: dict[str, set[str]] = {}
    for value in values:
        for scope in value.split(" "):
            parts = scope.split(":")
            if len(parts) >= 3 and parts[0] == "repository":
                name = ":".join(parts[1:-1])
                wanted.setdefault(name, set()).update(a for a in parts[-1].split(",") if a)
    return wanted


# -- what differs per vendor -------------------------------------------------------------------


class VendorRules(Protocol):
    def challenge(self, request: Request, name: str, actions: str) -> Response:
        """The 401 for a /v2 request without a usable token."""
        ...

    def check_push(self, repo: Repo, tag: str) -> Response | None:
        """Refuse a tag push (Harbor: immutable tag), or None."""
        ...

    def delete_manifest(self, repo: Repo, reference: str) -> Response:
        """What `DELETE /v2/<name>/manifests/<reference>` does on this vendor."""
        ...

    def may_catalog(self, grant: Grant | None, name: str) -> bool: ...

    def visible(self, repo: Repo, digest: str) -> bool:
        """May `GET /v2/<name>/manifests/<digest>` find this stored manifest?"""
        ...


# -- the /v2 routes ----------------------------------------------------------------------------


class V2Front:
    def __init__(self, store: Store, upstream: str, vendor: VendorRules, tokens: TokenBook) -> None:
        self.store = store
        self.upstream = upstream.rstrip("/")
        self.vendor = vendor
        self.tokens = tokens
        self.http: httpx.AsyncClient | None = None

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v2/", self.base, methods=["GET"]),
            Route("/v2/_catalog", self.catalog, methods=["GET"]),
            Route(
                "/v2/{path:path}",
                self.dispatch,
                methods=["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"],
            ),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(trust_env=False, timeout=30) as http:
            self.http = http
            yield
            self.http = None

    async def base(self, request: Request) -> Response:
        if self.tokens.grant_of(request) is None:
            return self.vendor.challenge(request, "", "")
        return JSONResponse({}, headers={"Docker-Distribution-API-Version": "registry/2.0"})

    async def catalog(self, request: Request) -> Response:
        grant = self.tokens.grant_of(request)
        with self.store.lock:
            names = sorted(n for n in self.store.repos if self.vendor.may_catalog(grant, n))
        if grant is None and not names:
            return self.vendor.challenge(request, "", "")
        return JSONResponse({"repositories": names})

    def _allowed(self, request: Request, name: str, action: str) -> bool:
        grant = self.tokens.grant_of(request)
        if grant is None:
            return False
        actions = grant.access.get(name, frozenset())
        return action in actions or "*" in actions

    async def dispatch(self, request: Request) -> Response:
        match = _V2_PATH.match(request.path_params["path"])
        if match is None:
            return v2_error(404, "NAME_UNKNOWN", "repository name not known to registry")
        name, kind, rest = match["name"], match["kind"], match["rest"]
        method = request.method
        action = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(method, "push")
        if not self._allowed(request, name, action):
            if self.tokens.grant_of(request) is None:
                return self.vendor.challenge(request, name, action)
            return v2_error(403, "DENIED", "requested access to the resource is denied")
        if kind == "tags":
            return self.tags_list(request, name)
        if kind == "blobs":
            return await self.forward(request)
        if method in ("GET", "HEAD"):
            return self.get_manifest(request, name, rest)
        if method == "PUT":
            return await self.put_manifest(request, name, rest)
        if method == "DELETE":
            with self.store.lock:
                repo = self.store.repo(name)
                if repo is None:
                    return v2_error(404, "NAME_UNKNOWN", "repository name not known to registry")
                return self.vendor.delete_manifest(repo, rest)
        return v2_error(405, "UNSUPPORTED", "the operation is unsupported")

    def tags_list(self, request: Request, name: str) -> Response:
        with self.store.lock:
            repo = self.store.repo(name)
            if repo is None:
                return v2_error(404, "NAME_UNKNOWN", "repository name not known to registry")
            tags = sorted(repo.tags)
        last = request.query_params.get("last", "")
        tags = [t for t in tags if t > last]
        headers: dict[str, str] = {}
        n = request.query_params.get("n")
        if n is not None and int(n) < len(tags):
            tags = tags[: int(n)]
            headers["Link"] = f'</v2/{name}/tags/list?n={n}&last={tags[-1]}>; rel="next"'
        return JSONResponse({"name": name, "tags": tags}, headers=headers)

    def get_manifest(self, request: Request, name: str, reference: str) -> Response:
        with self.store.lock:
            repo = self.store.repo(name)
            found: Manifest | None = None
            if repo is not None:
                if reference.startswith("sha256:"):
                    found = repo.manifests.get(reference)
                    if found is not None and not self.vendor.visible(repo, reference):
                        found = None
                elif reference in repo.tags:
                    row = repo.tags[reference]
                    found = repo.manifests.get(row.digest)
                    if request.method == "GET":
                        row.pulled = self.store.clock()
            if found is None:
                return v2_error(404, "MANIFEST_UNKNOWN", f"manifest unknown: {reference}")
            if request.method == "GET":
                found.pulled = self.store.clock()
            headers = {
                "Docker-Content-Digest": found.digest,
                "Content-Type": found.media_type,
                "Content-Length": str(len(found.body)),
            }
        body = b"" if request.method == "HEAD" else found.body
        return Response(body, headers=headers, media_type=found.media_type)

    async def put_manifest(self, request: Request, name: str, reference: str) -> Response:
        body = await request.body()
        digest = sha256(body)
        if reference.startswith("sha256:") and reference != digest:
            return v2_error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        try:
            parsed = json.loads(body)
        except ValueError:
            return v2_error(400, "MANIFEST_INVALID", "manifest invalid")
        media_type = request.headers.get("Content-Type", "") or parsed.get("mediaType", "")
        tag = "" if reference.startswith("sha256:") else reference
        with self.store.lock:
            repo = self.store.repo(name, create=True)
            assert repo is not None
            if tag:
                refusal = self.vendor.check_push(repo, tag)
                if refusal is not None:
                    return refusal
        assert self.http is not None
        answer = await self.http.put(
            f"{self.upstream}/v2/{name}/manifests/{digest}",
            content=body,
            headers={"Content-Type": media_type},
        )
        if answer.status_code != 201:
            return Response(answer.content, answer.status_code, media_type="application/json")
        record = await self._describe(name, digest, media_type, body, parsed)
        with self.store.lock:
            repo = self.store.repo(name, create=True)
            assert repo is not None
            if digest not in repo.manifests:
                record.id = self.store.next_id()
                repo.manifests[digest] = record
            if tag:
                self.store.set_tag(repo, tag, digest)
        return Response(
            status_code=201,
            headers={"Location": f"/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest},
        )

    async def _describe(
        self, name: str, digest: str, media_type: str, body: bytes, parsed: dict[str, Any]
    ) -> Manifest:
        record = Manifest(0, digest, media_type, body, pushed=self.store.clock())
        if media_type in INDEX_TYPES:
            record.size = len(body)
            with self.store.lock:
                repo = self.store.repo(name)
                known = repo.manifests if repo else {}
                for child in parsed.get("manifests", []):
                    record.children.append((child["digest"], child.get("platform") or {}))
                    sub = known.get(child["digest"])
                    record.size += sub.size if sub else int(child.get("size", 0))
            return record
        config = parsed.get("config") or {}
        record.config_media_type = config.get("mediaType", "")
        layers = parsed.get("layers") or []
        record.size = len(body) + int(config.get("size", 0)) + sum(int(x["size"]) for x in layers)
        if config.get("digest") and (
            "image.config" in record.config_media_type
            or "container.image" in record.config_media_type
        ):
            assert self.http is not None
            blob = await self.http.get(f"{self.upstream}/v2/{name}/blobs/{config['digest']}")
            if blob.status_code == 200:
                with contextlib.suppress(ValueError):
                    record.config = json.loads(blob.content)
        return record

    async def forward(self, request: Request) -> Response:
        """Blob reads and uploads go to storage unchanged (Locations there are relative)."""
        assert self.http is not None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "authorization", "content-length", "transfer-encoding")
        }
        answer = await self.http.request(
            request.method,
            f"{self.upstream}{request.url.path}",
            params=request.query_params.multi_items(),
            content=await request.body(),
            headers=headers,
        )
        out = {
            k: v
            for k, v in answer.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "content-encoding", "connection")
        }
        body = b"" if request.method == "HEAD" else answer.content
        if request.method == "HEAD" and "content-length" in answer.headers:
            out["Content-Length"] = answer.headers["content-length"]
        return Response(body, answer.status_code, headers=out)


# -- rate limiting -----------------------------------------------------------------------------


class Throttle:
    """`throttle.next(n)`: the next n API requests (paths under `prefix`) are answered 429 with
    `Retry-After` and the vendor's error body, as a rate-limited API answers."""

    def __init__(self, prefix: str, body: Callable[[], Response]) -> None:
        self.prefix = prefix
        self.body = body
        self.remaining = 0
        self.method = ""
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def next(self, n: int, method: str = "") -> None:
        """Refuse the next `n` API requests (only those of `method`, when given)."""
        with self._lock:
            self.remaining = n
            self.method = method

    def wrap(self, app: Starlette) -> Any:
        async def throttled(scope: Any, receive: Any, send: Any) -> None:
            if (
                scope["type"] == "http"
                and scope["path"].startswith(self.prefix)
                and self.method in ("", scope["method"])
            ):
                with self._lock:
                    refuse = self.remaining > 0
                    if refuse:
                        self.remaining -= 1
                        self.refused.append(f"{scope['method']} {scope['path']}")
                if refuse:
                    await self.body()(scope, receive, send)
                    return
            await app(scope, receive, send)

        return throttled
