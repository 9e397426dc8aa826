"""RegistryClient and inventory against Debian's docker-registry 2.8, images pushed by skopeo.

Runs once per auth flavour (anonymous, htpasswd Basic, token realm with RS256 JWTs).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from distribution import Distribution
from support_images import build_image, build_index, push_layout

from regview.core import errors as E
from regview.core import inventory
from regview.core.client.client import RegistryClient
from regview.core.model import ArtifactKind, Credentials, Endpoint, shares_digest
from regview.core.probe import probe

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("docker-registry", "skopeo")]

CREATED = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)


def creds_of(reg: Distribution) -> Credentials | None:
    return Credentials(*reg.creds) if reg.creds else None


async def test_images_pushed_by_skopeo_are_listed_and_described(
    distribution: Distribution, tmp_path: Path
) -> None:
    reg = distribution
    img = build_image(tmp_path / "img", layer_sizes=[3000, 5000], created=CREATED, seed=1)
    idx = build_index(tmp_path / "idx", platforms=["linux/amd64", "linux/arm64"], seed=2)
    repo = f"{reg.host}/acme/app"
    oci = push_layout(img, f"{repo}:oci", creds=reg.creds)
    push_layout(img, f"{repo}:oci-again", creds=reg.creds)
    v2 = push_layout(img, f"{repo}:docker", creds=reg.creds, fmt="v2s2")
    multi = push_layout(idx, f"{repo}:multi", creds=reg.creds, all_images=True)
    push_layout(img, f"{reg.host}/other/thing:1", creds=reg.creds)

    async with RegistryClient(Endpoint(reg.url), creds_of(reg), cache_dir=tmp_path / "c") as c:
        await c.ping()
        repos = [r async for page in c.iter_repositories() for r in page]
        assert repos == ["acme/app", "other/thing"]
        assert sorted(await c.list_tags("acme/app")) == ["docker", "multi", "oci", "oci-again"]
        tags = {t.tag: t for t in await inventory.load_tags(c, "acme/app")}

        assert tags["oci"].digest == oci
        assert tags["docker"].digest == v2 and v2 != oci
        assert tags["docker"].media_type == "application/vnd.docker.distribution.manifest.v2+json"
        assert tags["oci"].media_type == "application/vnd.oci.image.manifest.v1+json"
        assert shares_digest(list(tags.values())) == {oci: ["oci", "oci-again"]}
        assert tags["oci"].size == img.blob_bytes()
        assert tags["oci"].created == CREATED
        assert [p.label for p in tags["oci"].platforms] == ["linux/amd64"]

        m = tags["multi"]
        assert m.digest == multi and m.kind == ArtifactKind.INDEX
        assert [p.label for p in m.platforms] == ["linux/amd64", "linux/arm64"]
        assert set(m.child_digests) == set(idx.manifest_digests)
        assert m.size == idx.blob_bytes()  # no blob shared between the two platforms

        # the manifest bytes are verified against the digest and round-trip through PUT
        resp = await c.get_manifest("acme/app", oci)
        assert resp.digest == oci
        assert await c.put_manifest("acme/app", "copy", resp.data, resp.media_type) == oci
        assert await c.blob_exists("acme/app", tags["oci"].config_digest)
        assert not await c.blob_exists("acme/app", "sha256:" + "0" * 64)
        assert await c.referrers("acme/app", oci) == []  # 2.8: no API, no fallback tag
        with pytest.raises(E.NotFound):  # 2.8 has no referrers API: a 404 says so
            await c.referrers_from_api("acme/app", oci)

        # deleting by digest removes every tag pointing to it
        await c.delete_manifest("acme/app", oci)
        assert sorted(await c.list_tags("acme/app")) == ["docker", "multi"]
        with pytest.raises(E.NotFound):
            await c.get_manifest("acme/app", "oci")


async def test_second_listing_is_one_request_per_tag(
    distribution: Distribution, tmp_path: Path
) -> None:
    reg = distribution
    idx = build_index(tmp_path / "idx", platforms=["linux/amd64", "linux/arm64"], seed=3)
    img = build_image(tmp_path / "img", seed=4)
    push_layout(idx, f"{reg.host}/acme/app:multi", creds=reg.creds, all_images=True)
    push_layout(img, f"{reg.host}/acme/app:one", creds=reg.creds)
    async with RegistryClient(Endpoint(reg.url), creds_of(reg), cache_dir=tmp_path / "c") as c:
        first = await inventory.load_tags(c, "acme/app")
    async with RegistryClient(Endpoint(reg.url), creds_of(reg), cache_dir=tmp_path / "c") as c:
        second = await inventory.load_tags(c, "acme/app")
        assert c.requests == 1 + 2  # the tag list, then one conditional GET per tag
    assert first == second


async def test_access_and_probe(distribution: Distribution) -> None:
    reg = distribution
    result = await probe(Endpoint(reg.url))
    assert result.auth_required == (reg.flavour != "anonymous")
    assert result.auth_scheme == {"anonymous": "", "basic": "basic", "token": "bearer"}[reg.flavour]
    async with RegistryClient(Endpoint(reg.url), creds_of(reg)) as c:
        access = await c.check_access("acme/app")
    assert access.pull
    if reg.flavour == "token":
        assert access.push and access.delete and access.catalog
    assert "pull: yes" in access.words


async def test_wrong_password_is_refused_in_words(distribution: Distribution) -> None:
    reg = distribution
    async with RegistryClient(Endpoint(reg.url), Credentials("alice", "wrong")) as c:
        if reg.flavour == "anonymous":
            await c.ping()  # no challenge: credentials are never sent, nothing to refuse
            return
        with pytest.raises(E.AuthenticationFailed) as info:
            await c.ping()
    assert reg.host in info.value.message and "wrong" not in info.value.message


class SlowTransport(httpx.AsyncBaseTransport):
    """Adds latency to registry requests so a listing outlives the token."""

    def __init__(self, inner: httpx.AsyncBaseTransport, delay: float) -> None:
        self.inner, self.delay = inner, delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/manifests/" in request.url.path:
            await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.slow
@pytest.mark.parametrize("expires_in", [True, False], ids=["expires_in", "jwt-exp"])
async def test_token_expiring_during_a_long_listing(
    token_registry_factory, tmp_path: Path, expires_in: bool
) -> None:
    from regview.core.client.transport_aiohttp import AiohttpTransport

    reg: Distribution = token_registry_factory(2.0)
    assert reg.realm is not None
    reg.realm.send_expires_in = expires_in
    img = build_image(tmp_path / "img", seed=5)
    digest = push_layout(img, f"{reg.host}/acme/app:base", creds=reg.creds)
    creds = creds_of(reg)
    async with RegistryClient(Endpoint(reg.url), creds) as c:
        data = (await c.get_manifest("acme/app", digest)).data
        mt = json.loads(data)["mediaType"]
        for i in range(24):
            await c.put_manifest("acme/app", f"t{i:02d}", data, mt)
    issued_before = reg.realm.issued
    slow = SlowTransport(AiohttpTransport(limit=4), 0.2)
    async with RegistryClient(Endpoint(reg.url), creds, concurrency=1, transport=slow) as c:
        tags = await inventory.load_tags(c, "acme/app")
    assert len(tags) == 25 and all(t.digest == digest and not t.error for t in tags)
    # 25 × 0.2 s = 5 s with 2 s tokens: the client renewed its token along the way
    assert reg.realm.issued - issued_before >= 3
