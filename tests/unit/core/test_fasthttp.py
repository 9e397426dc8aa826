"""FastTransport against a scripted HTTP/1.1 server on a loopback socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from regview.core.client.fasthttp import FastTransport, raw_headers

Answer = Callable[[str, str], bytes]


class Server:
    def __init__(self, answer: Answer, *, close_after: int = 0) -> None:
        self.answer = answer
        self.close_after = close_after  # close each connection after this many answers
        self.connections = 0
        self.requests: list[tuple[str, str, str]] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = dict(line.split(": ", 1) for line in lines[1:] if line)
                body = await reader.readexactly(int(headers.get("Content-Length", "0")))
                self.requests.append((method, target, body.decode()))
                reply = self.answer(method, target)
                if not reply:  # acted, then closed without an answer (a lost reply)
                    break
                writer.write(reply)
                await writer.drain()
                served += 1
                if self.close_after and served >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Server]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer, **kw: int) -> Server:
        s = Server(answer, **kw)
        srv = await asyncio.start_server(s.handle, "127.0.0.1", 0)
        s.port = srv.sockets[0].getsockname()[1]
        servers.append(srv)
        return s

    yield start  # type: ignore[misc]
    for srv in servers:
        srv.close()
        await srv.wait_closed()


def ok(body: bytes, extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def test_keep_alive_reuses_one_connection(serve: Callable[..., Server]) -> None:
    s = await serve(lambda m, t: ok(t.encode()))  # type: ignore[misc]
    t = FastTransport()
    for i in range(20):
        r = await t.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{s.port}/x/{i}"))
        assert r.status_code == 200 and r.content == f"/x/{i}".encode()
    await t.aclose()
    assert s.connections == 1


async def test_chunked_head_304_and_put_body(serve: Callable[..., Server]) -> None:
    def answer(method: str, target: str) -> bytes:
        if method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nDocker-Content-Digest: sha256:x\r\n\r\n"
        if target == "/chunked":
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        if target == "/same":
            return b'HTTP/1.1 304 Not Modified\r\nEtag: "sha256:x"\r\n\r\n'
        return ok(b"stored", "Location: /v2/x\r\n")

    s = await serve(answer)  # type: ignore[misc]
    base = f"http://127.0.0.1:{s.port}"
    t = FastTransport()
    head = await t.handle_async_request(httpx.Request("HEAD", f"{base}/m"))
    assert head.headers["Docker-Content-Digest"] == "sha256:x" and head.content == b""
    assert (
        await t.handle_async_request(httpx.Request("GET", f"{base}/chunked"))
    ).content == b"hello world"
    assert (await t.handle_async_request(httpx.Request("GET", f"{base}/same"))).status_code == 304
    put = await t.handle_async_request(httpx.Request("PUT", f"{base}/p", content=b"payload"))
    assert put.content == b"stored" and s.requests[-1] == ("PUT", "/p", "payload")
    await t.aclose()
    assert s.connections == 1


async def test_stale_keep_alive_connection_is_replaced(serve: Callable[..., Server]) -> None:
    s = await serve(lambda m, t: ok(b"fine"), close_after=1)  # type: ignore[misc]
    t = FastTransport()
    for _ in range(3):
        r = await t.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{s.port}/"))
        assert r.content == b"fine"
        await asyncio.sleep(0.05)  # let the close arrive
    await t.aclose()
    assert s.connections == 3


async def test_a_delete_is_not_sent_again_when_its_connection_closes_unanswered(
    serve: Callable[..., Server],
) -> None:
    """The server may have acted: the caller (the deletion executor) decides about a retry,
    while a GET on a kept-alive connection closed unanswered is sent again."""
    s = await serve(lambda m, t: b"" if t == "/lose" else ok(b"fine"))  # type: ignore[misc]
    t = FastTransport()
    base = f"http://127.0.0.1:{s.port}"
    assert (await t.handle_async_request(httpx.Request("GET", f"{base}/"))).content == b"fine"
    with pytest.raises(httpx.RemoteProtocolError):
        await t.handle_async_request(httpx.Request("DELETE", f"{base}/lose"))
    assert [r[:2] for r in s.requests] == [("GET", "/"), ("DELETE", "/lose")]  # sent once
    assert (await t.handle_async_request(httpx.Request("GET", f"{base}/"))).content == b"fine"
    with pytest.raises(httpx.RemoteProtocolError):  # a fresh connection closed unanswered too
        await t.handle_async_request(httpx.Request("GET", f"{base}/lose"))
    assert [r[:2] for r in s.requests[2:]] == [("GET", "/"), ("GET", "/lose"), ("GET", "/lose")]
    await t.aclose()


async def test_body_limit_and_connection_refused(serve: Callable[..., Server]) -> None:
    s = await serve(lambda m, t: ok(b"x" * 5000))  # type: ignore[misc]
    t = FastTransport(max_body=1000)
    with pytest.raises(httpx.RemoteProtocolError, match="larger than"):
        await t.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{s.port}/"))
    await t.aclose()
    t2 = FastTransport()
    with pytest.raises(httpx.ConnectError):
        await t2.handle_async_request(httpx.Request("GET", "http://127.0.0.1:9/"))
    await t2.aclose()


async def test_concurrency_is_bounded(serve: Callable[..., Server]) -> None:
    s = await serve(lambda m, t: ok(b"ok"))  # type: ignore[misc]
    t = FastTransport(limit=3)
    await asyncio.gather(
        *(
            t.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{s.port}/{i}"))
            for i in range(30)
        )
    )
    await t.aclose()
    assert s.connections <= 3 and len(s.requests) == 30


async def test_body_delimited_by_connection_close(serve: Callable[..., Server]) -> None:
    s = await serve(lambda m, t: b"HTTP/1.0 200 OK\r\n\r\nuntil the end", close_after=1)  # type: ignore[misc]
    t = FastTransport()
    r = await t.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{s.port}/"))
    assert r.content == b"until the end"
    await t.aclose()


@pytest.mark.parametrize(
    "pairs",
    [
        [],
        [(b"Content-Type", b"application/json"), (b"Docker-Content-Digest", b"sha256:ab")],
        [(b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"X-Odd", b"caf\xc3\xa9")],
        [(b"X-Latin", b"\xe9t\xe9")],
    ],
)
def test_raw_headers_are_the_headers_httpx_builds(pairs: list[tuple[bytes, bytes]]) -> None:
    # the transport builds an answer's headers without httpx's per-header normalisation: every
    # read (lookups, repeated names, the lazily detected encoding) must be the same
    want = httpx.Headers(pairs)
    got = raw_headers(pairs)
    assert set(vars(got)) == set(vars(want))
    assert got._list == want._list and got.raw == want.raw
    assert got.encoding == want.encoding
    assert list(got.multi_items()) == list(want.multi_items())
    for name in ["content-type", "Set-Cookie", "x-odd", "X-LATIN", "missing"]:
        assert got.get(name) == want.get(name)
        assert got.get_list(name) == want.get_list(name)
    assert httpx.Response(200, headers=got).headers == httpx.Response(200, headers=want).headers


async def test_read_timeout_fails_the_request_and_the_task_goes_on() -> None:
    """A silent server: the request fails with ReadTimeout after the read timeout, that
    connection is dropped, and the calling task is not left cancelled (the next request on a
    fresh connection is answered)."""
    answered = 0
    handlers: list[asyncio.Task[object]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if b" /silent " in head:
                    continue  # read, never answered
                answered += 1
                writer.write(ok(b"fine"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()
        await writer.wait_closed()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
    t = FastTransport()
    slow = httpx.Request("GET", f"{base}/silent", extensions={"timeout": {"read": 0.2}})
    started = asyncio.get_running_loop().time()
    with pytest.raises(httpx.ReadTimeout, match="no answer"):
        await t.handle_async_request(slow)
    assert 0.15 <= asyncio.get_running_loop().time() - started < 2
    quick = httpx.Request("GET", f"{base}/", extensions={"timeout": {"read": 5.0}})
    assert (await t.handle_async_request(quick)).content == b"fine"
    await asyncio.sleep(0.3)  # the fine answer's timer was cancelled: nothing fires later
    assert (await t.handle_async_request(quick)).content == b"fine" and answered == 2
    await t.aclose()
    await asyncio.wait(handlers, timeout=5)  # each saw its connection closed and closed too
    srv.close()
    await srv.wait_closed()
