"""The OCI Distribution 1.1 HTTP API (Starlette).

All of `/v2/...` goes through one dispatcher that splits the path from its end (repository names
contain slashes), validates the name, asks the authorizer, then calls a handler. Every refusal
is a `RegistryError` turned into an OCI error body; malformed input never reaches a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from regview import __version__
from regview.log import get_logger
from regview.server import gc
from regview.server.auth import Access, AllowAll, Authorizer
from regview.server.config import ServerConfig
from regview.server.errors import RegistryError
from regview.server.registry import Registry
from regview.server.storage import CHUNK
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest
from regview.spec.errors import ErrorCode, InvalidDigest
from regview.spec.reference import is_valid_repository, is_valid_tag

log = get_logger("server.app")

API_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
#: on `/v2/` (also when it answers 401), so a client's probe can tell regview's own registry
VERSION_HEADER = ("Regview-Registry-Version", __version__)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d{1,18})-(\d{1,18})(?:/(?:\d+|\*))?$")
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
MANIFEST_METHODS = "GET, HEAD, PUT, DELETE, OPTIONS"

Handler = Callable[["Ctx"], Awaitable[Response]]


def _headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    h = {API_HEADER[0]: API_HEADER[1]}
    if extra:
        h.update(extra)
    return h


def error_response(exc: RegistryError, *, head: bool = False) -> Response:
    body = json.dumps(exc.body()).encode()
    headers = _headers(exc.headers)
    if head:
        headers["Content-Length"] = str(len(body))
        return Response(b"", exc.status, headers, media_type="application/json")
    return Response(body, exc.status, headers, media_type="application/json")


def _json(
    obj: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    return Response(json.dumps(obj).encode(), status, _headers(headers), media_type=media_type)


def _parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from exc


def _parse_n(raw: str | None, maximum: int | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise RegistryError(
            ErrorCode.PAGINATION_NUMBER_INVALID, f"n={raw!r} is not a non-negative integer"
        )
    n = int(raw)
    if maximum is not None and n > maximum:
        raise RegistryError(
            ErrorCode.PAGINATION_NUMBER_INVALID, f"n={n} is more than the maximum {maximum}"
        )
    return n


class Ctx:
    """One /v2 request: the parsed route plus shortcuts."""

    __slots__ = ("app", "extra", "method", "name", "registry", "request")

    def __init__(self, request: Request, name: str, extra: str) -> None:
        self.request = request
        self.name = name
        self.extra = extra
        self.method = request.method
        self.registry: Registry = request.app.state.registry
        self.app = request.app

    async def authorize(self, access: Sequence[Access]) -> None:
        authorizer: Authorizer = self.app.state.authorizer
        self.request.state.principal = await authorizer.authorize(self.request, access)

    def pull(self) -> Access:
        return Access("repository", self.name, ("pull",))

    def push(self) -> Access:
        return Access("repository", self.name, ("pull", "push"))

    def delete(self) -> Access:
        return Access("repository", self.name, ("delete",))


async def _thread(func: Callable[..., Any], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(func, *args)


# -- base, catalog, tags ---------------------------------------------------------------------


async def base(request: Request) -> Response:
    try:
        authorizer: Authorizer = request.app.state.authorizer
        await authorizer.authorize(request, [])
    except RegistryError as exc:
        response = error_response(exc, head=request.method == "HEAD")
    else:
        response = _json({})
    response.headers[VERSION_HEADER[0]] = VERSION_HEADER[1]
    return response


async def catalog(ctx: Ctx) -> Response:
    await ctx.authorize([Access("registry", "catalog", ("*",))])
    config: ServerConfig = ctx.app.state.config
    q = ctx.request.query_params
    n = _parse_n(q.get("n"), config.catalog_max)
    limit = config.catalog_default if n is None else n
    last = q.get("last", "")
    names = ctx.registry.catalog(limit + 1, last)
    headers = {}
    if len(names) > limit:
        names = names[:limit]
        headers["Link"] = f'</v2/_catalog?last={quote(names[-1], safe="")}&n={limit}>; rel="next"'
    return _json({"repositories": names}, headers=headers)


async def tags_list(ctx: Ctx) -> Response:
    await ctx.authorize([ctx.pull()])
    config: ServerConfig = ctx.app.state.config
    q = ctx.request.query_params
    n = _parse_n(q.get("n"), None)
    if n is not None:
        n = min(n, config.tags_max)
    last = q.get("last", "")
    tags = ctx.registry.tag_names(ctx.name, None if n is None else n + 1, last)
    if tags is None:
        raise RegistryError(ErrorCode.NAME_UNKNOWN, f"repository {ctx.name} is not known")
    headers = {}
    if n is not None and len(tags) > n:
        tags = tags[:n]
        if tags:
            link_last = quote(tags[-1], safe="")
            headers["Link"] = f'</v2/{ctx.name}/tags/list?last={link_last}&n={n}>; rel="next"'
    return _json({"name": ctx.name, "tags": tags}, headers=headers)


# -- manifests -------------------------------------------------------------------------------


def _check_reference(reference: str) -> None:
    if ":" in reference:
        _parse_digest(reference)
    elif not is_valid_tag(reference):
        raise RegistryError(
            ErrorCode.TAG_INVALID,
            f"{reference!r} is neither a valid tag nor a digest",
        )


async def manifest(ctx: Ctx) -> Response:
    reference = ctx.extra
    method = ctx.method
    if method == "OPTIONS":
        return Response(b"", 200, _headers({"Allow": MANIFEST_METHODS}))
    if method in ("GET", "HEAD"):
        await ctx.authorize([ctx.pull()])
        _check_reference(reference)
        record = ctx.registry.get_manifest(ctx.name, reference)
        if record is None:
            if ctx.registry.repo_id(ctx.name) is None:
                raise RegistryError(ErrorCode.NAME_UNKNOWN, f"repository {ctx.name} is not known")
            raise RegistryError(
                ErrorCode.MANIFEST_UNKNOWN, f"manifest {reference} is not in {ctx.name}"
            )
        # Served as stored whatever Accept says: converting would change the digest, and
        # clients (skopeo copying into an OCI layout) convert themselves.
        etag = f'"{record.digest}"'
        headers = _headers(
            {
                "Docker-Content-Digest": record.digest,
                "ETag": etag,
                "Content-Type": record.media_type,
                "Content-Length": str(len(record.content)),
            }
        )
        inm = ctx.request.headers.get("if-none-match")
        if inm and (etag in inm or record.digest in inm or inm.strip() == "*"):
            del headers["Content-Length"]
            return Response(b"", 304, headers)
        return Response(b"" if method == "HEAD" else record.content, 200, headers)
    if method == "PUT":
        await ctx.authorize([ctx.push()])
        _check_reference(reference)
        content = await _read_limited(ctx.request)
        record = await _thread(
            ctx.registry.put_manifest,
            ctx.name,
            reference,
            content,
            ctx.request.headers.get("content-type", ""),
        )
        headers = {
            "Location": f"/v2/{ctx.name}/manifests/{record.digest}",
            "Docker-Content-Digest": record.digest,
        }
        if record.subject:
            headers["OCI-Subject"] = record.subject
        return Response(b"", 201, _headers(headers))
    if method == "DELETE":
        await ctx.authorize([ctx.delete()])
        _check_reference(reference)
        if ":" in reference:
            found = await _thread(ctx.registry.delete_manifest, ctx.name, reference)
        else:
            found = await _thread(ctx.registry.delete_tag, ctx.name, reference)
        if not found:
            raise RegistryError(
                ErrorCode.MANIFEST_UNKNOWN, f"manifest {reference} is not in {ctx.name}"
            )
        return Response(b"", 202, _headers())
    raise _unsupported(method, MANIFEST_METHODS)


async def _read_limited(request: Request) -> bytes:
    from regview.spec.manifest import MAX_MANIFEST_BYTES

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_MANIFEST_BYTES:
        raise RegistryError(
            ErrorCode.SIZE_INVALID,
            f"manifest is {declared} bytes; at most {MAX_MANIFEST_BYTES} are accepted",
            status=413,
        )
    parts: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_MANIFEST_BYTES:
            raise RegistryError(
                ErrorCode.SIZE_INVALID,
                f"manifest is over {MAX_MANIFEST_BYTES} bytes, the most accepted",
                status=413,
            )
        parts.append(chunk)
    return b"".join(parts)


def _unsupported(method: str, allowed: str) -> RegistryError:
    return RegistryError(
        ErrorCode.UNSUPPORTED,
        f"{method} is not supported here",
        headers={"Allow": allowed},
    )


# -- referrers -------------------------------------------------------------------------------


async def referrers(ctx: Ctx) -> Response:
    if ctx.method not in ("GET", "HEAD"):
        raise _unsupported(ctx.method, "GET, HEAD")
    await ctx.authorize([ctx.pull()])
    digest = _parse_digest(ctx.extra)
    artifact_type = ctx.request.query_params.get("artifactType")
    found = ctx.registry.referrers(ctx.name, str(digest), artifact_type)
    headers = {}
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    body = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": found}
    response = _json(body, headers=headers, media_type=mt.OCI_INDEX)
    if ctx.method == "HEAD":
        response.body = b""
    return response


# -- blobs -----------------------------------------------------------------------------------


async def blob(ctx: Ctx) -> Response:
    method = ctx.method
    if method in ("GET", "HEAD"):
        await ctx.authorize([ctx.pull()])
    elif method == "DELETE":
        await ctx.authorize([ctx.delete()])
    else:
        raise _unsupported(method, "GET, HEAD, DELETE")
    digest = _parse_digest(ctx.extra)
    size = ctx.registry.blob_size(ctx.name, str(digest))
    if size is None:
        raise RegistryError(ErrorCode.BLOB_UNKNOWN, f"blob {digest} is not in {ctx.name}")
    if method == "DELETE":
        await _thread(ctx.registry.unlink_blob, ctx.name, str(digest))
        return Response(b"", 202, _headers({"Docker-Content-Digest": str(digest)}))
    headers = _headers(
        {
            "Docker-Content-Digest": str(digest),
            "ETag": f'"{digest}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
    )
    start, end, status = 0, size - 1, 200
    wanted = ctx.request.headers.get("range")
    if wanted:
        m = _RANGE.match(wanted.strip())
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:  # suffix: the last N bytes
                start, end = max(size - int(m.group(2)), 0), size - 1
            if start >= size or start > end or (m.group(1) and int(m.group(2) or start) < start):
                raise RegistryError(
                    ErrorCode.RANGE_INVALID,
                    f"range {wanted} is outside the blob's {size} bytes",
                    headers={"Content-Range": f"bytes */{size}"},
                )
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(end - start + 1, 0)
    headers["Content-Length"] = str(length)
    if method == "HEAD":
        return Response(b"", status, headers)
    path = ctx.registry.store.path(digest)
    return _FileResponse(path, start, length, status, headers)


class _FileResponse(Response):
    """Streams `length` bytes from `start`, reading 1 MiB at a time in the thread pool."""

    def __init__(self, path: Any, start: int, length: int, status: int, headers: dict[str, str]):
        super().__init__(None, status, headers)
        self.path, self.start, self.length = path, start, length

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        f = await anyio.to_thread.run_sync(self.path.open, "rb")
        try:
            if self.start:
                await anyio.to_thread.run_sync(f.seek, self.start)
            remaining = self.length
            while remaining > 0:
                chunk = await anyio.to_thread.run_sync(f.read, min(CHUNK * 4, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
                )
            if remaining > 0 or self.length == 0:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await anyio.to_thread.run_sync(f.close)


# -- uploads ---------------------------------------------------------------------------------


def _upload_headers(ctx: Ctx, upload_id: str, size: int) -> dict[str, str]:
    return _headers(
        {
            "Location": f"/v2/{ctx.name}/blobs/uploads/{upload_id}",
            "Range": f"0-{max(size - 1, 0)}",
            "Docker-Upload-UUID": upload_id,
        }
    )


async def _append(ctx: Ctx, upload_id: str) -> int:
    """Stream the request body onto the upload, hashing as it goes; returns the new size.

    The body is gathered into pieces of about `CHUNK` bytes that are written and hashed in a
    worker thread (both release the GIL), so the event loop keeps receiving the next piece
    meanwhile and a push uses both cores."""
    registry = ctx.registry
    path = registry.store.upload_path(upload_id)
    hasher = registry.hashers.get(upload_id)
    with path.open("ab") as f:
        if hasher is not None and hasher.size != f.tell():
            registry.hashers.pop(upload_id, None)
            hasher = None

        def write(data: bytes) -> None:
            f.write(data)
            if hasher is not None:
                hasher.update(data)

        pending: list[bytes] = []
        size = 0
        # One piece in flight while the next is received (uvicorn stops reading the socket
        # once 64 KiB wait unread, so waiting for each write would stall the sender).
        writing: asyncio.Future[Any] | None = None
        try:
            async for chunk in ctx.request.stream():
                if chunk:
                    pending.append(chunk)
                    size += len(chunk)
                    if size >= CHUNK:
                        if writing is not None:
                            await writing
                        writing = asyncio.ensure_future(_thread(write, b"".join(pending)))
                        pending, size = [], 0
        finally:
            if writing is not None:  # never leave a write running on a file about to close
                await writing
        if pending:
            await _thread(write, b"".join(pending))
        return f.tell()


def _locks(ctx: Ctx) -> dict[str, asyncio.Lock]:
    locks: dict[str, asyncio.Lock] = ctx.app.state.upload_locks
    return locks


async def uploads(ctx: Ctx) -> Response:
    upload_id = ctx.extra
    method = ctx.method
    registry = ctx.registry
    q = ctx.request.query_params
    if upload_id == "":
        if method != "POST":
            raise _unsupported(method, "POST")
        mount, source = q.get("mount"), q.get("from")
        access = [ctx.push()]
        if mount and source and is_valid_repository(source):
            access.append(Access("repository", source, ("pull",)))
        await ctx.authorize(access)
        if mount:
            digest = _parse_digest(mount)
            if (
                source
                and is_valid_repository(source)
                and await _thread(registry.mount_blob, ctx.name, source, digest)
            ):
                return _created_blob(ctx, digest)
        raw_digest = q.get("digest")
        if raw_digest is not None:
            digest = _parse_digest(raw_digest)
            new_id = await _thread(registry.start_upload, ctx.name)
            await _append(ctx, new_id)
            await _thread(registry.finish_upload, ctx.name, new_id, digest)
            return _created_blob(ctx, digest)
        new_id = await _thread(registry.start_upload, ctx.name)
        return Response(b"", 202, _upload_headers(ctx, new_id, 0))
    if not _UUID.match(upload_id):
        raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, f"upload {upload_id!r} is not known")
    if method in ("GET", "HEAD"):
        await ctx.authorize([ctx.pull()])
    elif method in ("PATCH", "PUT") or method == "DELETE":
        await ctx.authorize([ctx.push()])
    else:
        raise _unsupported(method, "GET, PATCH, PUT, DELETE")
    lock = _locks(ctx).setdefault(upload_id, asyncio.Lock())
    async with lock:
        size = registry.upload_size(ctx.name, upload_id)
        if size is None:
            raise RegistryError(
                ErrorCode.BLOB_UPLOAD_UNKNOWN, f"upload {upload_id} is not known in {ctx.name}"
            )
        if method in ("GET", "HEAD"):
            return Response(b"", 204, _upload_headers(ctx, upload_id, size))
        if method == "DELETE":
            await _thread(registry.cancel_upload, upload_id)
            _locks(ctx).pop(upload_id, None)
            return Response(b"", 204, _headers())
        content_range = ctx.request.headers.get("content-range")
        if content_range:
            m = _CONTENT_RANGE.match(content_range.strip())
            if m is None:
                raise RegistryError(
                    ErrorCode.BLOB_UPLOAD_INVALID,
                    f"Content-Range {content_range!r} is not '<start>-<end>'",
                    status=416,
                )
            if int(m.group(1)) != size or int(m.group(2)) < int(m.group(1)):
                raise RegistryError(
                    ErrorCode.RANGE_INVALID,
                    f"chunk starts at {m.group(1)} but the upload has {size} bytes; "
                    "send chunks in order",
                    headers=_upload_headers(ctx, upload_id, size),
                )
        if method == "PATCH":
            new_size = await _append(ctx, upload_id)
            return Response(b"", 202, _upload_headers(ctx, upload_id, new_size))
        # PUT: last chunk (optional) and the digest
        raw_digest = q.get("digest")
        if raw_digest is None:
            raise RegistryError(ErrorCode.DIGEST_INVALID, "PUT needs ?digest=<digest>")
        digest = _parse_digest(raw_digest)
        await _append(ctx, upload_id)
        try:
            await _thread(registry.finish_upload, ctx.name, upload_id, digest)
        finally:
            _locks(ctx).pop(upload_id, None)
        return _created_blob(ctx, digest)


def _created_blob(ctx: Ctx, digest: Digest) -> Response:
    return Response(
        b"",
        201,
        _headers(
            {"Location": f"/v2/{ctx.name}/blobs/{digest}", "Docker-Content-Digest": str(digest)}
        ),
    )


# -- dispatch --------------------------------------------------------------------------------


def _route(path: str) -> tuple[Handler, str, str] | None:
    """Split `<name>/<kind>/<extra>` from the end; returns (handler, name, extra)."""
    seg = path.split("/")
    if len(seg) >= 3 and seg[-2] == "tags" and seg[-1] == "list":
        return tags_list, "/".join(seg[:-2]), ""
    if len(seg) >= 4 and seg[-3] == "blobs" and seg[-2] == "uploads":
        return uploads, "/".join(seg[:-3]), seg[-1]
    if len(seg) >= 3 and seg[-2] == "blobs" and seg[-1] == "uploads":
        return uploads, "/".join(seg[:-2]), ""
    if len(seg) >= 3:
        kind = seg[-2]
        if kind == "manifests":
            return manifest, "/".join(seg[:-2]), seg[-1]
        if kind == "blobs":
            return blob, "/".join(seg[:-2]), seg[-1]
        if kind == "referrers":
            return referrers, "/".join(seg[:-2]), seg[-1]
    return None


async def dispatch(request: Request) -> Response:
    path: str = request.path_params["path"]
    head = request.method == "HEAD"
    try:
        if path == "_catalog":
            if request.method not in ("GET", "HEAD"):
                raise _unsupported(request.method, "GET")
            return await catalog(Ctx(request, "", ""))
        found = _route(path)
        if found is None:
            raise RegistryError(
                ErrorCode.NAME_UNKNOWN, f"no registry endpoint at /v2/{path}", status=404
            )
        handler, name, extra = found
        if not is_valid_repository(name):
            raise RegistryError(
                ErrorCode.NAME_INVALID,
                f"repository name {name!r} is not valid: lowercase letters, digits and "
                "separators ('.', '_', '__', '-') in '/'-separated components",
            )
        return await handler(Ctx(request, name, extra))
    except RegistryError as exc:
        return error_response(exc, head=head)
    except ClientDisconnect:
        return Response(b"", 400, _headers())


class RegistryApp(Starlette):
    """Starlette, with manifest GET/HEAD (the hot path of every client) dispatched directly,
    skipping the router and middleware stack (a third of the request cost with uvicorn/h11)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith("/v2/")
            and "/manifests/" in scope["path"]
        ):
            scope["app"] = self
            scope["path_params"] = {"path": scope["path"][4:]}
            response = await dispatch(Request(scope, receive))
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


