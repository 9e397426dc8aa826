"""In-process fixtures: the real registry app through httpx.ASGITransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from regview.server.config import ServerConfig
from regview.server.registry.registry import Registry
from regview.server.v2.app import create_app


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    reg = Registry(tmp_path / "data")
    yield reg  # type: ignore[misc]
    reg.close()


@pytest.fixture
async def client(registry: Registry) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServerConfig(registry.data_dir), registry=registry, online_gc=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
        yield c
