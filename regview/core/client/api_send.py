"""One JSON API request with the retries every REST API beside `/v2` gets (GitLab's, and the
management APIs of Docker Hub, GHCR, Harbor, Quay):

    response = await send_with_retry(http, "GET", url, host=…, what=…, ok=(200,))

Only GETs are retried — a mutation is never sent twice behind the caller's back: a transport
failure (reset, timeout) after a short pause, a 429 or 5xx after the wait the answer asks for
(`wait_of`, by default `Retry-After`), at most `max_wait` seconds. A transport failure that
stays becomes the `RegistryError` of `connection_error`; an answer that is not `ok` after the
retries is returned as it is, for the caller to put in its own words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from regview.core import errors as E
from regview.core.client.http import connection_error

#: attempts of a GET that fails with a transport error, a 5xx, or (by default) a 429
ATTEMPTS = 3
MAX_WAIT = 30.0


def retry_after(headers: httpx.Headers) -> float | None:
    return E.parse_retry_after(headers.get("Retry-After"))


async def send_with_retry(
    http: httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    *,
    host: str,
    what: str,
    ok: tuple[int, ...] = (200,),
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = ATTEMPTS,
    attempts_429: int = ATTEMPTS,
    wait_of: Callable[[httpx.Headers], float | None] = retry_after,
    max_wait: float = MAX_WAIT,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> httpx.Response:
    attempt = 0
    while True:
        attempt += 1
        try:
            response = await http.request(method, url, params=params, json=body, headers=headers)
        except httpx.HTTPError as exc:
            if method == "GET" and attempt < attempts:
                await sleep(0.5 * attempt)
                continue
            raise connection_error(host, exc, what) from exc
        status = response.status_code
        if status in ok:
            return response
        temporary = status == 429 or status >= 500
        tries = attempts_429 if status == 429 else attempts
        if temporary and method == "GET" and attempt < tries:
            wait = wait_of(response.headers)
            await sleep(min(wait if wait is not None else 0.5 * attempt, max_wait))
            continue
        return response
