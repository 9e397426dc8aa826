"""A lean HTTP/1.1 keep-alive transport for the client's hot path (httptools' C parser).

    FastTransport(ssl_context, *, limit=16, max_body=64 MiB, ssl_factory=None)
        an httpx.AsyncBaseTransport; `ssl_factory` makes the TLS context on first https use

Why: a tag listing is thousands of small GETs. Per request, httpx's own pool costs ~1–1.8 ms
of CPU, aiohttp ~0.2–0.3 ms, this transport well under 0.1 ms (bench/results-tags.md) — CPU
that is otherwise taken from the UI thread, and from the registry when both share a machine.

Scope, deliberately small: HTTP/1.1 only, one request at a time per connection, bodies read
whole (bounded by `max_body`), no redirects, no proxies, no compression (nothing asks for it).
`RegistryClient` uses it for its own bounded requests; everything else (redirected blob
downloads, streaming) goes through the aiohttp transport behind the httpx client.
Failures are raised as httpx exceptions, like any transport.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable
from typing import cast

import httptools
import httpx

_EXT = {"http_version": b"HTTP/1.1"}
# Sent again on a fresh connection when a kept-alive one closes without an answer. Not DELETE,
# POST or PATCH: the server may have acted before closing, and their callers (the deletion
# executor above all) must see the failure to retry it themselves and report it honestly.
_RESEND_ON_FRESH_CONNECTION = frozenset({"GET", "HEAD", "OPTIONS", "PUT"})


def raw_headers(pairs: list[tuple[bytes, bytes]]) -> httpx.Headers:
    """The `httpx.Headers(pairs)` of an answer's header bytes, without checking and re-encoding
    each name and value (bytes already: nothing to normalise) — 7 µs → 1 µs for an answer's
    dozen headers. tests/unit/core/test_fasthttp.py compares the two."""
    headers = httpx.Headers.__new__(httpx.Headers)
    headers._list = [(name, name.lower(), value) for name, value in pairs]
    headers._encoding = None  # decided on first read, as httpx does
    return headers


class _Connection(asyncio.Protocol):
    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.reusable = False
        self.head_only = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.received = False

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport: uvloop's implement asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.status and self._body_ends_with_connection():
            self._complete(keep_alive=False)  # an HTTP/1.0-style body ends with the connection
        self._fail(httpx.RemoteProtocolError("the server closed the connection"))

    # -- httptools callbacks -----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.head_only:
            # no body follows a HEAD answer whatever Content-Length says: a fresh parser
            # for the next answer on this connection
            self.parser = httptools.HttpResponseParser(self)
            self._complete(keep_alive=True)

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.max_body:
            self._fail(httpx.RemoteProtocolError(f"answer larger than {self.max_body} bytes"))
            if self.transport is not None:
                self.transport.close()
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        self._complete(keep_alive=self.parser.should_keep_alive())

    # -- helpers -----------------------------------------------------------------------------

    def _body_ends_with_connection(self) -> bool:
        # Asked only when the connection is lost (not for every answer): the answer's headers
        # stay until the next request starts.
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def _complete(self, *, keep_alive: bool) -> None:
        self.reusable = keep_alive and not self.closed
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def start(self, payload: bytes, head_only: bool) -> asyncio.Future[None]:
        assert self.transport is not None
        self.status, self.headers, self.body, self.size = 0, [], [], 0
        self.head_only, self.reusable, self.received = head_only, False, False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _expire(answer: asyncio.Future[None]) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError())


class _Pool:
    def __init__(self, limit: int) -> None:
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(limit)


class FastTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        ssl_context: ssl.SSLContext | None = None,
        *,
        limit: int = 16,
        max_body: int = 64 * 1024 * 1024,
        ssl_factory: Callable[[], ssl.SSLContext] | None = None,
    ) -> None:
        self.ssl_context = ssl_context
        self._ssl_factory = ssl_factory  # makes `ssl_context` on the first https request
        self.limit = limit
        self.max_body = max_body
        self._pools: dict[tuple[str, str, int], _Pool] = {}

    async def _open(
        self, scheme: str, host: str, port: int, connect_timeout: float | None
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self.ssl_context is None and self._ssl_factory is not None:
                self.ssl_context = self._ssl_factory()
            tls = self.ssl_context or ssl.create_default_context()
        elif scheme != "http":
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
        try:
            async with asyncio.timeout(connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self.max_body),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls else None,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
        except ssl.SSLError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(f"{host}:{port}: {exc.strerror or exc}") from exc
        return conn

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self.limit)
        timeouts = request.extensions.get("timeout") or {}
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = await request.aread()
        head = [b"%s %s HTTP/1.1\r\n" % (request.method.encode(), url.raw_path)]
        head += [b"%s: %s\r\n" % pair for pair in request.headers.raw]
        if content and "content-length" not in request.headers:
            head.append(f"Content-Length: {len(content)}\r\n".encode())
        head.append(b"\r\n")
        payload = b"".join(head) + content
        head_only = request.method == "HEAD"
        read_timeout = timeouts.get("read")

        async with pool.slots:
            for attempt in (1, 2):
                conn = None
                while pool.idle:
                    candidate = pool.idle.pop()
                    if not candidate.closed:
                        conn = candidate
                        break
                reused = conn is not None
                if conn is None:
                    conn = await self._open(scheme, url.host, port, timeouts.get("connect"))
                answer = conn.start(payload, head_only)
                # a timer that fails the answer's future: what asyncio.timeout did here, at a
                # third of its cost (it cancels and un-cancels the task) on every request
                timer = (
                    None
                    if read_timeout is None
                    else asyncio.get_running_loop().call_later(read_timeout, _expire, answer)
                )
                try:
                    await answer
                except TimeoutError as exc:
                    conn.close()
                    raise httpx.ReadTimeout(f"no answer from {url.host} in time") from exc
                except httpx.RemoteProtocolError:
                    conn.close()
                    # a kept-alive connection the server had already closed: try a fresh one
                    if (
                        reused
                        and not conn.received
                        and attempt == 1
                        and request.method in _RESEND_ON_FRESH_CONNECTION
                    ):
                        continue
                    raise
                finally:
                    if timer is not None:
                        timer.cancel()
                break
            assert conn is not None
            status, headers, body = conn.status, conn.headers, b"".join(conn.body)
            if conn.reusable:
                pool.idle.append(conn)
            else:
                conn.close()
        # the body as a ready stream, marked read: `content=` would add a Content-Length and
        # iterate the bytes once more to "read" them (36 µs against 5 µs per answer, ~10 % of
        # a listing's client CPU); `.content` and the stream both give the body
        response = httpx.Response(
            status, headers=raw_headers(headers), stream=httpx.ByteStream(body), extensions=_EXT
        )
        response._content = body
        return response

    async def aclose(self) -> None:
        for pool in self._pools.values():
            while pool.idle:
                pool.idle.pop().close()
        self._pools.clear()
