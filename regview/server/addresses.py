"""The address clients are told to use (token realm, GitLab URLs): the configured public URL,
else the address the connection actually arrived at — never the request's `Host` header, which
the client chooses (a realm built from it sends the next client's password wherever an earlier
request's header pointed)."""

from __future__ import annotations

from starlette.requests import Request


def public_base(request: Request, configured: str | None = None) -> str:
    """`scheme://host:port` without a trailing slash."""
    if configured:
        return configured.rstrip("/")
    scheme = request.url.scheme
    server = request.scope.get("server")
    if not server:  # no socket (some in-process transports): the app's own name for itself
        return f"{scheme}://localhost"
    host, port = server[0], server[1]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    return f"{scheme}://{shown}" if default or port is None else f"{scheme}://{shown}:{port}"
