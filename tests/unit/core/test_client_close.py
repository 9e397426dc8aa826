"""Closing a client closes its connection pool even when the closing task is cancelled half-way
(a dialog closed while its client flushed the cache): the pool used to stay open for good, and
the collector later reported an unclosed aiohttp connector in an unrelated test. And a closed
client's lazily made transport is never made after the close."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from loop_server import serve_here

from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async with serve_here(ok) as url:
        yield url


async def test_a_close_cancelled_while_the_cache_flushes_still_closes_the_pool(
    tmp_path: Path, server: str
) -> None:
    client = RegistryClient(Endpoint(url=server), cache_dir=tmp_path)
    # a request through the client's general (aiohttp) path opens its pool
    assert (await client.http.get(f"{server}/")).text == "ok"
    assert client.content is not None
    client.content.put("sha256:" + "a" * 64, b"{}")  # something for aclose() to flush

    closing = asyncio.create_task(client.aclose())
    await asyncio.sleep(0)  # aclose() now waits for the cache's flush
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    for _ in range(20):  # the shielded pool close finishes on its own
        await asyncio.sleep(0.01)
    gc.collect()  # an unclosed pool warns here, and filterwarnings = error fails the test
    await client.aclose()  # a second close is harmless


async def test_a_late_request_on_a_closed_client_opens_no_pool(server: str) -> None:
    client = RegistryClient(Endpoint(url=server))
    await client.aclose()  # closed before its general transport was ever made
    with pytest.raises(httpx.TransportError, match="closed"):
        await client.http._transport.handle_async_request(httpx.Request("GET", f"{server}/"))
    gc.collect()
