"""Reading request bodies from the other side of a socket: an idle timeout and a size cap.

uvicorn has no body read timeout: a client announcing `Content-Length: 10000000000` and sending
10 bytes holds its request (and whatever the handler keeps for it) until it goes away. The app
wraps ASGI `receive` with `timed_receive`, so a body that stops arriving (or trickles in slower
than `MIN_BODY_RATE`) for `seconds` raises `BodyTimeout`, which the handlers answer with 408 and
`Connection: close`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

Receive = Callable[[], Awaitable[dict[str, Any]]]

#: Seconds a request body may stall (no byte received) before the request is answered 408.
DEFAULT_BODY_TIMEOUT = 30.0
#: ... and the least bytes a second it must bring over each such window (a dial-up line does
#: several times this).
MIN_BODY_RATE = 1024.0


class BodyTimeout(Exception):
    """The client stopped sending the request body it announced."""


class BodyTooLarge(Exception):
    """A request body over the size the endpoint accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is over {limit} bytes, the most accepted here")
        self.limit = limit


def timed_receive(receive: Receive, seconds: float, min_rate: float = MIN_BODY_RATE) -> Receive:
    """`receive` that raises BodyTimeout when, in any `seconds` while the body is arriving, less
    than `min_rate` bytes a second came (none at all: a stalled client; a byte just before every
    deadline: a trickling one, which an idle timeout alone lets hold a request forever).

    Only while the body is still arriving: once its last chunk came (or the request had none),
    later calls wait for `http.disconnect` without a limit, as a streaming response's
    disconnect listener does for the whole download."""
    body_done = False
    window_end = 0.0  # the current window's deadline (loop time); 0: not started
    window_bytes = 0

    async def receive_with_timeout() -> dict[str, Any]:
        nonlocal body_done, window_end, window_bytes
        if body_done:
            return await receive()
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not window_end:
            window_end = now + seconds
        while True:
            if now >= window_end:
                if window_bytes < min_rate * seconds:
                    raise BodyTimeout(_too_slow(window_bytes, seconds, min_rate))
                window_end, window_bytes = now + seconds, 0
            try:
                async with asyncio.timeout(window_end - now):
                    message = await receive()
                break
            except TimeoutError:  # judged at the top (a cancelled wait loses no message)
                now = loop.time()
        window_bytes += len(message.get("body", b""))
        if message.get("type") != "http.request" or not message.get("more_body", False):
            body_done = True
        return message

    return receive_with_timeout


def _too_slow(received: int, seconds: float, min_rate: float) -> str:
    if not received:
        return f"no part of the request body arrived for {seconds:g} seconds"
    return (
        f"the request body arrived at {received / seconds:.0f} bytes a second over "
        f"{seconds:g} seconds; at least {min_rate:g} are needed"
    )


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
