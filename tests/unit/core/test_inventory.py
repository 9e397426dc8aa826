"""Tag inventory over a fake registry: sizes, created, platforms, attestations, cache path."""

from __future__ import annotations

import asyncio
import gc
import json
from datetime import UTC, datetime
from pathlib import Path

from registry_fakes import OCI_MANIFEST, FakeRegistry, config_blob

from regview.core import inventory
from regview.core.client.cache import MEMO_KEYS
from regview.core.client.client import RegistryClient
from regview.core.model import ArtifactKind, Endpoint, shares_digest

REG = "https://registry.example"


def client(fake: FakeRegistry, cache: Path | None = None) -> RegistryClient:
    return RegistryClient(Endpoint(REG), transport=fake.transport(), cache_dir=cache)


async def test_image_size_created_platform(fake: FakeRegistry) -> None:
    cfg = config_blob("2024-03-01T12:00:00Z", "arm64")
    fake.add_image("v1", config=cfg, layers=(b"a" * 100, b"b" * 50))
    async with client(fake) as c:
        [t] = await inventory.load_tags(c, "acme/app")
    assert t.kind == ArtifactKind.IMAGE
    assert t.size == len(cfg) + 150
    assert t.created == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert [p.label for p in t.platforms] == ["linux/arm64"]
    assert {d for d, _ in t.blobs} == {t.config_digest, *(d for d, s in t.blobs if s in (100, 50))}


async def test_created_preference_annotation_then_config_then_hint(fake: FakeRegistry) -> None:
    fake.add_image(
        "annotated",
        config=config_blob("1970-01-01T00:00:00Z"),
        annotations={"org.opencontainers.image.created": "2023-01-02T03:04:05Z"},
        layers=(b"x",),
    )
    fake.add_image("plain", config=config_blob("2022-01-01T00:00:00Z", n=2), layers=(b"y",))
    hint = datetime(2025, 1, 1, tzinfo=UTC)
    async with client(fake) as c:
        tags = await inventory.load_tags(c, "acme/app", created_hints={"plain": hint})
    by = {t.tag: t for t in tags}
    assert by["annotated"].created == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert by["plain"].created == hint


async def test_index_platforms_dedup_size_and_attestations(fake: FakeRegistry) -> None:
    shared = b"shared-layer" * 10
    amd = fake.add_image(None, config=config_blob(arch="amd64"), layers=(shared, b"amd-only"))
    arm = fake.add_image(None, config=config_blob(arch="arm64", n=1), layers=(shared, b"arm-only!"))
    att = fake.add_image(
        None,
        config=config_blob(n=9),
        layers=(b"attestation-data",),
        config_type="application/vnd.in-toto+json",
    )
    fake.add_index(
        "multi",
        [
            fake.descriptor(amd, "linux/amd64"),
            fake.descriptor(arm, "linux/arm64"),
            fake.descriptor(
                att,
                "unknown/unknown",
                annotations={
                    "vnd.docker.reference.type": "attestation-manifest",
                    "vnd.docker.reference.digest": amd,
                },
            ),
        ],
    )
    async with client(fake) as c:
        [t] = await inventory.load_tags(c, "acme/app")
    assert t.kind == ArtifactKind.INDEX
    assert [p.label for p in t.platforms] == ["linux/amd64", "linux/arm64"]
    amd_size = json.loads(fake.manifests[amd][0])
    per_amd = amd_size["config"]["size"] + sum(layer["size"] for layer in amd_size["layers"])
    assert t.platforms[0].size == per_amd
    # shared layer counted once; attestation not part of the size but kept alive in blobs
    sizes = {d: s for d, s in t.blobs}
    assert len(sizes) == 7  # 2 configs, shared, amd-only, arm-only, attestation config + layer
    platform_total = sum(p.size for p in t.platforms) - len(shared)
    assert t.size == platform_total
    assert set(t.child_digests) == {amd, arm, att}


async def test_shared_digests_fetch_once_and_are_reported(fake: FakeRegistry) -> None:
    d = fake.add_image("a")
    fake.tags["b"] = d
    fake.tags["c"] = d
    async with client(fake) as c:
        tags = await inventory.load_tags(c, "acme/app")
    assert shares_digest(tags) == {d: ["a", "b", "c"]}
    config_gets = [r for r in fake.log if "/blobs/" in r.url.path]
    assert len(config_gets) == 1


async def test_second_listing_costs_one_conditional_request_per_tag(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    for i in range(30):
        fake.add_image(f"t{i}", config=config_blob(n=i), layers=(f"layer{i}".encode(),))
    async with client(fake, tmp_path) as c:
        first = await inventory.load_tags(c, "acme/app")
    fake.log.clear()
    async with client(fake, tmp_path) as c:
        second = await inventory.load_tags(c, "acme/app")
    assert first == second
    manifest_requests = [r for r in fake.log if "/manifests/" in r.url.path]
    assert len(manifest_requests) == 30
    assert all(r.headers.get("If-None-Match") for r in manifest_requests)
    assert len(fake.log) == 31  # plus the tag list, nothing else


async def test_changed_tag_is_refetched_on_the_warm_path(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    fake.add_image("v1", config=config_blob(n=1), layers=(b"old",))
    async with client(fake, tmp_path) as c:
        [before] = await inventory.load_tags(c, "acme/app")
    fake.add_image("v1", config=config_blob(n=2), layers=(b"new-and-longer",))
    async with client(fake, tmp_path) as c:
        [after] = await inventory.load_tags(c, "acme/app")
    assert after.digest != before.digest
    assert after.size is not None and before.size is not None and after.size > before.size


async def test_batches_and_cancel(fake: FakeRegistry) -> None:
    for i in range(450):
        fake.add_manifest(
            f"t{i:03d}",
            json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": {
                        "mediaType": "application/vnd.oci.empty.v1+json",
                        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                        "size": 2,
                    },
                    "layers": [],
                    "artifactType": "application/x-test",
                    "annotations": {"i": str(i)},
                }
            ).encode(),
            OCI_MANIFEST,
        )
    batches: list[int] = []
    async with client(fake) as c:
        tags = await inventory.load_tags(c, "acme/app", on_batch=lambda b: batches.append(len(b)))
    assert sum(batches) == 450 and max(batches) <= inventory.BATCH
    assert all(
        t.kind == ArtifactKind.ARTIFACT and t.artifact_type == "application/x-test" for t in tags
    )
    cancel = asyncio.Event()
    cancel.set()
    async with client(fake) as c:
        assert await inventory.load_tags(c, "acme/app", cancel=cancel) == []


