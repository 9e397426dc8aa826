"""HTTP/2 for the client's hot path, where a registry offers it over TLS (httpx + h2).

    h2_transport(ssl_context, *, limit) -> httpx.AsyncBaseTransport

Many requests share one connection as streams: no per-connection TCP and TLS handshakes (two
to three round trips each) when the limiter raises the requests in flight over a long link.
httpcore negotiates it with ALPN and falls back to HTTP/1.1 on its own when the server does not
offer h2. It costs more CPU per request than `fasthttp` (pure-Python framing), which is why it
is used only when asked for (`RegistryHttp(http2=True)`, the `REGVIEW_HTTP2=1` environment
variable): bench/results-wan.md has the comparison that decided the default.
"""

from __future__ import annotations

import ssl

import httpx


def h2_transport(ssl_context: ssl.SSLContext, *, limit: int) -> httpx.AsyncBaseTransport:
    # `limit` connections at most; HTTP/2 needs one per origin, the rest serve an HTTP/1.1
    # fallback at the same concurrency as the lean transport
    return httpx.AsyncHTTPTransport(
        http2=True,
        verify=ssl_context,
        limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
        retries=0,
    )
