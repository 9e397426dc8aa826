"""The /api/v4 subset through the real app in-process (httpx.ASGITransport): fields, pagination
headers, status codes and error bodies as GitLab's, credentials, and the asynchronous deletes."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from server_helpers import instance_client

from regview.server.config import ServerConfig
from regview.server.gitlab.app import GitLabInstance
from regview.server.gitlab.perms import RegistryAccess, Role, TokenKind, Visibility
from regview.server.gitlab.rest.api import BULK_ONCE_AN_HOUR
from regview.server.registry.registry import Registry
from regview.server.v2.app import create_app

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
NOW = datetime.now(UTC).replace(microsecond=0)


def seed_image(
    registry: Registry, repo: str, tag: str, created: datetime, seed: str = ""
) -> tuple[str, str, int]:
    """Store config + layer + manifest; returns (manifest digest, config digest, total size)."""
    config = json.dumps(
        {
            "created": created.isoformat().replace("+00:00", "Z"),
            "os": "linux",
            "architecture": "amd64",
            "seed": seed or tag,
        }
    ).encode()
    layer = f"layer-{repo}-{seed or tag}".encode() * 40
    cd = registry.store.put_bytes(config)
    ld = registry.store.put_bytes(layer)
    registry.link_blob(repo, cd, len(config))
    registry.link_blob(repo, ld, len(layer))
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": str(cd),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": str(ld),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    rec = registry.put_manifest(repo, tag, body, OCI_MANIFEST)
    return rec.digest, str(cd), len(config) + len(layer)


@dataclass
class World:
    gl: GitLabInstance
    registry: Registry
    client: httpx.AsyncClient
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.tokens[who]}

    def project_id(self, path: str) -> int:
        return self.gl.store.project(path).id

    async def repo_id(self, path: str, who: str = "owner") -> int:
        project = path.split("/")[0] + "/" + path.split("/")[1]
        r = await self.client.get(
            f"/api/v4/projects/{quote(project, safe='')}/registry/repositories",
            params={"per_page": 100},
            headers=self.h(who),
        )
        assert r.status_code == 200, r.text
        return next(x["id"] for x in r.json() if x["path"] == path)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry(tmp_path / "data")
    yield reg
    reg.close()


@pytest.fixture
async def world(registry: Registry) -> AsyncIterator[World]:
    gl = GitLabInstance(registry.data_dir, registry, async_delay=0.2)
    s = gl.store
    s.add_project("acme/app", Visibility.PRIVATE)
    s.add_project("acme/pub", Visibility.PUBLIC)
    s.add_project("acme/int", Visibility.INTERNAL, RegistryAccess.PRIVATE)
    s.add_project("other/lib", Visibility.PRIVATE)
    for user in ("owner", "dev", "rep", "guest", "stranger"):
        s.add_user(user)
    s.add_member("acme", "owner", Role.MAINTAINER)
    s.add_member("acme/app", "dev", Role.DEVELOPER)
    s.add_member("acme/app", "rep", Role.REPORTER)
    s.add_member("acme/app", "guest", Role.GUEST)
    s.add_member("other/lib", "owner", Role.OWNER)
    tokens = {}
    for user in ("owner", "dev", "rep", "guest", "stranger"):
        tokens[user] = s.add_token(TokenKind.PERSONAL, username=user, scopes={"api"})[1]
    tokens["readapi"] = s.add_token(TokenKind.PERSONAL, username="owner", scopes={"read_api"})[1]
    tokens["registry_only"] = s.add_token(
        TokenKind.PERSONAL, username="owner", scopes={"read_registry", "write_registry"}
    )[1]
    tokens["deploy"] = s.add_token(TokenKind.DEPLOY, scopes={"read_registry"}, project="acme/app")[
        1
    ]
    tokens["job"] = s.add_token(TokenKind.JOB, username="dev", project="acme/app")[1]
    seed_image(registry, "acme/app", "latest", NOW - timedelta(days=1))
    for i in range(5):
        seed_image(registry, f"acme/app/img{i}", "v1", NOW - timedelta(days=i))
    seed_image(registry, "acme/pub/web", "v1", NOW)
    seed_image(registry, "acme/int", "v1", NOW)
    seed_image(registry, "other/lib", "v1", NOW)
    async with instance_client(gl, registry) as client:
        yield World(gl, registry, client, tokens)
    await gl.service.drain()
    gl.close()


async def test_version_needs_authentication(world: World) -> None:
    assert (await world.client.get("/api/v4/version")).status_code == 401
    r = await world.client.get("/api/v4/version", headers=world.h("stranger"))
    assert r.status_code == 200 and "version" in r.json()


async def test_credentials_headers_and_refusals(world: World) -> None:
    c = world.client
    url = "/api/v4/projects/acme%2Fapp"
    assert (await c.get(url, headers=world.h("dev"))).status_code == 200
    bearer = {"Authorization": f"Bearer {world.tokens['dev']}"}
    assert (await c.get(url, headers=bearer)).status_code == 200
    assert (await c.get(url, headers={"JOB-TOKEN": world.tokens["job"]})).status_code == 200
    # a job token reaches only its own project; a PAT is not a job token
    r = await c.get("/api/v4/projects/other%2Flib", headers={"JOB-TOKEN": world.tokens["job"]})
    assert r.status_code == 404 and r.json() == {"message": "404 Project Not Found"}
    assert (await c.get(url, headers={"JOB-TOKEN": world.tokens["dev"]})).status_code == 401
    # deploy tokens cannot use the REST API at all
    r = await c.get(url, headers=world.h("deploy"))
    assert r.status_code == 401 and r.json() == {"message": "401 Unauthorized"}
    r = await c.get(url, headers={"PRIVATE-TOKEN": "glpat-nonsense"})
    assert r.status_code == 401
    r = await c.get(url, headers=world.h("registry_only"))
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope"
    # read_api reads but cannot change anything
    assert (await c.get(url, headers=world.h("readapi"))).status_code == 200
    r = await c.put(
        url, json={"container_registry_access_level": "private"}, headers=world.h("readapi")
    )
    assert r.status_code == 403 and r.json()["scope"] == "api"
    tok = world.gl.store.find_token(world.tokens["dev"])
    assert tok is not None
    world.gl.store.revoke_token(tok.id)
    assert (await c.get(url, headers=world.h("dev"))).status_code == 401


async def test_get_project_by_id_and_path(world: World) -> None:
    c = world.client
    pid = world.project_id("acme/app")
    by_id = await c.get(f"/api/v4/projects/{pid}", headers=world.h("guest"))
    by_path = await c.get("/api/v4/projects/acme%2Fapp", headers=world.h("guest"))
    assert by_id.status_code == by_path.status_code == 200
    body = by_path.json()
    assert body["id"] == pid and body == by_id.json()
    assert body["path_with_namespace"] == "acme/app" and body["visibility"] == "private"
    assert body["container_registry_access_level"] == "enabled"
    assert body["container_registry_image_prefix"] == "gitlab.test/acme/app"
    assert body["namespace"]["full_path"] == "acme" and body["namespace"]["kind"] == "group"
    assert body["container_expiration_policy"] == {
        "cadence": "1d",
        "enabled": False,
        "keep_n": 10,
        "older_than": "90d",
        "name_regex": ".*",
        "name_regex_keep": None,
        "next_run_at": None,
    }
    for who, url in (
        ("anon", "/api/v4/projects/acme%2Fapp"),
        ("stranger", f"/api/v4/projects/{pid}"),
    ):
        r = await c.get(url, headers={} if who == "anon" else world.h(who))
        assert r.status_code == 404 and r.json() == {"message": "404 Project Not Found"}
    assert (await c.get("/api/v4/projects/acme%2Fpub")).status_code == 200
    assert (await c.get("/api/v4/projects/acme%2Fint")).status_code == 404
    assert (
        await c.get("/api/v4/projects/acme%2Fint", headers=world.h("stranger"))
    ).status_code == 200
    assert (await c.get("/api/v4/projects/9999", headers=world.h("owner"))).status_code == 404


async def test_put_registry_access_level(world: World) -> None:
    c = world.client
    url = "/api/v4/projects/acme%2Fapp"
    r = await c.put(
        url, json={"container_registry_access_level": "private"}, headers=world.h("dev")
    )
    assert r.status_code == 403 and r.json() == {"message": "403 Forbidden"}
    r = await c.put(url, json={"container_registry_access_level": "nope"}, headers=world.h("owner"))
    assert r.status_code == 400
    assert r.json() == {"error": "container_registry_access_level does not have a valid value"}
    r = await c.put(
        url, data={"container_registry_access_level": "disabled"}, headers=world.h("owner")
    )
    assert r.status_code == 200
    assert r.json()["container_registry_access_level"] == "disabled"
    assert r.json()["container_registry_enabled"] is False
    r = await c.get(f"{url}/registry/repositories", headers=world.h("owner"))
    assert r.status_code == 403  # a disabled registry disables everything, even for maintainers


async def test_put_cleanup_policy_validated_and_read_back(world: World) -> None:
    c = world.client
    url = "/api/v4/projects/acme%2Fapp"
    attrs = {
        "enabled": True,
        "cadence": "7d",
        "keep_n": 5,
        "older_than": "14d",
        "name_regex": "v.*",
        "name_regex_keep": "v1",
    }
    r = await c.put(
        url, json={"container_expiration_policy_attributes": attrs}, headers=world.h("owner")
    )
    assert r.status_code == 200, r.text
    policy = r.json()["container_expiration_policy"]
    next_run = datetime.fromisoformat(policy.pop("next_run_at").replace("Z", "+00:00"))
    assert policy == attrs
    assert timedelta(days=6, hours=23) < next_run - datetime.now(UTC) <= timedelta(days=7)
    r = await c.put(
        url,
        json={
            "container_expiration_policy_attributes": {
                "keep_n": 3,
                "cadence": "2d",
                "name_regex_keep": "(?=x)",
            }
        },
        headers=world.h("owner"),
    )
    assert r.status_code == 400
    assert r.json() == {
        "message": {
            "container_expiration_policy.keep_n": ["is not included in the list"],
            "container_expiration_policy.cadence": ["is not included in the list"],
            "container_expiration_policy.name_regex_keep": ["not valid RE2 syntax"],
        }
    }
    r = await c.get(url, headers=world.h("owner"))
    assert r.json()["container_expiration_policy"]["keep_n"] == 5  # unchanged by the bad PUT
    r = await c.put(
        url,
        json={"container_expiration_policy_attributes": {"enabled": False}},
        headers=world.h("owner"),
    )
    assert r.json()["container_expiration_policy"]["next_run_at"] is None


async def follow(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict[str, str | int]
) -> tuple[list[dict[str, object]], list[httpx.Response]]:
    items: list[dict[str, object]] = []
    pages: list[httpx.Response] = []
    r = await client.get(url, params=params, headers=headers)
    while True:
        assert r.status_code == 200, r.text
        pages.append(r)
        items.extend(r.json())
        nxt = r.links.get("next")
        if not nxt:
            return items, pages
        assert len(pages) < 50
        r = await client.get(nxt["url"], headers=headers)


async def test_project_repositories_paginated(world: World) -> None:
    url = "/api/v4/projects/acme%2Fapp/registry/repositories"
    items, pages = await follow(
        world.client, url, world.h("rep"), {"per_page": 2, "tags_count": "true"}
    )
    assert [x["path"] for x in items] == ["acme/app", *[f"acme/app/img{i}" for i in range(5)]]
    assert [x["name"] for x in items][:2] == ["", "img0"]
    assert all(x["tags_count"] == 1 and x["status"] is None for x in items)
    assert items[1]["location"] == "gitlab.test/acme/app/img0"
    assert set(items[0]) >= {
        "id",
        "name",
        "path",
        "project_id",
        "location",
        "created_at",
        "cleanup_policy_started_at",
        "status",
    }
    first = pages[0].headers
    assert (first["x-total"], first["x-total-pages"], first["x-page"], first["x-per-page"]) == (
        "6",
        "3",
        "1",
        "2",
    )
    assert first["x-next-page"] == "2" and first["x-prev-page"] == ""
    assert pages[-1].headers["x-next-page"] == ""
    assert set(pages[1].links) == {"prev", "next", "first", "last"}
    assert "acme%2Fapp" in pages[1].links["next"]["url"]
    r = await world.client.get(url, params={"tags": "true", "per_page": 1}, headers=world.h("rep"))
    assert r.json()[0]["tags"] == [
        {"name": "latest", "path": "acme/app:latest", "location": "gitlab.test/acme/app:latest"}
    ]
    assert (await world.client.get(url, headers=world.h("guest"))).status_code == 403
    assert (await world.client.get(url, params={"per_page": 500}, headers=world.h("rep"))).headers[
        "x-per-page"
    ] == "100"


async def test_group_repositories_show_only_readable_projects(world: World) -> None:
    url = "/api/v4/groups/acme/registry/repositories"
    r = await world.client.get(url, params={"per_page": 100}, headers=world.h("owner"))
    assert {x["path"] for x in r.json()} == {
        "acme/app",
        "acme/pub/web",
        "acme/int",
        *[f"acme/app/img{i}" for i in range(5)],
    }
    r = await world.client.get(url, params={"per_page": 100}, headers=world.h("stranger"))
    assert {x["path"] for x in r.json()} == {"acme/pub/web"}  # acme/int's registry is members-only
    r = await world.client.get(url)
    assert {x["path"] for x in r.json()} == {"acme/pub/web"}
    assert (await world.client.get("/api/v4/groups/nope/registry/repositories")).status_code == 404


async def test_single_repository_with_size_and_tags(world: World) -> None:
    rid = await world.repo_id("acme/app/img0")
    seed_image(world.registry, "acme/app/img0", "v2", NOW, seed="v1")  # same blobs as v1
    r = await world.client.get(
        f"/api/v4/registry/repositories/{rid}",
        params={"tags": "true", "tags_count": "true", "size": "true"},
        headers=world.h("rep"),
    )
    assert r.status_code == 200
    body = r.json()
    assert body["tags_count"] == 2 and [t["name"] for t in body["tags"]] == ["v1", "v2"]
    layer = len(b"layer-acme/app/img0-v1") * 40
    assert layer < body["size"] < 2 * layer  # de-duplicated: shared blobs count once
    assert (
        "size"
        not in (
            await world.client.get(f"/api/v4/registry/repositories/{rid}", headers=world.h("rep"))
        ).json()
    )
    assert (
        await world.client.get(f"/api/v4/registry/repositories/{rid}", headers=world.h("stranger"))
    ).status_code == 404
    assert (
        await world.client.get(f"/api/v4/registry/repositories/{rid}", headers=world.h("guest"))
    ).status_code == 403
    assert (
        await world.client.get("/api/v4/registry/repositories/999", headers=world.h("owner"))
    ).status_code == 404


async def test_tags_offset_and_keyset_pagination(world: World) -> None:
    repo = "acme/app/img1"
    for i in range(7):
        seed_image(world.registry, repo, f"t{i}", NOW - timedelta(hours=i))
    rid = await world.repo_id(repo)
    url = f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid}/tags"
    items, pages = await follow(world.client, url, world.h("rep"), {"per_page": 3})
    names = [x["name"] for x in items]
    assert names == sorted(names) and len(names) == 8 and len(pages) == 3
    assert pages[0].headers["x-total"] == "8" and pages[0].headers["x-total-pages"] == "3"
    assert set(items[0]) == {"name", "path", "location"}
    items, pages = await follow(
        world.client,
        url,
        world.h("rep"),
        {"pagination": "keyset", "order_by": "name", "sort": "asc", "per_page": 3},
    )
    assert [x["name"] for x in items] == names and len(pages) == 3
    assert "x-total" not in pages[0].headers
    items, _ = await follow(
        world.client, url, world.h("rep"), {"pagination": "keyset", "sort": "desc", "per_page": 5}
    )
    assert [x["name"] for x in items] == names[::-1]
    r = await world.client.get(
        url, params={"pagination": "keyset", "order_by": "created_at"}, headers=world.h("rep")
    )
    assert r.status_code == 400


async def test_tag_details(world: World) -> None:
    created = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    digest, config_digest, size = seed_image(world.registry, "acme/app/img2", "rel", created)
    rid = await world.repo_id("acme/app/img2")
    r = await world.client.get(
        f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid}/tags/rel", headers=world.h("rep")
    )
    assert r.status_code == 200
    hexpart = config_digest.split(":", 1)[1]
    assert r.json() == {
        "name": "rel",
        "path": "acme/app/img2:rel",
        "location": "gitlab.test/acme/app/img2:rel",
        "revision": hexpart,
        "short_revision": hexpart[:9],
        "digest": digest,
        "created_at": "2025-03-04T05:06:07.000Z",
        "total_size": size,
    }
    r = await world.client.get(
        f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid}/tags/nope", headers=world.h("rep")
    )
    assert r.status_code == 404 and r.json() == {"message": "404 Tag Not Found"}
    other = await world.repo_id("other/lib")
    r = await world.client.get(
        f"/api/v4/projects/acme%2Fapp/registry/repositories/{other}/tags/v1",
        headers=world.h("owner"),
    )
    assert r.status_code == 404  # a repository of another project


async def test_delete_tag(world: World) -> None:
    rid = await world.repo_id("acme/app/img3")
    url = f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid}/tags/v1"
    assert (await world.client.delete(url, headers=world.h("rep"))).status_code == 403
    assert (await world.client.delete(url, headers=world.h("dev"))).status_code == 200
    assert world.registry.list_tags("acme/app/img3") == []
    r = await world.client.delete(url, headers=world.h("dev"))
    assert r.status_code == 404 and r.json() == {"message": "404 Tag Not Found"}


async def test_bulk_delete_rules_and_once_an_hour(world: World) -> None:
    repo = "acme/app/img4"
    ages = {
        "latest": 300,
        "v1.0": 200,
        "v1.1": 100,
        "v10": 90,
        "main": 2,
        "dev-a": 50,
        "dev-b": 40,
        "dev-c": 30,
    }
    for name, days in ages.items():
        seed_image(world.registry, repo, name, NOW - timedelta(days=days))
    rid = await world.repo_id(repo)
    url = f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid}/tags"
    r = await world.client.request("DELETE", url, headers=world.h("dev"))
    assert r.status_code == 400 and "name_regex_delete" in r.json()["error"]
    r = await world.client.request(
        "DELETE", url, params={"name_regex_delete": "(a)\\1"}, headers=world.h("dev")
    )
    assert r.status_code == 400 and r.json() == {"error": "name_regex_delete is an invalid regexp"}
    assert (
        await world.client.request(
            "DELETE", url, params={"name_regex_delete": ".*"}, headers=world.h("rep")
        )
    ).status_code == 403
    params = {
        "name_regex_delete": ".*",
        "name_regex_keep": "v1\\.\\d+",
        "keep_n": "1",
        "older_than": "35d",
    }
    r = await world.client.request("DELETE", url, params=params, headers=world.h("dev"))
    assert r.status_code == 202
    assert len(world.registry.list_tags(repo)) == 9  # asynchronous: nothing gone yet
    await world.gl.service.drain()
    left = {t.name for t in world.registry.list_tags(repo)}
    # latest kept; v1.0/v1.1 kept by the anchored keep regex (which does not keep v10);
    # main kept by keep_n=1 (the newest candidate); v1 (4 days) and dev-c (30 days) too young
    assert left == {"latest", "v1.0", "v1.1", "main", "v1", "dev-c"}
    r = await world.client.request(
        "DELETE", url, params={"name_regex_delete": ".*"}, headers=world.h("dev")
    )
    assert r.status_code == 400
    assert r.json() == {"message": f"400 Bad request - {BULK_ONCE_AN_HOUR}"}
    # form-encoded bodies work too, on another repository (the hour is per repository)
    rid0 = await world.repo_id("acme/app/img0")
    r = await world.client.request(
        "DELETE",
        f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid0}/tags",
        content="name_regex_delete=v1",
        headers={**world.h("owner"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 202
    await world.gl.service.drain()
    assert world.registry.list_tags("acme/app/img0") == []


async def test_delete_repository_is_asynchronous(world: World) -> None:
    rid = await world.repo_id("acme/app/img1")
    url = f"/api/v4/projects/acme%2Fapp/registry/repositories/{rid}"
    assert (await world.client.delete(url, headers=world.h("rep"))).status_code == 403
    r = await world.client.delete(url, headers=world.h("dev"))
    assert r.status_code == 202
    r = await world.client.get(f"/api/v4/registry/repositories/{rid}", headers=world.h("dev"))
    assert r.status_code == 200 and r.json()["status"] == "delete_scheduled"
    await world.gl.service.drain()
    assert (
        await world.client.get(f"/api/v4/registry/repositories/{rid}", headers=world.h("dev"))
    ).status_code == 404
    assert "acme/app/img1" not in {r.name for r in world.registry.list_repositories()}
    assert (await world.client.delete(url, headers=world.h("dev"))).status_code == 404


async def test_cleanup_policy_runs_when_due(world: World) -> None:
    repo = "acme/app/img2"
    for i in range(4):
        seed_image(world.registry, repo, f"b{i}", NOW - timedelta(days=20 + i))
    attrs = {"enabled": True, "cadence": "1d", "keep_n": 1, "older_than": "7d", "name_regex": "b.*"}
    r = await world.client.put(
        "/api/v4/projects/acme%2Fapp",
        json={"container_expiration_policy_attributes": attrs},
        headers=world.h("owner"),
    )
    assert r.status_code == 200
    service = world.gl.service
    assert service.run_due_policies(datetime.now(UTC)) == 0  # not due yet
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    assert service.run_due_policies(later) == 3
    assert {t.name for t in world.registry.list_tags(repo)} == {"v1", "b0"}
    project = world.gl.store.project("acme/app")
    assert project.policy_next_run_at is not None
    assert datetime.fromisoformat(project.policy_next_run_at.replace("Z", "+00:00")) > later
    assert service.run_due_policies(later) == 0


async def test_unknown_endpoint(world: World) -> None:
    r = await world.client.get("/api/v4/projects/1/issues", headers=world.h("owner"))
    assert r.status_code == 404


async def test_totals_are_left_out_above_the_count_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import regview.server.gitlab.rest.views as api

    monkeypatch.setattr(api, "COUNT_LIMIT", 3)
    url = "/api/v4/projects/acme%2Fapp/registry/repositories"
    r = await world.client.get(url, params={"per_page": 2}, headers=world.h("rep"))
    assert "x-total" not in r.headers and "x-total-pages" not in r.headers
    assert r.headers["x-next-page"] == "2" and "last" not in r.links


async def test_policies_run_in_the_background_while_the_app_runs(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "data")
    gl = GitLabInstance(registry.data_dir, registry, policy_interval=0.05)
    project = gl.store.add_project("acme/app")
    for i in range(3):
        seed_image(registry, "acme/app", f"c{i}", NOW - timedelta(days=30 + i))
    policy = {**project.policy, "enabled": True, "keep_n": 1, "older_than": "7d"}
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    gl.store.update_project(project.id, policy=policy, policy_next_run_at=past)
    app = create_app(ServerConfig(registry.data_dir), registry=registry, online_gc=False)
    gl.install(app)
    async with app.router.lifespan_context(app):
        for _ in range(100):
            if len(registry.list_tags("acme/app")) == 1:
                break
            await asyncio.sleep(0.05)
    assert [t.name for t in registry.list_tags("acme/app")] == ["c0"]
    with pytest.raises(sqlite3.ProgrammingError):  # the app's shutdown closed the database
        gl.store.projects()
    registry.close()


async def test_list_projects_membership_visibility_and_pages(world: World) -> None:
    # owner: maintainer of group acme (3 projects) and owner of other/lib
    items, pages = await follow(
        world.client, "/api/v4/projects", world.h("owner"), {"membership": "true", "per_page": 2}
    )
    assert [p["path_with_namespace"] for p in items] == [
        "other/lib",
        "acme/int",
        "acme/pub",
        "acme/app",
    ]  # id descending, as GitLab
    assert len(pages) == 2
    assert pages[0].headers["x-total"] == "4" and pages[0].headers["x-next-page"] == "2"
    first = items[-1]
    assert first["namespace"]["full_path"] == "acme"  # type: ignore[index]
    assert first["visibility"] == "private"
    assert first["container_registry_access_level"] == "enabled"
    assert isinstance(first["id"], int)

    # a member of one project sees only it with membership=true, public ones without
    r = await world.client.get("/api/v4/projects?membership=true", headers=world.h("dev"))
    assert [p["path_with_namespace"] for p in r.json()] == ["acme/app"]
    r = await world.client.get("/api/v4/projects", headers=world.h("stranger"))
    assert sorted(p["path_with_namespace"] for p in r.json()) == ["acme/int", "acme/pub"]
    r = await world.client.get("/api/v4/projects?search=PUB", headers=world.h("stranger"))
    assert [p["path_with_namespace"] for p in r.json()] == ["acme/pub"]

    # anonymous: public projects only; membership needs a user; deploy tokens have no API
    r = await world.client.get("/api/v4/projects")
    assert [p["path_with_namespace"] for p in r.json()] == ["acme/pub"]
    r = await world.client.get("/api/v4/projects?membership=true")
    assert r.status_code == 401
    r = await world.client.get("/api/v4/projects", headers=world.h("deploy"))
    assert r.status_code == 401
