"""A request on a closed aiohttp transport fails instead of opening a new connection pool that
nobody closes (issue 10 item 8: "unclosed TCPConnector" ResourceWarnings in UI tests came from a
late request of a cancelled task reopening a client the window had already closed)."""

from __future__ import annotations

import gc

import httpx
import pytest
from aiohttp import web
from testkit import free_port

from regview.core.client.transport_aiohttp import AiohttpTransport


async def test_a_request_after_aclose_does_not_reopen_the_pool() -> None:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        transport = AiohttpTransport()
        async with httpx.AsyncClient(transport=transport) as client:
            assert (await client.get(f"http://127.0.0.1:{port}/")).text == "ok"
        # the client closed the transport; a late request on the transport itself:
        with pytest.raises(httpx.TransportError, match="closed"):
            await transport.handle_async_request(httpx.Request("GET", f"http://127.0.0.1:{port}/"))
        assert transport._session is None
        gc.collect()  # an unclosed pool would warn here (filterwarnings = error)
    finally:
        await runner.cleanup()
