"""What every /v2 handler shares: the request context, response headers, OCI error bodies,
and parsing of digests and page sizes into `RegistryError`s."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from regview import __version__
from regview.server.auth import Access, Authorizer
from regview.server.errors import RegistryError
from regview.server.registry.registry import Registry
from regview.spec.digest import Digest
from regview.spec.errors import ErrorCode, InvalidDigest

API_HEADER = ("Docker-Distribution-API-Version", "registry/2.0")
#: on `/v2/` (also when it answers 401), so a client's probe can tell regview's own registry
VERSION_HEADER = ("Regview-Registry-Version", __version__)

Handler = Callable[["Ctx"], Awaitable[Response]]


def oci_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    h = {API_HEADER[0]: API_HEADER[1]}
    if extra:
        h.update(extra)
    return h


def error_response(exc: RegistryError, *, head: bool = False) -> Response:
    body = json.dumps(exc.body()).encode()
    headers = oci_headers(exc.headers)
    if head:
        headers["Content-Length"] = str(len(body))
        return Response(b"", exc.status, headers, media_type="application/json")
    return Response(body, exc.status, headers, media_type="application/json")


def json_response(
    obj: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    return Response(json.dumps(obj).encode(), status, oci_headers(headers), media_type=media_type)


def parse_digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except InvalidDigest as exc:
        raise RegistryError(ErrorCode.DIGEST_INVALID, str(exc)) from exc


def parse_n(raw: str | None, maximum: int | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise RegistryError(
            ErrorCode.PAGINATION_NUMBER_INVALID, f"n={raw!r} is not a non-negative integer"
        )
    n = int(raw)
    if maximum is not None and n > maximum:
        raise RegistryError(
            ErrorCode.PAGINATION_NUMBER_INVALID, f"n={n} is more than the maximum {maximum}"
        )
    return n


class Ctx:
    """One /v2 request: the parsed route plus shortcuts."""

    __slots__ = ("app", "extra", "method", "name", "registry", "request")

    def __init__(self, request: Request, name: str, extra: str) -> None:
        self.request = request
        self.name = name
        self.extra = extra
        self.method = request.method
        self.registry: Registry = request.app.state.registry
        self.app = request.app

    async def authorize(self, access: Sequence[Access]) -> None:
        authorizer: Authorizer = self.app.state.authorizer
        self.request.state.principal = await authorizer.authorize(self.request, access)

    def pull(self) -> Access:
        return Access("repository", self.name, ("pull",))

    def push(self) -> Access:
        return Access("repository", self.name, ("pull", "push"))

    def delete(self) -> Access:
        return Access("repository", self.name, ("delete",))


async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(func, *args)


def unsupported(method: str, allowed: str) -> RegistryError:
    return RegistryError(
        ErrorCode.UNSUPPORTED,
        f"{method} is not supported here",
        headers={"Allow": allowed},
    )
