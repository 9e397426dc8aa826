"""What the vendor imitations share: serving a Starlette app over a real socket, the registry
front (`/v2` proxied to a real registry underneath, behind a token realm that checks personal
access tokens, DELETE refused as the vendor's `/v2` refuses it) and the request log.

    front = SomeImitation(underlying_url, tokens={"pat-rw": Token("alice", ("scope",))})
    with serve_asgi(front.app()) as url:
        ...
        front.mark(); front.since(mark) -> [(method, path), …]   every request it was sent
        front.mutations(mark) -> [(method, path), …]              DELETE/PUT/POST/PATCH only

The registry underneath is regview's embedded registry (it deletes single tags on
`DELETE …/manifests/<tag>`), reached anonymously over its socket.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from testkit import free_port

MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
MUTATING = ("DELETE", "PUT", "POST", "PATCH")
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Token:
    """A personal access token's owner and scopes, as the vendor records them."""

    user: str
    scopes: tuple[str, ...]


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port from its own thread."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"imitation-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the imitation did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Front:
    """The registry side of an imitation (subclasses add the vendor's API routes)."""

    underlying: str
    tokens: dict[str, Token]
    service: str = "registry.imitation"
    #: how the vendor's `/v2` answers a DELETE (status, body)
    delete_answer: tuple[int, dict[str, Any]] = (
        405,
        {"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]},
    )
    log: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _registry_tokens: dict[str, Token | None] = field(default_factory=dict)
    _http: httpx.AsyncClient | None = None

    # -- the log ---------------------------------------------------------------------------
    def mark(self) -> int:
        with self._lock:
            return len(self.log)

    def since(self, mark: int = 0) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.log[mark:])

    def mutations(self, mark: int = 0) -> list[tuple[str, str]]:
        """Changing requests, without sign-ins (a POST that creates a session, not data)."""
        return [
            (m, p)
            for m, p in self.since(mark)
            if m in MUTATING and not self.is_sign_in(m, p) and not p.startswith("/token")
        ]

    def is_sign_in(self, method: str, path: str) -> bool:
        return False

    def _record(self, request: Request) -> None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        with self._lock:
            self.log.append((request.method, path))

    # -- the app ---------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, Handler, list[str]]]:
        """The vendor API: (path, handler, methods); every request is logged first."""
        return []

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> Any:
            self._http = httpx.AsyncClient(base_url=self.underlying, timeout=30)
            try:
                yield
            finally:
                await self._http.aclose()

        async def record_then(request: Request) -> Response:
            self._record(request)
            return await self.v2(request)

        async def token(request: Request) -> Response:
            self._record(request)
            return self.token_endpoint(request)

        def logged(handler: Handler) -> Handler:
            async def run(request: Request) -> Response:
                self._record(request)
                return await handler(request)

            return run

        api: list[BaseRoute] = [
            Route(path, logged(handler), methods=methods)
            for path, handler, methods in self.routes()
        ]
        return Starlette(
            routes=[
                *api,  # before /v2/{rest}: Docker Hub's API paths start with /v2/ too
                Route("/token", token, methods=["GET"]),
                Route("/v2/{rest:path}", record_then, methods=["GET", "HEAD", *MUTATING]),
            ],
            lifespan=lifespan,
        )

    @property
    def http(self) -> httpx.AsyncClient:
        assert self._http is not None
        return self._http

    # -- the token realm and /v2 -------------------------------------------------------------
    def basic_token(self, request: Request) -> Token | str | None:
        """The PAT of a Basic header: Token, None (no header) or "bad"."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return "bad"
        found = self.tokens.get(secret)
        return found if found is not None and found.user == user else "bad"

    def token_endpoint(self, request: Request) -> Response:
        who = self.basic_token(request)
        if who == "bad":
            return JSONResponse(
                {"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]},
                status_code=401,
            )
        value = secrets.token_urlsafe(24)  # opaque, like Docker Hub's and GHCR's to clients
        self._registry_tokens[value] = who if isinstance(who, Token) else None
        return JSONResponse({"token": value, "access_token": value, "expires_in": 300})

    def may_push(self, token: Token | None, repository: str) -> bool:
        return token is not None

    async def v2(self, request: Request) -> Response:
        rest = request.path_params["rest"]
        header = request.headers.get("Authorization", "")
        value = header[7:] if header.lower().startswith("bearer ") else ""
        if value not in self._registry_tokens:
            base = str(request.base_url).rstrip("/")
            return JSONResponse(
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                status_code=401,
                headers={
                    "WWW-Authenticate": f'Bearer realm="{base}/token",service="{self.service}"',
                    "Docker-Distribution-API-Version": "registry/2.0",
                },
            )
        who = self._registry_tokens[value]
        if request.method == "DELETE":
            status, body = self.delete_answer
            return JSONResponse(body, status_code=status)
        repository = rest.rsplit("/manifests/", 1)[0].rsplit("/blobs/", 1)[0]
        if request.method in MUTATING and not self.may_push(who, repository):
            return JSONResponse(
                {
                    "errors": [
                        {"code": "DENIED", "message": "requested access to the resource is denied"}
                    ]
                },
                status_code=403,
            )
        body_bytes = await request.body()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "authorization", "content-length", "connection")
        }
        query = f"?{request.url.query}" if request.url.query else ""
        answer = await self.http.request(
            request.method, f"/v2/{rest}{query}", content=body_bytes, headers=headers
        )
        out = {
            k: v
            for k, v in answer.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "content-encoding", "connection")
        }
        if request.method in ("PUT", "POST") and answer.status_code < 300:
            await self.pushed(rest, answer)
        return Response(answer.content, status_code=answer.status_code, headers=out)

    async def pushed(self, rest: str, answer: httpx.Response) -> None:
        """A write went through to the registry (subclasses record versions)."""

    # -- the registry underneath (for the vendor API's handlers) ------------------------------
    async def tags_of(self, repository: str) -> list[str]:
        r = await self.http.get(f"/v2/{repository}/tags/list", params={"n": 100000})
        if r.status_code == 404:
            return []
        r.raise_for_status()
        return list(r.json().get("tags") or [])

    async def manifest(self, repository: str, reference: str) -> tuple[str, str, bytes] | None:
        """(digest, media type, bytes) or None."""
        r = await self.http.get(
            f"/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
        )
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.headers["Docker-Content-Digest"], r.headers["Content-Type"], r.content

    async def delete_underlying(self, repository: str, reference: str) -> int:
        r = await self.http.delete(f"/v2/{repository}/manifests/{reference}")
        return r.status_code

    async def put_underlying(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> int:
        r = await self.http.put(
            f"/v2/{repository}/manifests/{reference}",
            content=data,
            headers={"Content-Type": media_type},
        )
        return r.status_code
