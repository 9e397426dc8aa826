"""How the client reaches a registry: TLS trust, the http rules, and the fast transport.

- Trust: the operating system's store through `truststore`, plus a CA file per registry
  (`Endpoint.ca_file`). `Endpoint.insecure` allows plain http and skips TLS verification — the
  user asked for it in the registry's settings, as with containers' `insecure = true`.
- Plain http is refused for anything but loopback unless the registry is marked insecure.
- `AiohttpTransport` (`client.transport_aiohttp`, made on first use: `LazyTransport`) is an
  `httpx.AsyncBaseTransport`
  over one `aiohttp.ClientSession`,
  behind `RegistryClient.http` (an `httpx.AsyncClient`): token requests and anything that
  streams. httpx's own pool costs ~1–1.8 ms of CPU per request (encode/httpx#3215).
- The client's own bounded requests (manifests, configs, tag lists: thousands per listing) go
  through `fasthttp.FastTransport`, leaner still; see bench/results-tags.md for the figures.

    build_ssl_context(endpoint) -> ssl.SSLContext
    check_scheme_allowed(url, endpoint)          raises InsecureRefused
    is_loopback(host) -> bool
    transport_aiohttp.AiohttpTransport(ssl_context, *, limit)   the default transport
    make_http_client(endpoint, *, auth, transport, concurrency, timeout) -> httpx.AsyncClient
    HttpOwner                                    base: `async with` closes through `aclose()`
    proxy_for(url) -> str | None                 the proxy the environment names for a URL

Proxies: the usual `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` variables (as curl, docker and
skopeo read them; on macOS and Windows also the system settings) are honoured per request by `AiohttpTransport`; the lean transport has no
proxy support, so the client does not use it for a registry reached through a proxy.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Callable
from types import TracebackType
from typing import Self

import httpx

from regview.core.errors import InsecureRefused, RegistryError
from regview.core.model import Endpoint
from regview.util.netaddr import is_loopback

USER_AGENT = "regview/0.1 (+https://github.com/regview)"
# Bodies up to this size are read in one go inside the transport: no per-chunk iteration.
_READ_WHOLE = 1024 * 1024
_TIMEOUT = httpx.Timeout(30.0, connect=15.0)


def check_scheme_allowed(url: httpx.URL | str, endpoint: Endpoint) -> None:
    u = httpx.URL(url) if isinstance(url, str) else url
    if u.scheme == "https":
        return
    if u.scheme != "http":
        raise InsecureRefused(
            f"{u.host}: the address {u.scheme}://… is not http or https", registry=u.host
        )
    if not (is_loopback(u.host) or endpoint.insecure):
        raise InsecureRefused(
            f"{u.host}: plain http is only used for loopback addresses; use https, or mark the "
            "registry insecure in its settings if you trust the network",
            registry=u.host,
        )


def build_ssl_context(endpoint: Endpoint) -> ssl.SSLContext:
    if endpoint.insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    import truststore  # the system's trust store: only a https registry needs it (~3 ms)

    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if endpoint.ca_file:
        try:
            ctx.load_verify_locations(cafile=endpoint.ca_file)
        except (ssl.SSLError, OSError, ValueError) as exc:
            # a wrong file picked (a key, a DER file, a binary): words, not an SSLError
            reason = "no PEM certificate in it"
            if not isinstance(exc, ssl.SSLError) and isinstance(exc, OSError) and exc.strerror:
                reason = exc.strerror.lower()
            raise RegistryError(
                f"the CA file {endpoint.ca_file} cannot be used ({reason}): choose the CA's "
                "certificate in PEM format (a text file with -----BEGIN CERTIFICATE-----)"
            ) from exc
    return ctx


def proxy_for(url: httpx.URL | str) -> str | None:
    """The proxy URL the environment sets for `url`, or None (direct, or in NO_PROXY).

    Loopback is never proxied: the embedded registry and tests must not leave the machine.
    """
    u = httpx.URL(str(url))
    host = u.host
    if not host or is_loopback(host) or host == "localhost":
        return None
    # the environment first, then (macOS, Windows) the system's own proxy settings
    proxies = urllib.request.getproxies()
    proxy = proxies.get(u.scheme) or proxies.get("all")
    if not proxy:
        return None
    if urllib.request.proxy_bypass(host):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def make_http_client(
    endpoint: Endpoint,
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    concurrency: int = 16,
    timeout: float | None = None,
) -> httpx.AsyncClient:
    """The httpx client every registry request goes through (one per registry).

    `timeout`: seconds for connecting, reading and waiting for a pooled connection; None keeps
    the default (30 s, 15 s to connect)."""
    check_scheme_allowed(endpoint.url, endpoint)
    if transport is None:

        def aiohttp_transport() -> httpx.AsyncBaseTransport:
            from regview.core.client.transport_aiohttp import AiohttpTransport

            # a few spare connections for token requests made while every worker is busy
            return AiohttpTransport(build_ssl_context(endpoint), limit=concurrency + 4)

        transport = LazyTransport(aiohttp_transport)
    return httpx.AsyncClient(
        transport=transport,
        auth=auth,
        timeout=_TIMEOUT if timeout is None else httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


class LazyTransport(httpx.AsyncBaseTransport):
    """A transport made on its first request. aiohttp's import and a TLS context cost
    0.3–0.6 s of a short command's start-up, and a plain-http listing over the lean transport
    may never need them (they serve token requests, redirects and streams)."""

    def __init__(self, make: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._make = make
        self._transport: httpx.AsyncBaseTransport | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            if self._closed:  # a late request must not make a pool nobody will close
                raise httpx.TransportError("the connection pool was closed")
            self._transport = self._make()
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        self._closed = True
        if self._transport is not None:
            await self._transport.aclose()


class HttpOwner:
    """Base of an object owning HTTP connections: `async with` closes it through `aclose()`."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        raise NotImplementedError
