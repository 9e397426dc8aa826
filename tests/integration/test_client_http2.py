"""HTTP/2 against a real HTTP/2 server: the embedded registry's app served by hypercorn with TLS
(a private CA) on loopback. A listing with `http2=True` arrives at the server as HTTP/2 streams
and gives the same answer as HTTP/1.1; without it the lean HTTP/1.1 transport is used."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_servers import make_tls, push_image
from hypercorn.asyncio import serve
from hypercorn.config import Config
from testkit import free_port

from regview.core.client.client import RegistryClient
from regview.core.inventory import load_tags
from regview.core.model import Endpoint
from regview.server.config import ServerConfig
from regview.server.runner import LocalRegistry
from regview.server.v2.app import create_app

pytestmark = pytest.mark.integration
REPO = "team/app"
TAGS = [f"v{i}" for i in range(10)]


@contextlib.contextmanager
def hypercorn_registry(data: Path, tls_dir: Path) -> Iterator[tuple[str, str, list[str]]]:
    """(https URL, CA file, the HTTP version of every request served)."""
    tls = make_tls(tls_dir)
    versions: list[str] = []
    app = create_app(ServerConfig(data), online_gc=False)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            versions.append(scope["http_version"])
        await app(scope, receive, send)

    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = str(tls.cert), str(tls.key)
    config.alpn_protocols = ["h2", "http/1.1"]
    config.accesslog = config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def main() -> None:
        config.startup_timeout = 10
        task = asyncio.create_task(serve(recording, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
        await asyncio.sleep(0.3)
        started.set()
        await task

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(15)
    try:
        yield f"https://127.0.0.1:{port}", str(tls.ca), versions
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.close()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("h2") / "data"
    with LocalRegistry(root) as reg:  # filled over plain http, then served by hypercorn
        for i, tag in enumerate(TAGS):
            push_image(reg.url, REPO, [tag], created=f"2024-05-01T10:00:{i:02d}Z")
    return root


async def _list(url: str, ca: str, http2: bool) -> list[tuple[str, str, int | None]]:
    async with RegistryClient(Endpoint(url, ca_file=ca), http2=http2) as client:
        infos = await load_tags(client, REPO)
    return sorted((t.tag, t.digest, t.size) for t in infos if not t.error)


async def test_a_listing_over_http2_matches_http1(data: Path, tmp_path: Path) -> None:
    with hypercorn_registry(data, tmp_path / "tls") as (url, ca, versions):
        over_h2 = await asyncio.wait_for(_list(url, ca, http2=True), 60)
        h2_versions = list(versions)
        versions.clear()
        over_h1 = await asyncio.wait_for(_list(url, ca, http2=False), 60)
    assert len(over_h2) == len(TAGS)
    assert over_h2 == over_h1
    # tag list + a manifest per tag + a config per image, every one an HTTP/2 stream
    assert len(h2_versions) >= 1 + 2 * len(TAGS)
    assert set(h2_versions) == {"2"}
    assert set(versions) == {"1.1"}  # the default: the lean HTTP/1.1 transport
