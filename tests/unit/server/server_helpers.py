"""Helpers for the in-process server tests (a module of its own: `conftest` is not importable
by name once several test folders have one)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import httpx

from regview.server.config import ServerConfig
from regview.server.v2.app import create_app

if TYPE_CHECKING:
    from regview.server.gitlab.app import GitLabInstance
    from regview.server.registry.registry import Registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def push_blob(client: httpx.AsyncClient, repo: str, data: bytes) -> str:
    digest = sha(data)
    r = await client.post(f"/v2/{repo}/blobs/uploads/?digest={digest}", content=data)
    assert r.status_code == 201, r.text
    return digest


def image_manifest(
    config: tuple[str, int], layers: list[tuple[str, int]], **extra: object
) -> bytes:
    obj: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config[0], "size": config[1]},
        "layers": [{"mediaType": LAYER, "digest": d, "size": s} for d, s in layers],
    }
    obj.update(extra)
    return json.dumps(obj).encode()


async def push_image(
    client: httpx.AsyncClient, repo: str, ref: str, seed: str = "a", **extra: object
) -> tuple[str, bytes, list[str]]:
    """Push config + one layer + manifest; returns (manifest digest, bytes, blob digests)."""
    config = json.dumps(
        {"created": "2024-01-02T03:04:05Z", "os": "linux", "architecture": "amd64", "seed": seed}
    ).encode()
    layer = f"layer-{seed}".encode() * 50
    cd = await push_blob(client, repo, config)
    ld = await push_blob(client, repo, layer)
    body = image_manifest((cd, len(config)), [(ld, len(layer))], **extra)
    r = await client.put(
        f"/v2/{repo}/manifests/{ref}", content=body, headers={"Content-Type": OCI_MANIFEST}
    )
    assert r.status_code == 201, r.text
    return r.headers["Docker-Content-Digest"], body, [cd, ld]


def instance_client(
    gl: GitLabInstance, registry: Registry, base_url: str = "http://gitlab.test"
) -> httpx.AsyncClient:
    """A client of the registry app with the GitLab instance's authorizer and routes."""
    app = create_app(
        ServerConfig(registry.data_dir),
        registry=registry,
        authorizer=gl.authorizer,
        extra_routes=gl.routes(),
        online_gc=False,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
