"""Reading request bodies from the other side of a socket: an idle timeout and a size cap.

uvicorn has no body read timeout: a client announcing `Content-Length: 10000000000` and sending
10 bytes holds its request (and whatever the handler keeps for it) until it goes away. The app
wraps ASGI `receive` with `timed_receive`, so a body that stops arriving for `seconds` raises
`BodyTimeout`, which the handlers answer with 408 and `Connection: close`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

Receive = Callable[[], Awaitable[dict[str, Any]]]

#: Seconds a request body may stall (no byte received) before the request is answered 408.
DEFAULT_BODY_TIMEOUT = 30.0


class BodyTimeout(Exception):
    """The client stopped sending the request body it announced."""


class BodyTooLarge(Exception):
    """A request body over the size the endpoint accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is over {limit} bytes, the most accepted here")
        self.limit = limit


def timed_receive(receive: Receive, seconds: float) -> Receive:
    """`receive` that raises BodyTimeout when a body chunk takes longer than `seconds`.

    Only while the body is still arriving: once its last chunk came (or the request had none),
    later calls wait for `http.disconnect` without a limit, as a streaming response's
    disconnect listener does for the whole download."""
    body_done = False

    async def receive_with_timeout() -> dict[str, Any]:
        nonlocal body_done
        if body_done:
            return await receive()
        try:
            async with asyncio.timeout(seconds):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout(
                f"no part of the request body arrived for {seconds:g} seconds"
            ) from None
        if message.get("type") != "http.request" or not message.get("more_body", False):
            body_done = True
        return message

    return receive_with_timeout


def declared_length(request: Request) -> int | None:
    """The Content-Length the client announced, None when absent or not a number."""
    raw = request.headers.get("content-length", "")
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, refusing (BodyTooLarge) before reading when the announced length is over
    `limit` and as soon as more than `limit` bytes arrived when none was announced."""
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    parts: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge(limit)
        parts.append(chunk)
    return b"".join(parts)
