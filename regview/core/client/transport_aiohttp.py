"""The default httpx transport: one `aiohttp.ClientSession` per registry client.

    AiohttpTransport(ssl_context, *, limit)      HTTP/1.1, keep-alive, bounded pool, proxies

httpx's own pool costs ~1–1.8 ms of CPU per request (encode/httpx#3215); aiohttp's is cheaper.
A module of its own so that `import aiohttp` (~60 ms) happens when the first client is made, not
while the window starts (`transport.make_http_client` imports it then).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from functools import lru_cache

import aiohttp
import httpx

from regview.core.client.transport import _READ_WHOLE, proxy_for


@lru_cache(maxsize=32)
def _aiohttp_timeout(
    connect: float | None, read: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read, connect=pool)


class _Stream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(64 * 1024):
                yield chunk
        except aiohttp.ClientPayloadError as exc:
            raise httpx.ReadError(str(exc)) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(str(exc)) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx transport over one aiohttp session (HTTP/1.1, keep-alive, bounded pool).

    Never follows redirects itself (httpx does, dropping Authorization across hosts).
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None, *, limit: int = 32) -> None:
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            # a late request (a task that outlived its client): opening a new pool here would
            # leave a connector nobody closes ("unclosed TCPConnector" at garbage collection)
            raise httpx.TransportError("the connection pool was closed")
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit, limit_per_host=0, ssl=self._ssl, keepalive_timeout=30
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._get_session()
        t = request.extensions.get("timeout") or {}
        timeout = _aiohttp_timeout(t.get("connect"), t.get("read"), t.get("pool"))
        try:
            data: bytes | None = request.content or None
        except httpx.RequestNotRead:
            data = await request.aread() or None
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            resp = await session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=timeout,
                proxy=proxy_for(request.url),
            )
        except aiohttp.ClientConnectorCertificateError as exc:
            raise httpx.ConnectError(str(exc.certificate_error)) from exc.certificate_error
        except aiohttp.ClientSSLError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ServerTimeoutError as exc:
            raise httpx.ReadTimeout(str(exc)) from exc
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc)) from exc
        except aiohttp.InvalidURL as exc:
            raise httpx.UnsupportedProtocol(str(exc)) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(str(exc)) from exc
        ext = {"http_version": b"HTTP/1.1", "reason_phrase": (resp.reason or "").encode()}
        length = resp.content_length
        if request.method == "HEAD" or (length is not None and length <= _READ_WHOLE):
            try:
                body = b"" if request.method == "HEAD" else await resp.read()
            except aiohttp.ClientError as exc:
                raise httpx.ReadError(str(exc)) from exc
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc)) from exc
            finally:
                resp.release()
            return httpx.Response(
                resp.status, headers=resp.raw_headers, content=body, extensions=ext
            )
        return httpx.Response(
            resp.status, headers=resp.raw_headers, stream=_Stream(resp), extensions=ext
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            # shielded: a cancelled caller must not leave the pool half closed
            await asyncio.shield(session.close())
