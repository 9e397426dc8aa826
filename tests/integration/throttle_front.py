"""A rate-limiting front for throttling tests (client, CLI and window): a loopback aiohttp
server forwarding to a real registry, answering 429 by rule and announcing Docker Hub's
rate-limit headers on manifests.

    front = Front(upstream_url, refuse_first={path: n}, retry_after_once=path, remaining=N)
    with fault_servers.serve(front.app) as url: ...
    front.log: (arrival time, method, path, status) of every request
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from aiohttp import ClientSession, web
from fault_servers import forward, proxy_app


@dataclass
class Front:
    """A rate-limiting front: 429s by rule, Docker Hub's rate-limit headers on manifests."""

    upstream: str
    refuse_first: dict[str, int] = field(default_factory=dict)  # path → 429s before passing
    retry_after_once: str = ""  # this path's first request: 429 with Retry-After: 1
    remaining: int | None = None  # pull allowance announced (None: no headers)
    log: list[tuple[float, str, str, int]] = field(default_factory=list)  # arrival, …, status
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> web.Application:
        front = self

        async def handle(session: ClientSession, request: web.Request) -> web.StreamResponse:
            arrived = time.monotonic()
            path = request.path
            with front._lock:
                left = front.refuse_first.get(path, 0)
                if left:
                    front.refuse_first[path] = left - 1
                once = path == front.retry_after_once
                if once:
                    front.retry_after_once = ""
                limits = {}
                if front.remaining is not None and "/manifests/" in path:
                    limits = {
                        "ratelimit-limit": "100;w=21600",
                        "ratelimit-remaining": f"{front.remaining};w=21600",
                    }
                    if request.method == "GET" and front.remaining > 0:
                        front.remaining -= 1
            if left or once or (limits and front.remaining == 0 and request.method == "GET"):
                status, answer = (
                    429,
                    web.Response(
                        status=429,
                        headers={**limits, **({"Retry-After": "1"} if once else {})},
                        text='{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
                        content_type="application/json",
                    ),
                )
            else:
                answer = await forward(session, front.upstream, request)
                answer.headers.update(limits)
                status = answer.status
            with front._lock:
                front.log.append((arrived, request.method, path, status))
            return answer

        return proxy_app(handle)