ALL_METHODS = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]


def create_app(
    config: ServerConfig,
    *,
    registry: Registry | None = None,
    authorizer: Authorizer | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    online_gc: bool = True,
) -> Starlette:
    """The registry's ASGI app. `extra_routes` are matched before /v2 (e.g. /jwt/auth, /api/v4).
    `app.state.registry` is the `Registry` routes may use."""
    reg = registry if registry is not None else Registry(config.data_dir, gc_delay=config.gc_delay)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task: asyncio.Task[None] | None = None
        if online_gc and config.gc_delay >= 0:
            task = asyncio.create_task(_online_gc(reg, config))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes: list[BaseRoute] = [
        *extra_routes,
        Route("/v2/", base, methods=["GET", "HEAD"]),
        Route("/v2", base, methods=["GET", "HEAD"]),
        Route("/v2/{path:path}", dispatch, methods=ALL_METHODS),
    ]
    app = RegistryApp(routes=routes, lifespan=lifespan)
    app.state.registry = reg
    app.state.config = config
    app.state.authorizer = authorizer if authorizer is not None else AllowAll()
    app.state.upload_locks = {}
    return app


async def _online_gc(registry: Registry, config: ServerConfig) -> None:
    while True:
        await asyncio.sleep(config.effective_gc_interval)
        try:
            report = await anyio.to_thread.run_sync(
                lambda: gc.collect(
                    registry, delay=config.gc_delay, upload_expiry=config.upload_expiry
                )
            )
            if report.bytes_freed or report.manifests_deleted:
                log.info("online GC: %s", report.summary())
        except Exception:  # a GC bug must not stop the server; it is logged with its traceback
            log.exception("online GC failed")
