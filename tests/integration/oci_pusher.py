"""A small OCI pusher and puller over real sockets (httpx, synchronous, one client per thread) for
the concurrency and soak tests: blobs first (monolithic POST), then the manifest, as every
client pushes; pulls compare every byte with what was pushed."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Image:
    repo: str
    tag: str
    manifest: bytes
    blobs: dict[str, bytes]  # digest → bytes

    @property
    def digest(self) -> str:
        return sha(self.manifest)


def make_image(repo: str, tag: str, layers: list[bytes]) -> Image:
    config = json.dumps(
        {"created": "2024-01-01T00:00:00Z", "os": "linux", "architecture": "amd64", "tag": tag}
    ).encode()
    blobs = {sha(config): config, **{sha(layer): layer for layer in layers}}
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha(config), "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": sha(b), "size": len(b)} for b in layers],
        }
    ).encode()
    return Image(repo, tag, manifest, blobs)


class PushFailed(Exception):
    pass


def push(http: httpx.Client, image: Image, *, pause: float = 0.0) -> None:
    """Upload every blob, wait `pause` seconds (a slow layer elsewhere), then PUT the manifest.
    Raises PushFailed with the registry's answer."""
    for digest, data in image.blobs.items():
        r = http.post(f"/v2/{image.repo}/blobs/uploads/", params={"digest": digest}, content=data)
        if r.status_code != 201:
            raise PushFailed(f"blob {digest}: {r.status_code} {r.text}")
    if pause:
        time.sleep(pause)
    r = http.put(
        f"/v2/{image.repo}/manifests/{image.tag}",
        content=image.manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    if r.status_code != 201:
        raise PushFailed(f"manifest {image.repo}:{image.tag}: {r.status_code} {r.text}")


def pull_matches(http: httpx.Client, image: Image) -> str | None:
    """None when the image pulls back byte-exact, else what differed."""
    r = http.get(f"/v2/{image.repo}/manifests/{image.tag}", headers={"Accept": OCI_MANIFEST})
    if r.status_code != 200 or r.content != image.manifest:
        return f"{image.repo}:{image.tag} manifest: {r.status_code}"
    for digest, data in image.blobs.items():
        r = http.get(f"/v2/{image.repo}/blobs/{digest}")
        if r.status_code != 200 or r.content != data:
            return f"{image.repo}:{image.tag} blob {digest}: {r.status_code}"
    return None
