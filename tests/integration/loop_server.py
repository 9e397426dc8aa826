"""A handler served on the test's own event loop (for tests whose client runs in the same loop;
`fault_servers.serve` runs an app in a thread of its own instead).

    async with serve_here(handle) as url
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from testkit import free_port


@contextlib.asynccontextmanager
async def serve_here(
    handle: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """Serve `handle` for every path on a free loopback port; yields the URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
