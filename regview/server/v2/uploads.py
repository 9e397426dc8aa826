"""Blob uploads under /v2/<name>/blobs/uploads/: monolithic, chunked and cross-repository
mount, one lock per upload so chunks are appended in order."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response

from regview.server.auth import Access
from regview.server.errors import RegistryError
from regview.server.registry.storage import CHUNK
from regview.server.v2.bodies import declared_length
from regview.server.v2.common import Ctx, in_thread, oci_headers, parse_digest, unsupported
from regview.spec.digest import Digest
from regview.spec.errors import ErrorCode
from regview.spec.reference import is_valid_repository

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d{1,18})-(\d{1,18})(?:/(?:\d+|\*))?$")


def _upload_headers(ctx: Ctx, upload_id: str, size: int) -> dict[str, str]:
    return oci_headers(
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
                        writing = asyncio.ensure_future(in_thread(write, b"".join(pending)))
                        pending, size = [], 0
        finally:
            if writing is not None:  # never leave a write running on a file about to close
                await writing
        if pending:
            await in_thread(write, b"".join(pending))
        return f.tell()


class UploadLocks:
    """One lock per upload while requests for it run, so its chunks are appended in order.

    An entry lives only as long as a request holds or waits for it: requests naming unknown
    uploads, and uploads finished, cancelled or purged by GC, leave nothing behind (a dict
    that kept every id it ever saw grew by an entry per request naming a made-up id)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, upload_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(upload_id, (asyncio.Lock(), 0))
        self._locks[upload_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[upload_id]
            if users == 1:
                del self._locks[upload_id]
            else:
                self._locks[upload_id] = (lock, users - 1)


def _locks(ctx: Ctx) -> UploadLocks:
    locks: UploadLocks = ctx.app.state.upload_locks
    return locks


async def uploads(ctx: Ctx) -> Response:
    upload_id = ctx.extra
    method = ctx.method
    registry = ctx.registry
    q = ctx.request.query_params
    if upload_id == "":
        if method != "POST":
            raise unsupported(method, "POST")
        mount, source = q.get("mount"), q.get("from")
        access = [ctx.push()]
        if mount and source and is_valid_repository(source):
            access.append(Access("repository", source, ("pull",)))
        await ctx.authorize(access)
        if mount:
            digest = parse_digest(mount)
            if (
                source
                and is_valid_repository(source)
                and await in_thread(registry.mount_blob, ctx.name, source, digest)
            ):
                return _created_blob(ctx, digest)
        raw_digest = q.get("digest")
        if raw_digest is not None:
            digest = parse_digest(raw_digest)
            new_id = await in_thread(registry.start_upload, ctx.name)
            await _append(ctx, new_id)
            await in_thread(registry.finish_upload, ctx.name, new_id, digest)
            return _created_blob(ctx, digest)
        new_id = await in_thread(registry.start_upload, ctx.name)
        return Response(b"", 202, _upload_headers(ctx, new_id, 0))
    if not _UUID.match(upload_id):
        raise RegistryError(ErrorCode.BLOB_UPLOAD_UNKNOWN, f"upload {upload_id!r} is not known")
    if method in ("GET", "HEAD"):
        await ctx.authorize([ctx.pull()])
    elif method in ("PATCH", "PUT") or method == "DELETE":
        await ctx.authorize([ctx.push()])
    else:
        raise unsupported(method, "GET, PATCH, PUT, DELETE")
    if registry.upload_size(ctx.name, upload_id) is None:  # no lock made for unknown ids
        raise _unknown_upload(ctx, upload_id)
    async with _locks(ctx).hold(upload_id):
        size = registry.upload_size(ctx.name, upload_id)
        if size is None:  # finished or cancelled while this request waited for the lock
            raise _unknown_upload(ctx, upload_id)
        if method in ("GET", "HEAD"):
            return Response(b"", 204, _upload_headers(ctx, upload_id, size))
        if method == "DELETE":
            await in_thread(registry.cancel_upload, upload_id)
            return Response(b"", 204, oci_headers())
        content_range = ctx.request.headers.get("content-range")
        expected: int | None = None  # bytes the Content-Range announces
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
            expected = int(m.group(2)) - int(m.group(1)) + 1
            declared = declared_length(ctx.request)
            if declared is not None and declared != expected:
                raise _range_mismatch(ctx, upload_id, size, expected, f"{declared} are sent")
        if method == "PATCH":
            new_size = await _append(ctx, upload_id)
            if expected is not None and new_size - size != expected:
                # the chunk is not what its range said: take it back, as if never sent
                await in_thread(registry.truncate_upload, upload_id, size)
                raise _range_mismatch(ctx, upload_id, size, expected, f"{new_size - size} arrived")
            return Response(b"", 202, _upload_headers(ctx, upload_id, new_size))
        # PUT: last chunk (optional) and the digest
        raw_digest = q.get("digest")
        if raw_digest is None:
            raise RegistryError(ErrorCode.DIGEST_INVALID, "PUT needs ?digest=<digest>")
        digest = parse_digest(raw_digest)
        await _append(ctx, upload_id)
        await in_thread(registry.finish_upload, ctx.name, upload_id, digest)
        return _created_blob(ctx, digest)


def _range_mismatch(
    ctx: Ctx, upload_id: str, size: int, expected: int, actual: str
) -> RegistryError:
    return RegistryError(
        ErrorCode.RANGE_INVALID,
        f"Content-Range announces {expected} bytes but {actual}",
        status=416,
        headers=_upload_headers(ctx, upload_id, size),
    )


def _unknown_upload(ctx: Ctx, upload_id: str) -> RegistryError:
    return RegistryError(
        ErrorCode.BLOB_UPLOAD_UNKNOWN, f"upload {upload_id} is not known in {ctx.name}"
    )


def _created_blob(ctx: Ctx, digest: Digest) -> Response:
    return Response(
        b"",
        201,
        oci_headers(
            {"Location": f"/v2/{ctx.name}/blobs/{digest}", "Docker-Content-Digest": str(digest)}
        ),
    )
