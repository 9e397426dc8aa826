"""The OCI Distribution 1.1 HTTP API (Starlette): routing and the app itself.

All of `/v2/...` goes through one dispatcher that splits the path from its end (repository names
contain slashes), validates the name, then calls a handler (`v2.listing`, `v2.manifests`,
`v2.blobs`, `v2.uploads`), which asks the authorizer. Every refusal is a `RegistryError` turned
into an OCI error body (`v2.common`); malformed input never reaches a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from regview.log import get_logger
from regview.server.auth import AllowAll, Authorizer
from regview.server.config import ServerConfig
from regview.server.errors import RegistryError, StoreClosed
from regview.server.registry import gc
from regview.server.registry.registry import Registry
from regview.server.v2.blobs import blob
from regview.server.v2.bodies import BodyTimeout, timed_receive
from regview.server.v2.common import (
    API_HEADER,
    VERSION_HEADER,
    Ctx,
    Handler,
    error_response,
    oci_headers,
    unsupported,
)
from regview.server.v2.listing import base, catalog, referrers, tags_list
from regview.server.v2.manifests import MANIFEST_METHODS, manifest
from regview.server.v2.uploads import UploadLocks, uploads
from regview.spec.errors import ErrorCode
from regview.spec.reference import is_valid_repository

__all__ = [
    "ALL_METHODS",
    "API_HEADER",
    "MANIFEST_METHODS",
    "VERSION_HEADER",
    "Ctx",
    "Handler",
    "RegistryApp",
    "base",
    "blob",
    "catalog",
    "create_app",
    "dispatch",
    "error_response",
    "manifest",
    "referrers",
    "tags_list",
    "uploads",
]

log = get_logger("server.app")


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
                raise unsupported(request.method, "GET")
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
    except BodyTimeout as exc:
        timeout = RegistryError(
            ErrorCode.BLOB_UPLOAD_INVALID, str(exc), status=408, headers={"Connection": "close"}
        )
        return error_response(timeout, head=head)
    except ClientDisconnect:
        return Response(b"", 400, oci_headers())
    except Exception:
        # A bug, not the client's fault. Answered (and logged with its traceback) here rather
        # than by Starlette's error middleware, whose re-raise makes uvicorn reset the
        # connection the client would send its next request on.
        log.exception("%s /v2/%s failed", request.method, path)
        return error_response(
            RegistryError(ErrorCode.UNKNOWN, "internal error; the server log has the details"),
            head=head,
        )


def _is_blob_path(path: str) -> bool:
    """`/v2/<name>/blobs/<digest>`, not an upload (which `dispatch` would route alike)."""
    _, sep, digest = path.rpartition("/blobs/")
    return bool(sep) and "/" not in digest


class RegistryApp(Starlette):
    """Starlette, with manifest and blob GET/HEAD (the hot paths of every client) dispatched
    directly, skipping the router and middleware stack (a third of the request cost with
    uvicorn/h11). A blob body then reaches uvicorn's own `send`, which `v2.zerocopy` needs to
    find the connection's socket (Starlette's middleware wraps `send`)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            receive = timed_receive(receive, self.state.config.body_timeout)
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"].startswith("/v2/")
            and ("/manifests/" in scope["path"] or _is_blob_path(scope["path"]))
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
    app.state.upload_locks = UploadLocks()
    return app


async def _online_gc(registry: Registry, config: ServerConfig) -> None:
    while True:
        await asyncio.sleep(config.effective_gc_interval)
        try:
            report = await anyio.to_thread.run_sync(
                lambda: gc.collect(
                    registry,
                    delay=config.online_gc_delay,
                    upload_expiry=config.upload_expiry,
                    push_grace=config.push_grace,
                )
            )
            if report.bytes_freed or report.manifests_deleted:
                log.info("online GC: %s", report.summary())
        except StoreClosed:  # the server is stopping
            return
        except Exception:  # a GC bug must not stop the server; it is logged with its traceback
            log.exception("online GC failed")