async def test_deleted_tag_gets_an_error_not_an_exception(fake: FakeRegistry) -> None:
    fake.add_image("here")
    async with client(fake) as c:
        tags = await inventory.load_tags(c, "acme/app", tags=["here", "gone"])
    assert tags[0].error == ""
    assert "not found" in tags[1].error


async def test_a_finished_listing_leaves_nothing_for_the_cyclic_collector(
    fake: FakeRegistry,
) -> None:
    # The rows, summaries and configs of a listing are freed by reference counting once the
    # caller lets go of them: the CLI's exit (and the window's idle collection) used to
    # traverse the whole run — `worker` and `top_up` held each other through their closures.
    for i in range(40):
        fake.add_image(f"v{i}", config=config_blob(n=i), layers=(b"layer-%d" % i,))
    async with client(fake) as c:
        await inventory.load_tags(c, "acme/app")  # warm-up: imports, the connection, caches
        gc.collect()
        was_enabled = gc.isenabled()  # the UI tests' gc_guard may have turned it off: keep that
        gc.disable()
        try:
            tags = await inventory.load_tags(c, "acme/app")
            assert len(tags) == 40
            del tags
            left = gc.collect()
        finally:
            if was_enabled:
                gc.enable()
    assert left < 40, f"{left} objects of a 40-tag listing were only freed by the cyclic gc"


async def test_rows_from_a_fresh_summary_are_those_from_the_stored_one(fake: FakeRegistry) -> None:
    # A fresh summary carries its created time as a datetime (no parse back from the text);
    # the listing cache stores only the text. Rows built either way must be the same, field by
    # field — the CLI's output of a cold and of a warm listing alike.
    fake.add_image("utc", config=config_blob("2024-03-01T12:00:00.123456789Z"), layers=(b"a",))
    fake.add_image("offset", config=config_blob("2024-03-01T12:00:00+02:00", n=2), layers=(b"b",))
    fake.add_image("none", config=config_blob("", n=3), layers=(b"c",))
    fake.add_image(
        "annotated",
        config=config_blob("1970-01-01T00:00:00Z", n=4),
        annotations={"org.opencontainers.image.created": "2023-01-02T03:04:05.5Z"},
        layers=(b"d",),
    )
    async with client(fake) as c:
        run = inventory._Run(c, "acme/app", inventory.Listing())
        for tag in ("utc", "offset", "none", "annotated"):
            digest, fresh = await run.tag(tag)
            stored = json.loads(
                json.dumps({k: v for k, v in fresh.items() if not k.startswith("_")})
            )
            a = inventory.tag_info("acme/app", tag, digest, fresh, None)
            b = inventory.tag_info("acme/app", tag, digest, stored, None)
            assert a == b and str(a.created) == str(b.created)
            assert (a.created is None) == (tag == "none")


def test_kinds_listed_without_the_vendors_package_have_no_vendor_module() -> None:
    # load_tags skips the vendors package for these kinds (start-up): none of them may have a
    # management API module, or its listing through that API would be silently skipped
    from regview.core import vendors

    assert inventory.NO_VENDOR_API.isdisjoint(vendors.MODULES)
    assert all(vendors.vendor_spec(kind) is None for kind in inventory.NO_VENDOR_API)


async def test_the_listing_cache_stores_summaries_without_their_memos(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    # The save drops the memos by name (cache.MEMO_KEYS): one added to a summary without
    # being named there would be written to disk (a datetime: the save would fail).
    amd = fake.add_image(None, config=config_blob(arch="amd64"), layers=(b"amd",))
    arm = fake.add_image(None, config=config_blob(arch="arm64", n=1), layers=(b"arm",))
    fake.add_index(
        "multi", [fake.descriptor(amd, "linux/amd64"), fake.descriptor(arm, "linux/arm64")]
    )
    fake.add_image("single", config=config_blob("2024-03-01T12:00:00Z", n=2), layers=(b"s",))
    async with client(fake, tmp_path) as c:
        first = await inventory.load_tags(c, "acme/app")
        assert c.listings is not None
        kept = c.listings.load(c.registry, "acme/app")
        run = inventory._Run(c, "acme/app", inventory.Listing())
        fresh = [(await run.tag(t.tag))[1] for t in first]
    for summary in fresh:
        inventory.tag_info("acme/app", "x", "sha256:0", summary, None)  # adds the row memos
        assert {k for k in summary if k.startswith("_")} <= set(MEMO_KEYS)
    assert kept.summaries and all(not k.startswith("_") for s in kept.summaries.values() for k in s)
    async with client(fake, tmp_path) as c:
        again = await inventory.load_tags(c, "acme/app")
    assert again == first
