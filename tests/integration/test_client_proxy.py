"""Proxies from the environment: honoured per request, never for loopback, NO_PROXY respected.

The integration part runs a real forward proxy on 127.0.0.1 in front of the embedded registry
and reaches the registry under a name only the proxy knows, so the listing can only succeed
through the proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from regview.core.client.client import RegistryClient
from regview.core.client.transport import proxy_for
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry


def test_proxy_for_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert proxy_for("https://registry.example.com/v2/") is None
    monkeypatch.setenv("HTTPS_PROXY", "proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.com")
    assert proxy_for("https://registry.example.com/v2/") == "http://proxy.corp:3128"
    assert proxy_for("https://internal.example.com/v2/") is None
    assert proxy_for("https://127.0.0.1:5000/v2/") is None
    assert proxy_for("http://localhost:5000/v2/") is None
    assert proxy_for("http://registry.example.com/v2/") is None  # no HTTP_PROXY set


class ForwardProxy:
    """A minimal HTTP forward proxy: absolute-form requests for `name` go to `target`."""

    def __init__(self, name: str, target: tuple[str, int]) -> None:
        self.name, self.target = name, target
        self.requests: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection(*self.target)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                first, _, rest = head.partition(b"\r\n")
                method, url, version = first.decode().split(" ")
                self.requests.append(f"{method} {url}")
                prefix = f"http://{self.name}"
                assert url.startswith(prefix), url
                path = url[len(prefix) :] or "/"
                length = 0
                for line in rest.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length) if length else b""
                up_w.write(f"{method} {path} {version}\r\n".encode() + rest + body)
                await up_w.drain()
                resp_head = await up_r.readuntil(b"\r\n\r\n")
                resp_len = 0
                for line in resp_head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        resp_len = int(line.split(b":")[1])
                resp_body = b"" if method == "HEAD" else await up_r.readexactly(resp_len)
                writer.write(resp_head + resp_body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            up_w.close()
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def proxied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ForwardProxy]:
    with LocalRegistry(tmp_path / "reg", demo=True) as reg:
        host, _, port = reg.url.removeprefix("http://").partition(":")
        proxy = ForwardProxy("registry.proxied.test", (host, int(port)))
        proxy_port = await proxy.start()
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_port}")
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy_port}")
        try:
            yield proxy
        finally:
            await proxy.stop()


async def test_listing_goes_through_the_proxy(proxied: ForwardProxy) -> None:
    endpoint = Endpoint(url="http://registry.proxied.test", insecure=True)
    async with RegistryClient(endpoint) as client:
        tags = await client.list_tags("acme/webshop")
        manifest = await client.get_manifest("acme/webshop", tags[0])
    assert tags and manifest.digest.startswith("sha256:")
    assert any(
        r.startswith("GET http://registry.proxied.test/v2/acme/webshop/tags/list")
        for r in proxied.requests
    )
    assert any("/manifests/" in r for r in proxied.requests)
