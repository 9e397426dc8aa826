"""Mark and sweep: exactly the unreferenced bytes go; tagged indexes keep their children and
kept manifests keep their referrers; the review delay holds content back."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from server_helpers import OCI_INDEX, OCI_MANIFEST, push_blob, push_image

from regview.server.errors import StoreClosed
from regview.server.registry import gc
from regview.server.registry.registry import Registry
from regview.spec.digest import Digest

REPO = "acme/app"


async def test_gc_frees_exactly_the_unreferenced_bytes(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    _, _, kept_blobs = await push_image(client, REPO, "keep", seed="k")
    dropped, _, dropped_blobs = await push_image(client, REPO, "drop", seed="d")
    stray = await push_blob(client, REPO, b"never referenced" * 10)
    assert (await client.delete(f"/v2/{REPO}/manifests/drop")).status_code == 202
    expected = {*dropped_blobs, stray} - set(kept_blobs)
    expected_bytes = sum(registry.store.path(Digest.parse(d)).stat().st_size for d in expected)

    dry = gc.collect(registry, dry_run=True)
    assert set(dry.deleted_blobs) == expected and dry.blob_bytes_freed == expected_bytes
    assert (await client.get(f"/v2/{REPO}/manifests/{dropped}")).status_code == 200

    report = gc.collect(registry)
    assert set(report.deleted_blobs) == expected
    assert report.blob_bytes_freed == expected_bytes
    assert report.deleted_manifests == [f"{REPO}@{dropped}"]
    assert (await client.get(f"/v2/{REPO}/manifests/{dropped}")).status_code == 404
    assert (await client.get(f"/v2/{REPO}/manifests/keep")).status_code == 200
    for d in kept_blobs:
        assert (await client.get(f"/v2/{REPO}/blobs/{d}")).status_code == 200
    again = gc.collect(registry)
    assert again.bytes_freed == 0


async def test_gc_keeps_children_of_tagged_index_and_referrers(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    child, body, _ = await push_image(client, REPO, "tmp", seed="c")
    await client.delete(f"/v2/{REPO}/manifests/tmp")  # the child is now untagged
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": len(body)}],
        }
    ).encode()
    r = await client.put(
        f"/v2/{REPO}/manifests/multi", content=index, headers={"Content-Type": OCI_INDEX}
    )
    index_digest = r.headers["Docker-Content-Digest"]
    subject = {"mediaType": OCI_INDEX, "digest": index_digest, "size": len(index)}
    sig, _, _ = await push_image(
        client,
        REPO,
        "sigtmp",
        seed="s",
        artifactType="application/vnd.example.sig",
        subject=subject,
    )
    await client.delete(f"/v2/{REPO}/manifests/sigtmp")
    report = gc.collect(registry)
    assert report.manifests_deleted == 0 and report.blobs_deleted == 0
    for ref in (child, index_digest, sig):
        assert (await client.get(f"/v2/{REPO}/manifests/{ref}")).status_code == 200
    # untag the index: all three go
    await client.delete(f"/v2/{REPO}/manifests/multi")
    report = gc.collect(registry)
    assert report.manifests_deleted == 3
    assert report.blobs_deleted == 4  # two configs, two layers


async def test_online_gc_waits_for_the_review_delay(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    await push_image(client, REPO, "t")
    await client.delete(f"/v2/{REPO}/manifests/t")
    now = time.time()
    first = gc.collect(registry, delay=3600, now=now)
    assert first.bytes_freed == 0
    assert gc.collect(registry, delay=3600, now=now + 1800).bytes_freed == 0
    later = gc.collect(registry, delay=3600, now=now + 3601)
    assert later.manifests_deleted == 1 and later.blobs_deleted == 0
    # its blobs became unreferenced only now, and get their own review delay
    assert gc.collect(registry, delay=3600, now=now + 3700).blobs_deleted == 0
    assert gc.collect(registry, delay=3600, now=now + 3601 + 3601).blobs_deleted == 2


async def test_repush_during_review_clears_the_stamp(
    client: httpx.AsyncClient, registry: Registry
) -> None:
    _, body, _ = await push_image(client, REPO, "t")
    await client.delete(f"/v2/{REPO}/manifests/t")
    now = time.time()
    gc.collect(registry, delay=3600, now=now)
    await client.put(
        f"/v2/{REPO}/manifests/t", content=body, headers={"Content-Type": OCI_MANIFEST}
    )
    assert gc.collect(registry, delay=3600, now=now + 7200).bytes_freed == 0


async def test_abandoned_uploads_are_purged(client: httpx.AsyncClient, registry: Registry) -> None:
    location = (await client.post(f"/v2/{REPO}/blobs/uploads/")).headers["Location"]
    await client.patch(location, content=b"x" * 1000)
    assert gc.collect(registry).uploads_purged == 0
    report = gc.collect(registry, now=time.time() + 86401)
    assert report.uploads_purged == 1 and report.upload_bytes_freed == 1000
    assert (await client.get(location)).status_code == 404


def test_close_waits_for_a_running_gc_which_then_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Online GC runs in a worker thread the server's shutdown cannot stop; closing the database
    under it crashed the whole process (a segfault in CI). close() now waits for it, and the GC
    stops at its next checkpoint instead of running on a closed store."""
    registry = Registry(tmp_path / "data")
    inside, release = threading.Event(), threading.Event()
    real = gc._kept_manifests

    def held(reg: Registry) -> object:
        inside.set()
        assert release.wait(10)
        return real(reg)

    monkeypatch.setattr(gc, "_kept_manifests", held)
    outcome: list[object] = []

    def run_gc() -> None:
        try:
            outcome.append(gc.collect(registry))
        except StoreClosed as exc:
            outcome.append(exc)

    collector = threading.Thread(target=run_gc)
    collector.start()
    assert inside.wait(10)
    closer = threading.Thread(target=registry.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive(), "close() did not wait for the GC in flight"
    release.set()
    closer.join(10)
    collector.join(10)
    assert not closer.is_alive() and not collector.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], StoreClosed)  # stopped at a checkpoint
    with pytest.raises(StoreClosed):
        gc.collect(registry)
