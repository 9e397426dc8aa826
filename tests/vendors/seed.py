"""Small, well-formed images pushed straight into the registry underneath an imitation (plain
HTTP, anonymous): single-platform images and multi-platform indexes, each distinct by `salt`.

    digest = push_image(url, "alice/app", ["v1", "v2"], arch="amd64", salt="a")
    digest = push_index(url, "alice/app", ["multi"], archs=("amd64", "arm64"), salt="m")
    tags_now(url, "alice/app") -> {tag: digest}
"""

from __future__ import annotations

import hashlib
import json

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _blob(http: httpx.Client, repo: str, data: bytes) -> None:
    r = http.post(f"/v2/{repo}/blobs/uploads/")
    r.raise_for_status()
    loc = r.headers["Location"]
    sep = "&" if "?" in loc else "?"
    http.put(
        f"{loc}{sep}digest={sha256(data)}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    ).raise_for_status()


def _manifest(http: httpx.Client, repo: str, ref: str, data: bytes, media_type: str) -> None:
    http.put(
        f"/v2/{repo}/manifests/{ref}", content=data, headers={"Content-Type": media_type}
    ).raise_for_status()


def _image(http: httpx.Client, repo: str, arch: str, salt: str) -> tuple[bytes, int]:
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "created": "2024-05-01T10:00:00Z",
            "rootfs": {"type": "layers", "diff_ids": []},
            "config": {"Labels": {"salt": salt}},
        },
        sort_keys=True,
    ).encode()
    layer = f"layer-{arch}-{salt}".encode() * 40
    for blob in (config, layer):
        _blob(http, repo, blob)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": sha256(layer), "size": len(layer)}],
        },
        sort_keys=True,
    ).encode()
    return manifest, len(config) + len(layer)


def push_image(url: str, repo: str, tags: list[str], *, arch: str = "amd64", salt: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as http:
        manifest, _size = _image(http, repo, arch, salt)
        for tag in tags:
            _manifest(http, repo, tag, manifest, OCI_MANIFEST)
    return sha256(manifest)


def push_index(
    url: str, repo: str, tags: list[str], *, archs: tuple[str, ...] = ("amd64", "arm64"), salt: str
) -> str:
    with httpx.Client(base_url=url, timeout=30) as http:
        children = []
        for arch in archs:
            manifest, _size = _image(http, repo, arch, salt)
            _manifest(http, repo, sha256(manifest), manifest, OCI_MANIFEST)
            children.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": sha256(manifest),
                    "size": len(manifest),
                    "platform": {"architecture": arch, "os": "linux"},
                }
            )
        index = json.dumps(
            {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}, sort_keys=True
        ).encode()
        for tag in tags:
            _manifest(http, repo, tag, index, OCI_INDEX)
    return sha256(index)


def tags_now(url: str, repo: str) -> dict[str, str]:
    """Every tag of `repo` in the registry underneath, with its digest."""
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.get(f"/v2/{repo}/tags/list")
        if r.status_code == 404:
            return {}
        out = {}
        for tag in r.json().get("tags") or []:
            h = http.head(
                f"/v2/{repo}/manifests/{tag}",
                headers={"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}"},
            )
            if h.status_code == 200:
                out[tag] = h.headers["Docker-Content-Digest"]
        return out
