"""Blob bodies sent with `sendfile` (`regview.server.v2.zerocopy`) over real sockets, as
`regview serve` runs (uvicorn + httptools + uvloop): the bytes, ranges and keep-alive are as
through `send`; a slow reader, a reader that resets the connection and pages that must come from
the disk are handled; TLS never takes the zero-copy path (the socket carries ciphertext), nor
does a client on this host (its kernel would pay for sendfile's page-sized fragments).

The tests' clients all run on this host, so the sendfile tests let the server take them for
remote ones (`Spy(..., remote=True)` replaces `zerocopy.same_host`)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fault_servers import make_tls

from regview.server import runner
from regview.server.runner import LocalRegistry
from regview.server.v2 import blobs as v2_blobs
from regview.server.v2 import zerocopy

pytestmark = pytest.mark.integration

REPO = "bench/zero"
# spans of 256 KiB (patched below): the body crosses many sendfile spans, ragged at the end
SPAN = 256 * 1024
DATA = os.urandom(9 * SPAN + 4_321)
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()
URL = f"/v2/{REPO}/blobs/{DIGEST}"


class Spy:
    """Counts what went out through sendfile (and from which thread) and through `send`'s
    read path."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, remote: bool = True) -> None:
        self.sendfile_bytes = 0
        self.sendfile_threads: set[str] = set()
        self.read_bytes = 0
        self.lock = threading.Lock()
        real_sendfile = os.sendfile
        real_cached = v2_blobs.read_cached
        real_pread = os.pread

        def sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> int:
            n = real_sendfile(out_fd, in_fd, offset, count)
            with self.lock:
                self.sendfile_bytes += n
                self.sendfile_threads.add(threading.current_thread().name)
            return n

        def read_cached(fd: int, size: int, offset: int) -> memoryview | None:
            got = real_cached(fd, size, offset)
            with self.lock:
                self.read_bytes += len(got) if got is not None else 0
            return got

        def pread(fd: int, size: int, offset: int) -> bytes:
            got = real_pread(fd, size, offset)
            with self.lock:
                self.read_bytes += len(got)
            return got

        if remote:  # every client here is on this host: let the server take it for a remote one
            monkeypatch.setattr(zerocopy, "same_host", lambda transport: False)
        monkeypatch.setattr(zerocopy, "_SENDFILE", sendfile)
        monkeypatch.setattr(zerocopy, "SPAN", SPAN)
        monkeypatch.setattr(v2_blobs, "read_cached", read_cached)
        monkeypatch.setattr(v2_blobs.os, "pread", pread)


def push(reg: LocalRegistry, verify: bool | ssl.SSLContext = True) -> None:
    with httpx.Client(base_url=reg.url, timeout=30, verify=verify) as http:
        r = http.post(f"/v2/{REPO}/blobs/uploads/?digest={DIGEST}", content=DATA)
        assert r.status_code == 201, r.text


@pytest.fixture(params=["uvloop", "asyncio"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[LocalRegistry, Spy]]:
    """The registry on uvloop (as `regview serve` runs where it is installed) and on asyncio's
    own loop (where it is not): both must accept a watcher on the duplicated descriptor."""
    if request.param == "asyncio":
        monkeypatch.setattr(runner, "loop_factory", lambda: asyncio.new_event_loop)
    spy = Spy(monkeypatch)
    with LocalRegistry(tmp_path / "data") as reg:
        assert reg.loop_name.startswith(request.param), reg.loop_name
        push(reg)
        yield reg, spy


RANGES = ((0, 0), (SPAN - 1, SPAN), (10, 3 * SPAN + 7), (SPAN, len(DATA) - 1))


def check_bodies(http: httpx.Client) -> int:
    """Whole body and ranges crossing span boundaries on one keep-alive connection; returns
    the body bytes received."""
    total = 0
    r = http.get(URL)
    assert r.status_code == 200 and r.content == DATA
    assert r.headers["Content-Length"] == str(len(DATA))
    total += len(r.content)
    for start, end in RANGES:
        r = http.get(URL, headers={"Range": f"bytes={start}-{end}"})
        assert r.status_code == 206, r.text
        assert r.content == DATA[start : end + 1], (start, end)
        total += len(r.content)
    r = http.get(URL, headers={"Range": "bytes=-5000"})
    assert r.status_code == 206 and r.content == DATA[-5000:]
    total += len(r.content)
    r = http.head(URL)  # a HEAD after zero-copy bodies: headers only, same connection
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(DATA))
    return total


def one_connection(reg: LocalRegistry) -> Callable[[], int]:
    """A client allowed a single connection, so every request above reuses it."""

    def run() -> int:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=reg.url, timeout=30, limits=limits) as http:
            return check_bodies(http)

    return run


