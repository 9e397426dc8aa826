"""Zero-copy response bodies: `os.sendfile` from a blob file straight into the client's socket.

ASGI has no standard way to hand a file to the server (uvicorn implements neither
`http.response.pathsend` nor `http.response.zerocopy`), so every byte of a pull used to be
copied from the page cache into a Python buffer and again into the socket, on the one event-loop
thread. Where the server is uvicorn's httptools protocol over plain TCP, the `send` callable is
bound to the connection's request cycle, which holds the transport and therefore the socket: the
body then goes out with `sendfile` (the kernel attaches the cached pages to the socket; nothing
is copied in this process), written whenever the socket has room, on the event loop.

The cycle is still told how many bytes went out (`expected_content_length`), so it finishes the
response, keeps the connection alive and checks the length exactly as for bytes sent through it.
Anything else — TLS (the socket carries ciphertext), h11, another ASGI server, a transport with
bytes still queued, a socket we cannot reach or that blocks — answers None and the caller sends the
body through `send` as before.

So does a client on this host (`same_host`: loopback, or our own address). Over loopback the
receiving process's kernel work depends on how the sender built the packets: sendfile's packets
hold the page cache's 4 KiB pages, copied ones a few large fragments, and the receiver — which
also runs the sender's queued transmissions whenever its reads reopen the window — spent ~30 %
more CPU per byte on sendfile's (a reader hashing 25 MiB layers: 31–32 ms against 24–25 ms from
copied bodies or docker-registry, bench/results-server.md). A local puller such as skopeo is
bound by its own CPU, so that cost was its time: it cancelled the registry's faster answers.
A remote client's kernel builds its own packets from the wire, so there sendfile only saves
our CPU. A sendfile error (the client went away, a filesystem that cannot
sendfile) stops the zero-copy path where it is; the caller sends the rest through `send`, which
then sees the same closed connection the way it always did.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
from typing import Any

#: the most one `sendfile` call may read from the file: each call first checks that the pages
#: it will read are in the page cache, since a read from the disk must not stall the event loop
SPAN = 4 * 1024 * 1024

#: how long a wait for room in the socket lasts before sendfile is simply tried again
RECHECK_SECONDS = 1.0

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)
_SENDFILE = getattr(os, "sendfile", None)
#: uvicorn's httptools request cycle; its h11 cycle drives h11's state machine, which must see
#: every body byte, so it is not used
_UVICORN_CYCLE = ("uvicorn.protocols.http.httptools_impl", "RequestResponseCycle")


class ZeroCopy:
    """The connection behind one response's `send`, writable with `sendfile`."""

    def __init__(self, cycle: Any, transport: Any, sock_fd: int) -> None:
        self.cycle, self.transport = cycle, transport
        # A descriptor of our own for the connection's socket, taken while the transport is
        # known to be open. The transport's descriptor number is never used after this: once
        # the client is gone the transport closes it, and the next connection accepted may get
        # the same number; a sendfile to it would put this body into another client's answer.
        self.sock_fd = os.dup(sock_fd)

    @classmethod
    def of(cls, scope: Any, send: Any) -> ZeroCopy | None:
        """The zero-copy path for this response, or None where it is not safe. Call after the
        response start was sent (its header bytes must have left the transport's buffer)."""
        if _SENDFILE is None or scope.get("scheme") != "http":
            return None
        cycle = getattr(send, "__self__", None)
        kind = type(cycle)
        if (kind.__module__, kind.__qualname__) != _UVICORN_CYCLE:
            return None
        transport = getattr(cycle, "transport", None)
        if (
            transport is None
            or not isinstance(getattr(cycle, "expected_content_length", None), int)
            or getattr(cycle, "chunked_encoding", None) is not False  # Content-Length was sent
            or transport.is_closing()
            or transport.get_extra_info("sslcontext") is not None
            or transport.get_write_buffer_size() != 0
        ):
            return None
        if same_host(transport):
            return None
        sock = transport.get_extra_info("socket")
        try:
            sock_fd = sock.fileno()
            if sock_fd < 0 or os.get_blocking(sock_fd):
                return None  # a blocking socket would stall the loop on a slow client
        except (AttributeError, OSError):
            return None
        return cls(cycle, transport, sock_fd)

    async def send_file(self, fd: int, offset: int, count: int) -> int:
        """Up to `count` bytes of `fd` from `offset` into the socket; returns how many went
        (fewer when the client left, the file was shorter, or sendfile failed). Call once: it
        closes this object's descriptor. The event loop waits for room on that descriptor too
        (it refuses watchers on a transport's own)."""
        assert _SENDFILE is not None
        loop = asyncio.get_running_loop()
        sent = 0
        try:
            while sent < count:
                if self.transport.is_closing():  # the client left (or the server is stopping)
                    break
                span = min(SPAN, count - sent)
                try:
                    if _cached(fd, offset + sent, span):
                        n = _SENDFILE(self.sock_fd, fd, offset + sent, span)
                    else:  # from the disk: in a worker thread (the socket never blocks it)
                        n = await asyncio.to_thread(
                            _SENDFILE, self.sock_fd, fd, offset + sent, span
                        )
                except BlockingIOError:  # the socket is full: wait for the client to read
                    # bounded: a socket that failed (the client reset it) may never be reported
                    # writable to the watcher; the next sendfile then says what happened
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_writable(loop, self.sock_fd), RECHECK_SECONDS)
                    continue
                except OSError:  # EPIPE/ECONNRESET or no sendfile here: `send` takes over
                    break
                if n == 0:  # the file ended early
                    break
                sent += n
        finally:
            os.close(self.sock_fd)
            self.cycle.expected_content_length -= sent
        return sent


def same_host(transport: Any) -> bool:
    """Whether the client runs on this host: its address is a loopback one or the one it
    reached us at (the kernel routes both through the loopback device). True when it cannot
    be told (no addresses): then the copying path, which is right for any client."""
    peer, local = transport.get_extra_info("peername"), transport.get_extra_info("sockname")
    if not (isinstance(peer, tuple) and isinstance(local, tuple) and peer and local):
        return True  # a Unix socket or an unknown transport
    try:
        address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
        ours = ipaddress.ip_address(str(local[0]).split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(ours, ipaddress.IPv6Address) and ours.ipv4_mapped is not None:
        ours = ours.ipv4_mapped
    return address.is_loopback or address == ours


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = loop.create_future()
    loop.add_writer(fd, _resolve, ready)
    try:
        await ready
    finally:
        loop.remove_writer(fd)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _cached(fd: int, offset: int, size: int) -> bool:
    """Whether the first and the last page of [offset, offset + size) are in the page cache
    (a file read in order is cached or evicted in runs, so the pages between follow), asked
    with `RWF_NOWAIT`, which never waits for the disk; False when the system cannot say."""
    if _NOWAIT is None:
        return False
    probe = bytearray(1)
    for at in (offset, offset + size - 1):
        try:
            if os.preadv(fd, [probe], at, _NOWAIT) != 1:
                return False
        except OSError:  # EAGAIN: not cached; EOPNOTSUPP/EINVAL: this filesystem cannot say
            return False
    return True
