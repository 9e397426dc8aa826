"""The client's one request path: retries with backoff, bounded reads, the auth flow over the
lean transport, and transport failures translated into `RegistryError`.

    RegistryHttp(endpoint, credentials, *, cache_dir=None, concurrency=None, max_concurrency=None,
                 transport=None, prefer_oauth=False, sleep=asyncio.sleep, timeout=None,
                 http2=None)                      HTTP/2 over TLS (None: REGVIEW_HTTP2=1)
        .limiter                                      requests in flight, adapted (core/limiter)
        .send(method, url, *, what, ok=(200,), headers=None, content=None, cap=...,
              follow_redirects=False) -> (response, body)
        .url(path) -> httpx.URL                       relative to the registry's base
    connection_error(registry, exc, what) -> RegistryError

The base of `RegistryClient`; the registry operations live in the `client_*` modules.

Every attempt holds a slot of `limiter` (`AdaptiveLimiter`). An explicit `concurrency` is a
fixed limit, as it always was; without one the limit adapts to the link from 16 up to
`max_concurrency` (else 64). The endpoint's `max_concurrency` (the registry's settings) caps both. A 429 is retried
up to `MAX_THROTTLED_ATTEMPTS` times — the limiter slows the whole client down meanwhile — except
when the registry says its allowance is used up (`RateLimit-Remaining: 0`): waiting hours is
not a retry.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from regview.core import errors as E
from regview.core.client.auth import RegistryAuth, token_refused
from regview.core.client.cache import ContentCache, ListingCache
from regview.core.client.limiter import DEFAULT_CEILING, START_CONCURRENCY, AdaptiveLimiter, Outcome
from regview.core.client.tls_probe import GO_TLS_REFUSAL, PLAIN_AT_TLS_FAILURES, tls_port_error
from regview.core.client.transport import HttpOwner, build_ssl_context, make_http_client, proxy_for
from regview.core.model import Credentials, Endpoint, RegistryKind
from regview.spec.jsondoc import JSONDocumentError, parse_json
from regview.spec.manifest import MAX_MANIFEST_BYTES

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT"})
MAX_ATTEMPTS = 4
MAX_THROTTLED_ATTEMPTS = 12  # 429s: the server is alive and asks for patience
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 60.0


def _cert_problem(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def connection_error(registry: str, exc: httpx.HTTPError, what: str) -> E.RegistryError:
    """The RegistryError for an httpx transport failure."""
    if _cert_problem(exc):
        return E.CertificateNotTrusted(
            f"{registry}: the TLS certificate is not trusted; if the registry uses a "
            "private CA, trust a CA file in the registry's settings",
            registry=registry,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return E.InsecureRefused(
            f"{registry}: {what}: unsupported address ({exc})", registry=registry
        )
    return E.ConnectionFailed(
        f"{registry}: {what}: cannot reach the registry — {_why_unreachable(registry, exc)}; "
        "check the address and the network",
        registry=registry,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, then what caused it, and so on: at most 8 deep (a chain can loop)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def nobody_there(exc: httpx.HTTPError) -> bool:
    """The connection was refused or the name is unknown (not a timeout, not a reset): on a
    first contact, the address is wrong or nothing runs there — retrying will not help."""
    for seen in _causes(exc):
        if isinstance(seen, ConnectionRefusedError):
            return True
        if isinstance(seen, socket.gaierror):
            return seen.errno != socket.EAI_AGAIN  # (a resolver's own blip is retried)
    return False


def _why_unreachable(registry: str, exc: httpx.HTTPError) -> str:
    """The transport's failure in words ("Connect call failed ('127.0.0.1', 1)" told a person
    nothing): what the operating system said, found along the exception's causes."""
    host, _, port = registry.rpartition(":")
    if not host or not port.isdigit():
        host, port = registry, ""
    where = f"{host} port {port}" if port else host
    for seen in _causes(exc):
        if isinstance(seen, ConnectionRefusedError):
            return f"nothing answers on {where} (connection refused: is the registry running?)"
        if isinstance(seen, socket.gaierror):
            return f"the name {host} is not found (DNS)"
        if isinstance(seen, ConnectionResetError):
            return f"{where} closed the connection (reset)"
        if isinstance(seen, httpx.TimeoutException | TimeoutError):
            return f"{where} did not answer in time (timeout)"
    return f"{exc.__class__.__name__}: {exc or 'no details'}"


_BODILESS = frozenset({"GET", "HEAD"})
_NO_BODY = httpx.ByteStream(b"")