def test_blob_bodies_go_out_with_sendfile(served: tuple[LocalRegistry, Spy]) -> None:
    reg, spy = served
    received = one_connection(reg)()
    # every body byte went through sendfile; none was read into Python
    assert spy.sendfile_bytes == received
    assert spy.read_bytes == 0


def test_a_client_on_this_host_gets_copied_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # over loopback the client's kernel runs the packets' fragments: sendfile's page-sized ones
    # cost a local puller ~30 % more CPU per byte than copied ones (bench/results-server.md)
    spy = Spy(monkeypatch, remote=False)
    with LocalRegistry(tmp_path / "data") as reg:
        push(reg)
        received = one_connection(reg)()
    assert spy.sendfile_bytes == 0
    assert spy.read_bytes == received


def test_pages_not_in_the_page_cache_are_sent_from_a_worker_thread(
    served: tuple[LocalRegistry, Spy], monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, spy = served
    monkeypatch.setattr(zerocopy, "_cached", lambda fd, offset, size: False)
    received = one_connection(reg)()
    assert spy.sendfile_bytes == received and spy.read_bytes == 0
    # never on the server's event-loop thread (a read from the disk would stall every client)
    assert spy.sendfile_threads
    assert f"regview-registry-{reg.port}" not in spy.sendfile_threads, spy.sendfile_threads


def push_big(reg: LocalRegistry) -> tuple[bytes, str]:
    """A blob larger than the most a loopback socket buffers (net.ipv4.tcp_wmem's 4 MiB by
    default), so that sendfile meets a full socket; returns its bytes and URL."""
    big = os.urandom(12 * 1024 * 1024)
    digest = "sha256:" + hashlib.sha256(big).hexdigest()
    with httpx.Client(base_url=reg.url, timeout=30) as http:
        r = http.post(f"/v2/{REPO}/blobs/uploads/?digest={digest}", content=big)
        assert r.status_code == 201, r.text
    return big, f"/v2/{REPO}/blobs/{digest}"


def raw_get(port: int, rcvbuf: int, url: str = URL) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # a small receive buffer: the server's socket fills and sendfile meets EAGAIN
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def test_a_slow_reader_gets_every_byte(
    served: tuple[LocalRegistry, Spy], monkeypatch: pytest.MonkeyPatch
) -> None:
    reg, spy = served
    waits: list[int] = []
    real_writable = zerocopy._writable

    async def writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
        waits.append(fd)
        await real_writable(loop, fd)

    monkeypatch.setattr(zerocopy, "_writable", writable)
    big, url = push_big(reg)
    with raw_get(reg.port, 8192, url) as sock:
        got = bytearray()
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        head, _, rest = head.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        got += rest
        time.sleep(0.5)  # the server fills every buffer and waits for room
        while len(got) < len(big):
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(got)} of {len(big)} bytes"
            got += chunk
        assert bytes(got) == big
    assert spy.sendfile_bytes == len(big)
    assert waits, "the socket never filled: this test did not wait for room"


def blob_files_open(reg: LocalRegistry) -> int:
    blobs = str(reg.data_dir / "blobs")
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if str(fd.readlink()).startswith(blobs):
                count += 1
        except OSError:
            continue
    return count


def test_a_reader_that_resets_mid_body_frees_the_file_and_the_server_serves_on(
    served: tuple[LocalRegistry, Spy],
) -> None:
    reg, spy = served
    big, url = push_big(reg)
    for _ in range(3):
        sock = raw_get(reg.port, 4096, url)
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        # close with unread data and no linger: the kernel answers with a reset
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    deadline = time.monotonic() + 3 * zerocopy.RECHECK_SECONDS + 5
    while blob_files_open(reg) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert blob_files_open(reg) == 0, "a response kept its blob file open after the reset"
    assert spy.sendfile_bytes < 3 * len(big)  # each response stopped where the reset came
    assert one_connection(reg)() > 0


def test_tls_bodies_never_use_sendfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    tls = make_tls(tmp_path / "tls")
    with LocalRegistry(tmp_path / "data", tls_cert=tls.cert, tls_key=tls.key) as reg:
        trust = ssl.create_default_context(cafile=str(tls.ca))
        push(reg, verify=trust)
        with httpx.Client(base_url=reg.url, timeout=30, verify=trust) as http:
            received = check_bodies(http)
    assert spy.sendfile_bytes == 0
    assert spy.read_bytes == received


def test_h11_bodies_never_use_sendfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # h11's state machine must see every body byte: its request cycle is not the one zerocopy
    # knows, so the body goes through `send`
    spy = Spy(monkeypatch)
    monkeypatch.setattr(runner, "http_implementation", lambda: "h11")
    with LocalRegistry(tmp_path / "data") as reg:
        push(reg)
        received = one_connection(reg)()
    assert spy.sendfile_bytes == 0
    assert spy.read_bytes == received
