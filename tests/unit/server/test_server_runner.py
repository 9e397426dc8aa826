"""LocalRegistry over a real loopback socket: the fast HTTP stack and the version header."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx
import pytest

import regview
from regview.server.auth import hash_password
from regview.server.runner import LocalRegistry, http_implementation, loop_factory


@pytest.mark.skipif(
    importlib.util.find_spec("uvloop") is None or importlib.util.find_spec("httptools") is None,
    reason="uvloop/httptools not installed",
)
def test_runs_on_uvloop_with_httptools(tmp_path: Path) -> None:
    import uvloop

    assert http_implementation() == "httptools"
    assert loop_factory() is uvloop.new_event_loop
    with LocalRegistry(tmp_path / "data") as reg:
        assert reg.loop_name.startswith("uvloop")
        assert reg._server is not None and reg._server.config.http == "httptools"
        r = httpx.get(f"{reg.url}/v2/", timeout=10)
        assert r.status_code == 200


def test_version_header_on_v2(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "data") as reg:
        for method in ("GET", "HEAD"):
            r = httpx.request(method, f"{reg.url}/v2/", timeout=10)
            assert r.status_code == 200
            assert r.headers["Regview-Registry-Version"] == regview.__version__
        # only on the base endpoint: other routes stay as they were
        r = httpx.get(f"{reg.url}/v2/_catalog", timeout=10)
        assert "Regview-Registry-Version" not in r.headers


def test_version_header_when_v2_asks_for_credentials(tmp_path: Path) -> None:
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"u:{hash_password('p', rounds=4)}\n")
    with LocalRegistry(tmp_path / "data", auth="basic", htpasswd=htpasswd) as reg:
        r = httpx.get(f"{reg.url}/v2/", timeout=10)
        assert r.status_code == 401
        assert r.headers["Regview-Registry-Version"] == regview.__version__
        assert r.headers["WWW-Authenticate"].startswith("Basic")


def test_blob_range_over_the_socket(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40_000  # ~10 MiB: several read chunks
    with LocalRegistry(tmp_path / "data") as reg:
        digest = reg.registry.store.put_bytes(data) if reg.registry else None
        assert digest is not None and reg.registry is not None
        reg.registry.link_blob("a/b", digest, len(data))
        url = f"{reg.url}/v2/a/b/blobs/{digest}"
        full = httpx.get(url, timeout=30)
        assert full.status_code == 200 and full.content == data
        part = httpx.get(url, headers={"Range": "bytes=5000000-9999999"}, timeout=30)
        assert part.status_code == 206
        assert part.headers["Content-Range"] == f"bytes 5000000-9999999/{len(data)}"
        assert part.content == data[5_000_000:10_000_000]
        tail = httpx.get(url, headers={"Range": "bytes=-10"}, timeout=30)
        assert tail.status_code == 206 and tail.content == data[-10:]
        bad = httpx.get(url, headers={"Range": f"bytes={len(data)}-"}, timeout=30)
        assert bad.status_code == 416
