"""A forwarding proxy that records every request (method and path) before passing it on: the
request budgets of issue 18 are asserted on its log.

    proxy = CountingProxy(upstream_url)
    with serve(proxy.app) as url:             # fault_servers.serve: its own thread and loop
        mark = proxy.mark()
        ...                                   # one user action against `url`
        proxy.since(mark)  -> [(method, path), …]
        proxy.count(mark)  -> Counter of (method, path-kind)

    with counted_local_registry(tmp_path, repo, n) as (url, proxy):   the embedded registry
        ...                                   # with n tiny tags in `repo`, behind a proxy
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import ClientSession, web
from fault_servers import forward, proxy_app, serve
from tiny_images import seed_tiny_tags

from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry

_KINDS = (
    (re.compile(r"^/v2/?$"), "/v2/"),
    (re.compile(r"^/v2/_catalog"), "catalog"),
    (re.compile(r"/tags/list"), "tags/list"),
    (re.compile(r"/manifests/"), "manifest"),
    (re.compile(r"/blobs/uploads"), "upload"),
    (re.compile(r"/blobs/"), "blob"),
    (re.compile(r"/referrers/"), "referrers"),
    (re.compile(r"^/api/v4/"), "gitlab-api"),
)


def kind_of(path: str) -> str:
    return next((name for pattern, name in _KINDS if pattern.search(path)), path)


@dataclass
class CountingProxy:
    upstream: str
    log: list[tuple[str, str]] = field(default_factory=list)
    answers: list[tuple[str, str, int]] = field(default_factory=list)  # + status, as answered
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self) -> int:
        with self._lock:
            return len(self.log)

    def since(self, mark: int = 0) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.log[mark:])

    def count(self, mark: int = 0) -> Counter[tuple[str, str]]:
        return Counter((method, kind_of(path)) for method, path in self.since(mark))

    def table(self, mark: int = 0) -> str:
        """The requests since `mark`, one line per (method, kind): for assertion messages."""
        return ", ".join(f"{m} {k} ×{n}" for (m, k), n in sorted(self.count(mark).items()))

    def app(self) -> web.Application:
        proxy = self

        async def handle(session: ClientSession, request: web.Request) -> web.StreamResponse:
            with proxy._lock:
                proxy.log.append((request.method, request.path_qs))
            answer = await forward(session, proxy.upstream, request, keep_host=True)
            with proxy._lock:
                proxy.answers.append((request.method, request.path_qs, answer.status))
            return answer

        return proxy_app(handle)


@contextmanager
def counted_local_registry(
    tmp_path: Path, repo: str, tags: int
) -> Iterator[tuple[str, CountingProxy]]:
    """The embedded registry with `tags` tiny tags in `repo`, behind a counting proxy:
    (the proxy's URL, the proxy)."""
    with LocalRegistry(tmp_path / "registry-data") as reg:
        url = reg.start()  # already started by `with`: returns its URL

        async def seed() -> None:
            async with RegistryClient(Endpoint(url=url)) as c:
                await seed_tiny_tags(c, repo, tags)

        asyncio.run(seed())
        proxy = CountingProxy(url)
        with serve(proxy.app) as proxied:
            yield proxied, proxy