def bodiless_request(method: str, url: httpx.URL, headers: dict[str, str]) -> httpx.Request:
    """The `httpx.Request` that `httpx.Request(method, url, headers=headers)` builds for a GET
    or HEAD — Host first, then `headers`, an empty body read — without its generic preparation
    (encoding the body, three header scans, the headers normalised twice): 43 µs → 2 µs, on
    every one of a listing's thousands of requests, ~15 % of the client's CPU per request.
    tests/unit/core/test_client_nits.py compares the two attribute by attribute."""
    request = httpx.Request.__new__(httpx.Request)
    request.method = method
    request.url = url
    # httpx.Headers([("Host", …), *headers.items()]) without its per-item type dispatch: the
    # names and values (str) encoded as ASCII, a UnicodeEncodeError for anything else, as there
    lean = httpx.Headers.__new__(httpx.Headers)
    lean._list = [(b"Host", b"host", url.netloc.decode("ascii").encode("ascii"))]
    for name, value in headers.items():
        key = name.encode("ascii")
        lean._list.append((key, key.lower(), value.encode("ascii")))
    lean._encoding = None
    request.headers = lean
    request.extensions = {}
    request.stream = _NO_BODY
    request._content = b""
    return request


def _fast_transport(
    endpoint: Endpoint, concurrency: int, http2: bool = False
) -> httpx.AsyncBaseTransport | None:
    """The lean transport when httptools is installed (it is a dependency; be lenient); the
    HTTP/2 one for a https registry when `http2` is asked for.

    None when the environment routes this registry through a proxy: only the aiohttp
    transport speaks to proxies.
    """
    if proxy_for(endpoint.url) is not None:
        return None
    if http2 and endpoint.url.startswith("https"):
        from regview.core.client.transport_h2 import h2_transport

        return h2_transport(build_ssl_context(endpoint), limit=concurrency)
    try:
        from regview.core.client.fasthttp import FastTransport
    except ImportError:  # pragma: no cover - packaging problem, the aiohttp path still works
        return None
    # the TLS context is made when a https request needs it: making one reads the system's
    # CA store (~0.1 s), wasted on a plain-http (loopback) registry
    return FastTransport(limit=concurrency, ssl_factory=lambda: build_ssl_context(endpoint))


# Paths made only of these characters need no quoting: repository names, tags and digests.
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9._~/:@+-]*$")


def _url_with_path(base: httpx.URL, path: str) -> httpx.URL:
    """`base` with another (already valid) path, without re-parsing the whole URL.

    httpx validates a URL character by character (~50 µs); a 10,000-tag listing builds
    20,000 of them. Falls back to the public API if httpx's internals ever change.
    """
    ref = getattr(base, "_uri_reference", None)
    if ref is None or not hasattr(ref, "_replace"):
        return base.copy_with(raw_path=path.encode("ascii"))
    url = httpx.URL.__new__(httpx.URL)
    url._uri_reference = ref._replace(path=path, query=None, fragment=None)
    return url


