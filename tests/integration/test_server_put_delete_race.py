"""Pushes race deletions on the real server over loopback: a few hundred manifest PUTs, each
against a deletion of what it references (GC with no review delay, the repository's deletion,
the layer's unlink) run at the same moment on another thread. Every PUT either succeeds or fails
with MANIFEST_BLOB_UNKNOWN, and afterwards no stored manifest names a blob that is gone.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from regview.server.registry import gc
from regview.server.registry.registry import Registry
from regview.server.runner import LocalRegistry
from regview.spec.digest import Digest

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
WORKERS = 4
ROUNDS = 75  # per worker: 300 races in all
KINDS = ("gc", "repo", "unlink")


async def _push_blob(client: httpx.AsyncClient, repo: str, data: bytes) -> tuple[str, int]:
    digest = str(Digest.of(data))
    r = await client.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
    assert r.status_code == 201, r.text
    return digest, len(data)


def _delete(registry: Registry, kind: str, repo: str, layer: str) -> None:
    if kind == "gc":
        gc.collect(registry, delay=0)
    elif kind == "repo":
        registry.delete_repository(repo)
    else:
        registry.unlink_blob(repo, layer)


async def _worker(
    client: httpx.AsyncClient, registry: Registry, worker: int, outcomes: dict[str, int]
) -> None:
    for n in range(ROUNDS):
        kind = KINDS[n % len(KINDS)]
        repo = f"race/{kind}-{worker}"
        seed = f"{worker}-{n}"
        config = await _push_blob(client, repo, json.dumps({"os": "linux", "n": seed}).encode())
        layer = await _push_blob(client, repo, f"layer {seed}".encode() * 64)
        body = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config[0], "size": config[1]},
                "layers": [{"mediaType": LAYER, "digest": layer[0], "size": layer[1]}],
            }
        ).encode()
        put = client.put(
            f"/v2/{repo}/manifests/latest", content=body, headers={"Content-Type": OCI_MANIFEST}
        )
        r, _ = await asyncio.gather(put, asyncio.to_thread(_delete, registry, kind, repo, layer[0]))
        if r.status_code == 201:
            outcomes["stored"] += 1
        else:
            assert r.status_code == 400, r.text
            assert r.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN", r.text
            outcomes["refused"] += 1


def _dangling(registry: Registry) -> list[str]:
    rows = registry.meta.conn.execute(
        "SELECT r.name, m.digest, mr.digest FROM manifest_refs mr "
        "JOIN manifests m ON m.id = mr.manifest_id JOIN repositories r ON r.id = m.repo_id "
        "WHERE mr.kind = 'blob'"
    ).fetchall()
    missing = []
    for repo, manifest, blob in rows:
        row = registry.meta.conn.execute("SELECT 1 FROM blobs WHERE digest=?", (blob,)).fetchone()
        stored = row is not None and registry.store.exists(Digest.parse(blob))
        # an unlink serialised after the push legitimately leaves the layer unlinked there
        linked = "/unlink-" in repo or registry.blob_size(repo, blob) is not None
        if not (stored and linked):
            missing.append(f"{repo}@{manifest} -> {blob}")
    return missing


async def test_manifest_puts_racing_deletions_leave_no_dangling_reference(tmp_path: Path) -> None:
    started = time.monotonic()
    outcomes = {"stored": 0, "refused": 0}
    with LocalRegistry(tmp_path / "data") as local:
        registry = local.registry
        assert registry is not None
        async with httpx.AsyncClient(base_url=local.url, timeout=30) as client:
            await asyncio.gather(*(_worker(client, registry, w, outcomes) for w in range(WORKERS)))
            assert _dangling(registry) == []
            # what the database says, the wire agrees with: every tagged image pulls in full
            for name in (await client.get("/v2/_catalog")).json()["repositories"]:
                r = await client.get(
                    f"/v2/{name}/manifests/latest", headers={"Accept": OCI_MANIFEST}
                )
                if r.status_code == 404:
                    continue
                assert r.status_code == 200, r.text
                if "/unlink-" in name:
                    continue
                manifest = r.json()
                for desc in [manifest["config"], *manifest["layers"]]:
                    blob = await client.head(f"/v2/{name}/blobs/{desc['digest']}")
                    assert blob.status_code == 200, (name, desc["digest"])
    assert outcomes["stored"] + outcomes["refused"] == WORKERS * ROUNDS
    assert time.monotonic() - started < 60
