"""Seeding tags with chosen creation times straight over the registry API (no skopeo), for the
GitLab deletion tests."""

from __future__ import annotations

import json
import os
from datetime import datetime

from regview.core.client.client import RegistryClient

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


async def seed_tags(
    client: RegistryClient, repository: str, tags: dict[str, datetime | None]
) -> dict[str, str]:
    """Push one small image per distinct creation time and tag it; tags with the same time share
    a manifest (same digest). `None` = a config without `created` (the time is unknown).
    Returns tag → digest."""
    layer = os.urandom(512)
    layer_digest = await client.upload_blob(repository, layer)
    by_time: dict[datetime | None, tuple[str, bytes]] = {}
    out: dict[str, str] = {}
    for tag, created in tags.items():
        if created not in by_time:
            config: dict[str, object] = {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            }
            if created is not None:
                config["created"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
            cfg = json.dumps(config, sort_keys=True).encode()
            cfg_digest = await client.upload_blob(repository, cfg)
            manifest = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": cfg_digest, "size": len(cfg)},
                "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
            }
            data = json.dumps(manifest, sort_keys=True).encode()
            by_time[created] = ("", data)
        _, data = by_time[created]
        out[tag] = await client.put_manifest(repository, tag, data, OCI_MANIFEST)
    return out