class _Borrowed(httpx.AsyncBaseTransport):
    """Another client's transport: requests go through it, closing leaves it to its owner."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        pass


class RegistryHttp(HttpOwner):
    """One registry's connection and request path; `RegistryClient` adds the operations."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | None = None,
        *,
        cache_dir: Path | None = None,
        concurrency: int | None = None,
        max_concurrency: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        prefer_oauth: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: float | None = None,
        http2: bool | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        ceiling = max_concurrency or concurrency or DEFAULT_CEILING
        if endpoint.max_concurrency > 0:  # the user's cap for this registry
            ceiling = min(ceiling, endpoint.max_concurrency)
        self.limiter = AdaptiveLimiter(start=concurrency or START_CONCURRENCY, ceiling=ceiling)
        self.concurrency = self.limiter.limit  # where it started
        self.base = httpx.URL(endpoint.url.rstrip("/") + "/")
        self.registry = self.base.netloc.decode("ascii")
        self._base_str = str(self.base)
        self._base_path = self.base.raw_path.decode("ascii").split("?")[0]
        self.auth = RegistryAuth(endpoint, credentials, prefer_oauth=prefer_oauth)
        self.http = make_http_client(
            endpoint,
            auth=self.auth,
            transport=transport,
            concurrency=self.limiter.ceiling,
            timeout=timeout,
        )
        # token requests share the transport (owned by `http`) but carry no registry auth
        self._token_http = httpx.AsyncClient(
            transport=_Borrowed(self.http._transport), timeout=self.http.timeout, trust_env=False
        )
        self.auth.send = self._token_http.send
        # the hot path: bounded requests over the lean transport unless one was given (tests)
        self._transport: httpx.AsyncBaseTransport = (
            transport
            or _fast_transport(
                endpoint,
                self.limiter.ceiling,
                os.environ.get("REGVIEW_HTTP2") == "1" if http2 is None else http2,
            )
            or self.http._transport
        )
        self._timeout = self.http.timeout.as_dict()
        self._default_headers = {"User-Agent": self.http.headers["User-Agent"]}
        self.content = ContentCache(cache_dir / "by-digest") if cache_dir else None
        self.listings = ListingCache(cache_dir / "listings") if cache_dir else None
        self._sleep = sleep
        self.requests = 0  # every HTTP request sent to the registry (for tests and bench)
        # Whether the registry ever answered this client: until it has, a refused connection
        # or an unknown name is the address's fault, reported at once (a retry with backoff
        # only made the user wait ~4 s for "nothing answers"); after, it is a blip, retried.
        self.reached = False
        self._closed = False

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Each step runs whatever the one before did: a task cancelled while the cache flushed
        # used to leave the connection pool open for good (a second aclose() returns at once)
        # — the "unclosed TCPConnector" some UI journeys reported after a dialog was closed.
        try:
            if self.content is not None:
                try:
                    await self.content.flush()
                finally:
                    self.content.close()
        finally:
            try:
                await self._token_http.aclose()  # borrows the transport: leaves it open
            finally:
                try:
                    await self.http.aclose()  # closes the shared transport
                finally:
                    if self._transport is not self.http._transport:
                        await self._transport.aclose()

    @property
    def counts_pulls(self) -> bool:
        """True where manifest GETs count against a pull allowance (HEADs do not)."""
        return self.endpoint.kind is RegistryKind.DOCKER_HUB or self.limiter.allowance is not None

    # -- the one request path ----------------------------------------------------------------

    def url(self, path: str) -> httpx.URL:
        path = path.lstrip("/")
        if _PLAIN_PATH.match(path):
            return _url_with_path(self.base, self._base_path + path)
        return httpx.URL(self._base_str + path)

    async def send(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        what: str,
        ok: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        cap: int = MAX_MANIFEST_BYTES,
        follow_redirects: bool = False,
    ) -> tuple[httpx.Response, bytes]:
        """Send with retries; return (response, body) for a status in `ok`, else raise."""
        target = url if isinstance(url, httpx.URL) else self.url(url)
        limiter = self.limiter
        attempt = throttled = 0
        while True:
            attempt += 1
            self.requests += 1
            started = await limiter.acquire()
            # what the link said: only failed connections and 429/503 slow the client down
            # (an auth or protocol error, a cancelled task say nothing about congestion)
            outcome = Outcome.OK
            try:
                try:
                    response = await self._direct(method, target, headers, content)
                    self.reached = True
                    hops = 0
                    while follow_redirects and response.is_redirect and method in ("GET", "HEAD"):
                        hops += 1
                        if hops > MAX_REDIRECTS:
                            raise E.ProtocolError(
                                f"{self.registry}: {what}: more than {MAX_REDIRECTS} redirects",
                                registry=self.registry,
                            )
                        # Authorization only ever goes to the registry's own origin (auth flow)
                        location = response.request.url.join(response.headers["Location"])
                        await response.aclose()
                        response = await self._direct(method, location, headers, None)
                except httpx.HTTPError as exc:
                    err = self._connection_error(exc, what)
                    if err.temporary:  # not a certificate or address problem: the link
                        outcome = Outcome.RESET
                    if (
                        err.temporary
                        and method in IDEMPOTENT
                        and attempt < MAX_ATTEMPTS
                        and (self.reached or not nobody_there(exc))
                    ):
                        retry: float | None = self._backoff(attempt, None)
                    else:
                        if isinstance(exc, PLAIN_AT_TLS_FAILURES):
                            err = await tls_port_error(self.registry, target, what) or err
                        raise err from exc
                else:
                    retry = None
                    status = response.status_code
                    rh = response.headers
                    if "ratelimit-remaining" in rh or "x-ratelimit-remaining" in rh:
                        limiter.note_headers(rh)
                    outcome = Outcome.THROTTLED if status in (429, 503) else Outcome.OK
                    try:
                        body = await self._read(
                            response, cap if status in ok else E.MAX_ERROR_BODY, what
                        )
                    except E.ConnectionFailed:
                        # the body of a streamed answer broke off (an HTTP/2 server's GOAWAY
                        # after its N-th stream, a reset): retried like a failed request
                        outcome = Outcome.RESET
                        if method not in IDEMPOTENT or attempt >= MAX_ATTEMPTS:
                            raise
                        retry = self._backoff(attempt, None)
                    finally:
                        if type(response.stream) is httpx.ByteStream:
                            # read whole by the lean transport: closing its stream does nothing
                            # but httpx's close still built a context manager (~3 µs a request)
                            response.is_closed = True
                        else:
                            await response.aclose()
            finally:
                limiter.release(started, outcome)
            if retry is not None:
                await self._sleep(retry)
                continue
            if status in ok:
                return response, body
            error = E.error_for_status(
                status,
                body,
                rh.get("Content-Type", ""),
                registry=self.registry,
                what=what,
                method=method,
                retry_after=rh.get("Retry-After"),
                www_authenticate=rh.get("WWW-Authenticate", ""),
            )
            if isinstance(error, E.TooManyRequests):
                throttled += 1
                allowance = limiter.allowance
                error.allowance = allowance
                if allowance is not None and allowance.remaining == 0:
                    error.message = E.allowance_used_up(self.registry, allowance.describe())
                    raise error  # hours until it resets: no point retrying now
                if error.retry_after is not None:
                    limiter.pause(min(error.retry_after, MAX_RETRY_AFTER))
                if throttled < MAX_THROTTLED_ATTEMPTS:
                    attempt -= 1  # a 429 is not a failure of the request itself
                    await self._sleep(self._backoff(throttled, error.retry_after))
                    continue
                if allowance is not None:
                    error.message += f" ({allowance.describe()})"
                raise error
            if error.temporary and attempt < MAX_ATTEMPTS and method in IDEMPOTENT:
                await self._sleep(self._backoff(attempt, None))
                continue
            if status == 400 and GO_TLS_REFUSAL in body:
                raise await tls_port_error(self.registry, target, what) or error
            raise error

    async def _direct(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str] | None,
        content: bytes | None,
    ) -> httpx.Response:
        """The auth flow and the transport, without httpx.AsyncClient's per-request machinery
        (header/cookie merging, redirect bookkeeping, hooks): ~0.1 ms of CPU saved on each of
        the thousands of requests of a tag listing. Redirects are not followed here."""
        merged = dict(self._default_headers)
        if headers:
            merged.update(headers)
        if content is None and method in _BODILESS:
            request = bodiless_request(method, url, merged)
        else:
            request = httpx.Request(method, url, headers=merged, content=content)
        request.extensions["timeout"] = self._timeout
        # the auth flow's steps (RegistryAuth.async_auth_flow) without its generator
        auth = self.auth
        needed = await auth.prepare(request)
        response = await self._transport.handle_async_request(request)
        response.request = request
        if needed is not None and await auth.retry(request, response, needed):
            response = await self._send_again(request, response)
            # A token refused as soon as it was issued (revoked between the realm and the
            # registry, a registry whose clock runs ahead of the realm's, or another request's
            # 401 had it declared dead meanwhile): one more fresh token before the 401 stands.
            # Any other second 401 (a missing scope, Basic refused) stands at once.
            if token_refused(response) and await auth.retry(request, response, needed):
                response = await self._send_again(request, response)
        return response

    async def _send_again(self, request: httpx.Request, answered: httpx.Response) -> httpx.Response:
        await answered.aclose()
        response = await self._transport.handle_async_request(request)
        response.request = request
        return response

    @staticmethod
    def _backoff(attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        return float(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.75 + random.random() / 2))

    async def _read(self, response: httpx.Response, cap: int, what: str) -> bytes:
        length = response.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > cap:
            if cap == E.MAX_ERROR_BODY:
                return b""  # an oversized error body: the status alone will do
            raise E.ProtocolError(
                f"{self.registry}: {what}: the answer is {int(length)} bytes, more than the "
                f"{cap} allowed",
                registry=self.registry,
            )
        stream = response.stream
        if isinstance(stream, httpx.ByteStream) and "Content-Encoding" not in response.headers:
            # already in memory (the lean transport reads bodies whole): no decoder pipeline
            body = b"".join(stream)
            if len(body) > cap and cap != E.MAX_ERROR_BODY:
                raise E.ProtocolError(
                    f"{self.registry}: {what}: the answer is larger than the {cap} bytes allowed",
                    registry=self.registry,
                )
            return body[:cap]
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > cap:
                    if cap == E.MAX_ERROR_BODY:
                        break
                    raise E.ProtocolError(
                        f"{self.registry}: {what}: the answer is larger than the {cap} bytes "
                        "allowed",
                        registry=self.registry,
                    )
                chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise self._connection_error(exc, what) from exc
        return b"".join(chunks)

    def _connection_error(self, exc: httpx.HTTPError, what: str) -> E.RegistryError:
        return connection_error(self.registry, exc, what)

    def _json(self, body: bytes, what: str) -> Any:
        try:
            return parse_json(body, what="answer")
        except JSONDocumentError as exc:
            hint = E.HTML_HINT if E.looks_like_html(body, "") else str(exc)
            raise E.ProtocolError(
                f"{self.registry}: {what}: {hint}", registry=self.registry
            ) from exc
