"""Blobs under /v2/<name>/blobs/<digest>: get with byte ranges (pieces in the page cache read on
the event loop, others from disk in a worker thread), and delete (unlink from the repository)."""

from __future__ import annotations

import os
import re
from typing import Any

import anyio.to_thread
from starlette.responses import Response

from regview.server.errors import RegistryError
from regview.server.registry.storage import CHUNK
from regview.server.v2.common import Ctx, in_thread, oci_headers, parse_digest, unsupported
from regview.server.v2.zerocopy import ZeroCopy
from regview.spec.errors import ErrorCode

_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")


async def blob(ctx: Ctx) -> Response:
    method = ctx.method
    if method in ("GET", "HEAD"):
        await ctx.authorize([ctx.pull()])
    elif method == "DELETE":
        await ctx.authorize([ctx.delete()])
    else:
        raise unsupported(method, "GET, HEAD, DELETE")
    digest = parse_digest(ctx.extra)
    size = ctx.registry.blob_size(ctx.name, str(digest))
    if size is None:
        raise RegistryError(ErrorCode.BLOB_UNKNOWN, f"blob {digest} is not in {ctx.name}")
    if method == "DELETE":
        await in_thread(ctx.registry.unlink_blob, ctx.name, str(digest))
        return Response(b"", 202, oci_headers({"Docker-Content-Digest": str(digest)}))
    headers = oci_headers(
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
        ctx.registry.note_blob_check(ctx.name)
        return Response(b"", status, headers)
    path = ctx.registry.store.path(digest)
    return _FileResponse(path, start, length, status, headers)


class _FileResponse(Response):
    """Streams `length` bytes from `start` of a blob file.

    Where the connection allows it (`v2.zerocopy`: uvicorn's httptools protocol over plain TCP,
    a client on another host) the bytes go from the page cache to the socket with `sendfile`,
    never copied through Python; otherwise (a client on this host pays less for copied packets),
    or for what sendfile could not send, they are read and passed to `send`:

    Pull throughput is set by how soon the next piece is written once the socket drains: a piece
    already in the page cache (the common case: a blob just pushed or pulled) is read right here
    with `RWF_NOWAIT`, which never waits for the disk, so the event loop refills the socket without
    a round trip through the thread pool (two thread wake-ups per piece, each a scheduling delay
    on a busy machine). Only a piece that must come from the disk is read in a worker thread.
    """

    def __init__(self, path: Any, start: int, length: int, status: int, headers: dict[str, str]):
        super().__init__(None, status, headers)
        self.path, self.start, self.length = path, start, length

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        # opened on the loop: `blob_size` has just stat'ed this file, so its directory entry
        # and inode are cached and the open takes microseconds, where a worker thread costs
        # two thread wake-ups before the first byte (milliseconds each on a loaded machine)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            offset, remaining = self.start, self.length
            zero_copy = ZeroCopy.of(scope, send) if remaining > 0 else None
            if zero_copy is not None:  # sendfile; what it could not send goes through `send`
                sent = await zero_copy.send_file(fd, offset, remaining)
                offset += sent
                remaining -= sent
            finished = False
            piece = FIRST_PIECE
            while remaining > 0:
                want = min(piece, remaining)
                piece = PIECE
                chunk: bytes | memoryview | None = read_cached(fd, want, offset)
                if chunk is None:
                    chunk = await anyio.to_thread.run_sync(os.pread, fd, want, offset)
                if not chunk:
                    break  # the file is shorter than its size said: end the response
                offset += len(chunk)
                remaining -= len(chunk)
                finished = remaining == 0
                await send({"type": "http.response.body", "body": chunk, "more_body": not finished})
            if not finished:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            os.close(fd)


#: bytes per piece sent: 1 MiB keeps the event loop's copy of a cached piece well under a
#: millisecond while a piece still fills several socket buffers
PIECE = CHUNK

#: the first piece is small: a client looks at a body's first bytes before it stores any
#: (skopeo peeks for the compression, then opens its destination file), and they reach it
#: without waiting for a whole piece to be read and handed to the transport (~1 ms per blob)
FIRST_PIECE = 64 * 1024

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)


def read_cached(fd: int, size: int, offset: int) -> memoryview | None:
    """Up to `size` bytes at `offset` if the page cache holds them (at least the first page),
    without ever waiting for the disk; None when the disk would have to be read (or the system
    has no RWF_NOWAIT: Linux ≥ 4.14 on most filesystems)."""
    if _NOWAIT is None:
        return None
    buf = bytearray(size)
    try:
        got = os.preadv(fd, [buf], offset, _NOWAIT)
    except OSError:  # EAGAIN: not cached; EOPNOTSUPP/EINVAL: this filesystem cannot say
        return None
    if got <= 0:  # at or past the end: the worker-thread read says so
        return None
    return memoryview(buf)[:got]
