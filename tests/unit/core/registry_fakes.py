"""A fake OCI registry behind `httpx.MockTransport`, for unit tests of the client layer only."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_blob(created: str = "2024-05-01T10:00:00Z", arch: str = "amd64", n: int = 0) -> bytes:
    return json.dumps(
        {
            "created": created,
            "os": "linux",
            "architecture": arch,
            "config": {"Labels": {"n": str(n)}},
        }
    ).encode()


@dataclass
class FakeRegistry:
    repo: str = "acme/app"
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # digest → (bytes, type)
    tags: dict[str, str] = field(default_factory=dict)  # tag → digest
    blobs: dict[str, bytes] = field(default_factory=dict)
    log: list[httpx.Request] = field(default_factory=list)

    def add_blob(self, data: bytes) -> dict[str, Any]:
        d = sha(data)
        self.blobs[d] = data
        return {"digest": d, "size": len(data)}

    def add_image(
        self,
        tag: str | None,
        *,
        config: bytes | None = None,
        layers: tuple[bytes, ...] = (b"layer-one",),
        annotations: dict[str, str] | None = None,
        config_type: str = OCI_CONFIG,
    ) -> str:
        cfg = self.add_blob(config if config is not None else config_blob())
        body: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": config_type, **cfg},
            "layers": [{"mediaType": LAYER, **self.add_blob(layer)} for layer in layers],
        }
        if annotations:
            body["annotations"] = annotations
        return self.add_manifest(tag, json.dumps(body).encode(), OCI_MANIFEST)

    def add_manifest(self, tag: str | None, data: bytes, media_type: str) -> str:
        d = sha(data)
        self.manifests[d] = (data, media_type)
        if tag:
            self.tags[tag] = d
        return d

    def add_index(self, tag: str, children: list[dict[str, Any]]) -> str:
        body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
        return self.add_manifest(tag, json.dumps(body).encode(), OCI_INDEX)

    def descriptor(self, digest: str, platform: str | None, **extra: Any) -> dict[str, Any]:
        data, mt = self.manifests[digest]
        out: dict[str, Any] = {"mediaType": mt, "digest": digest, "size": len(data), **extra}
        if platform:
            os_, arch = platform.split("/")
            out["platform"] = {"os": os_, "architecture": arch}
        return out

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.log.append(request)
        path = request.url.path
        if path == "/v2/":
            return httpx.Response(200, json={})
        m = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/(.+)$", path)
        if not m or m.group(1) != self.repo:
            return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN", "message": "no"}]})
        kind, ref = m.group(2), m.group(3)
        if kind == "tags":
            return httpx.Response(200, json={"name": self.repo, "tags": sorted(self.tags)})
        if kind == "blobs":
            if ref not in self.blobs:
                return httpx.Response(
                    404, json={"errors": [{"code": "BLOB_UNKNOWN", "message": "x"}]}
                )
            return httpx.Response(200, content=self.blobs[ref])
        digest = self.tags.get(ref, ref)
        if digest not in self.manifests:
            return httpx.Response(
                404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
            )
        data, mt = self.manifests[digest]
        headers = {"Docker-Content-Digest": digest, "Content-Type": mt, "Etag": f'"{digest}"'}
        if request.headers.get("If-None-Match") == f'"{digest}"':
            return httpx.Response(304, headers=headers)
        if request.method == "DELETE":
            return httpx.Response(202)
        return httpx.Response(
            200, headers=headers, content=b"" if request.method == "HEAD" else data
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


class Sleeps:
    """Records the delays the client asked for instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
