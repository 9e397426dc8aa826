"""Basic auth through the app, the schema version guard, demo seeding, the runner."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from regview.server import demo
from regview.server.auth import Access, HtpasswdAuthorizer, Principal, hash_password
from regview.server.config import ServerConfig
from regview.server.errors import AccessDenied, SchemaTooNew
from regview.server.registry.metadata import SCHEMA_VERSION, Metadata
from regview.server.registry.registry import Registry, RegistryEvent
from regview.server.runner import LocalRegistry
from regview.server.v2.app import create_app


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def test_basic_auth(tmp_path: Path, registry: Registry) -> None:
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"alice:{hash_password('s3cret', rounds=4)}\n")
    app = create_app(
        ServerConfig(registry.data_dir),
        registry=registry,
        authorizer=HtpasswdAuthorizer(htpasswd),
        online_gc=False,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        r = await c.get("/v2/")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="regview"'
        assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
        r = await c.get("/v2/", headers=basic("alice", "wrong"))
        assert r.status_code == 401
        assert "wrong" not in r.text
        assert (await c.get("/v2/", headers=basic("alice", "s3cret"))).status_code == 200
        r = await c.get("/v2/a/b/tags/list", headers=basic("alice", "s3cret"))
        assert r.status_code == 404  # authenticated, repository unknown
        assert (await c.get("/v2/a/b/tags/list")).status_code == 401


class DenyPush:
    def __init__(self) -> None:
        self.seen: list[list[Access]] = []

    async def authorize(self, request: Request, access: Sequence[Access]) -> Principal:
        self.seen.append(list(access))
        if any("push" in a.actions for a in access):
            raise AccessDenied("no pushing here")
        return Principal("bob")


async def test_custom_authorizer_and_extra_routes(registry: Registry) -> None:
    authz = DenyPush()

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"repos": len(request.app.state.registry.list_repositories())})

    app = create_app(
        ServerConfig(registry.data_dir),
        registry=registry,
        authorizer=authz,
        extra_routes=[Route("/api/v4/hello", hello)],
        online_gc=False,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        r = await c.post("/v2/a/b/blobs/uploads/?mount=sha256:" + "0" * 64 + "&from=c/d")
        assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
        assert authz.seen[-1] == [
            ("repository", "a/b", ("pull", "push")),
            ("repository", "c/d", ("pull",)),
        ]
        await c.get("/v2/_catalog")
        assert authz.seen[-1] == [("registry", "catalog", ("*",))]
        await c.delete("/v2/a/b/manifests/x")
        assert authz.seen[-1] == [("repository", "a/b", ("delete",))]
        assert (await c.get("/api/v4/hello")).json() == {"repos": 0}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Metadata(tmp_path / "m.db").close()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="newer regview"):
        Metadata(tmp_path / "m.db")


def test_demo_seed_is_believable_and_idempotent(registry: Registry) -> None:
    events: list[RegistryEvent] = []
    registry.subscribe(events.append)
    assert demo.seed(registry, now=1_800_000_000.0)
    repos = {r.name: r for r in registry.list_repositories()}
    assert {"acme/webshop", "acme/webshop/frontend", "oss/docs"} <= set(repos)
    tags = [t for name in repos for t in registry.list_tags(name)]
    assert len(tags) >= 300
    ages = [1_800_000_000.0 - t.created.timestamp() for t in tags]
    assert min(ages) < 30 * 86400 and max(ages) > 300 * 86400
    names = {t.name for t in tags}
    assert {"latest", "main"} <= names and any(n.startswith("v1.") for n in names)
    assert any(n.startswith("mr-") for n in names)
    digests = [t.digest for t in tags]
    assert len(set(digests)) < len(digests)  # tags share manifests
    assert any(t.config_digest is None for t in tags)  # multi-arch indexes
    releases = [t for t in registry.list_tags("acme/webshop/backend") if t.name.startswith("v")]
    newest = max(releases, key=lambda t: t.created)
    kinds = {
        r["artifactType"] for r in registry.referrers("acme/webshop/backend", newest.digest, None)
    }
    assert kinds == {demo.COSIGN_SIG, demo.SPDX}
    assert events and events[0].action == "push"
    assert not demo.seed(registry)


def test_local_registry_runs_and_serves(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "data") as reg:
        assert reg.url.startswith("http://127.0.0.1:")
        r = httpx.get(reg.url + "/v2/")
        assert r.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(reg.url + "/v2/", timeout=2)
