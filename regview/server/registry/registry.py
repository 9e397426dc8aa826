"""The registry's operations over the blob store and the metadata: what the HTTP app (and the
GitLab-instance modules, the demo seeder and GC) call. Synchronous and thread-safe: the app runs
writes in the thread pool and the tiny indexed reads inline.

`Registry` is the index (state and reads) with two writers composed over it: `BlobWrites`
(links, uploads) and `ManifestWrites` (manifests, tags, repositories). Its write methods hand
over to them; nothing else about a writer is part of the registry's interface.
"""

from __future__ import annotations

from pathlib import Path

from regview.server.registry.blobs import BlobWrites
from regview.server.registry.index import RegistryIndex
from regview.server.registry.manifests import MAX_CONFIG_PARSE, ManifestWrites
from regview.server.registry.records import (
    EventAction,
    Listener,
    ManifestRecord,
    RegistryEvent,
    RepositoryRecord,
    TagRecord,
)
from regview.spec.digest import Digest

__all__ = [
    "MAX_CONFIG_PARSE",
    "EventAction",
    "Listener",
    "ManifestRecord",
    "Registry",
    "RegistryEvent",
    "RegistryIndex",
    "RepositoryRecord",
    "TagRecord",
]


class Registry(RegistryIndex):
    """One data directory: `blobs/`, `uploads/`, `metadata.db`."""

    def __init__(self, data_dir: Path, *, gc_delay: float = 86400) -> None:
        super().__init__(data_dir, gc_delay=gc_delay)
        self.blobs = BlobWrites(self)
        self.manifests = ManifestWrites(self)

    # -- manifests, tags, repositories -----------------------------------------------------
    def put_manifest(
        self,
        name: str,
        reference: str,
        content: bytes,
        content_type: str = "",
        *,
        now: float | None = None,
    ) -> ManifestRecord:
        """Validate and store a manifest exactly as sent; tag it when `reference` is a tag."""
        return self.manifests.put_manifest(name, reference, content, content_type, now=now)

    def delete_tag(self, name: str, tag: str) -> bool:
        return self.manifests.delete_tag(name, tag)

    def delete_manifest(self, name: str, digest: str) -> bool:
        return self.manifests.delete_manifest(name, digest)

    def delete_repository(self, name: str) -> int:
        return self.manifests.delete_repository(name)

    # -- blobs and uploads -----------------------------------------------------------------
    def link_blob(self, name: str, digest: Digest, size: int, *, now: float | None = None) -> None:
        self.blobs.link_blob(name, digest, size, now=now)

    def mount_blob(self, name: str, source: str, digest: Digest) -> bool:
        return self.blobs.mount_blob(name, source, digest)

    def unlink_blob(self, name: str, digest: str) -> bool:
        return self.blobs.unlink_blob(name, digest)

    def start_upload(self, name: str) -> str:
        return self.blobs.start_upload(name)

    def upload_size(self, name: str, upload_id: str) -> int | None:
        return self.blobs.upload_size(name, upload_id)

    def touch_upload(self, upload_id: str) -> None:
        self.blobs.touch_upload(upload_id)

    def finish_upload(self, name: str, upload_id: str, expected: Digest) -> int:
        return self.blobs.finish_upload(name, upload_id, expected)

    def truncate_upload(self, upload_id: str, size: int) -> None:
        self.blobs.truncate_upload(upload_id, size)

    def cancel_upload(self, upload_id: str) -> None:
        self.blobs.cancel_upload(upload_id)
