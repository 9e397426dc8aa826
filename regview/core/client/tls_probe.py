"""Is a plain-http address really a TLS port? The words for the mistake, instead of a riddle.

Loopback addresses typed without a scheme are plain http (as Docker treats 127.0.0.0/8). A
registry there that serves TLS then answers in ways that explain nothing: Python and most TLS
servers close the connection ("the server closed the connection"), Go's net/http answers 400
"Client sent an HTTP request to an HTTPS server". When a plain-http request fails like that,
`tls_port_error` opens one TLS connection to the same port (a handshake only: no request is
sent, and the certificate is not judged — the question is only whether TLS is spoken there) and,
if it is, returns an error telling the user to write https://.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

import httpx

from regview.core import errors as E

#: a TLS handshake on a loopback or LAN port takes milliseconds; a port that does not answer
#: one within this is not a TLS port worth mentioning
PROBE_TIMEOUT = 3.0

#: what Go's net/http (docker-registry, Harbor, Zot…) answers plain http on a TLS port
GO_TLS_REFUSAL = b"Client sent an HTTP request to an HTTPS server"

# The failures a plain-http request meets at a TLS port (not "connection refused", not timeouts)
PLAIN_AT_TLS_FAILURES = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


async def speaks_tls(host: str, port: int) -> bool:
    """True when `host:port` completes a TLS handshake within PROBE_TIMEOUT."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # only asking whether TLS is spoken; nothing is sent
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx), timeout=PROBE_TIMEOUT
        )
    except (OSError, TimeoutError):  # ssl.SSLError is an OSError
        return False
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), timeout=PROBE_TIMEOUT)
    return True


async def tls_port_error(registry: str, url: httpx.URL, what: str) -> E.ConnectionFailed | None:
    """The error to report when the plain-http `url` failed because its port speaks TLS;
    None when it is not (or `url` was https anyway)."""
    if url.scheme != "http" or not url.host:
        return None
    if not await speaks_tls(url.host, url.port or 80):
        return None
    https = f"https://{registry}"
    return E.ConnectionFailed(
        f"{registry}: {what}: this port speaks TLS (https), not plain http: use the address "
        f"{https} (if its certificate comes from a private CA, trust that CA's file too)",
        registry=registry,
    )
