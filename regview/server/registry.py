"""The registry's operations over the blob store and the metadata: what the HTTP app (and the
GitLab-instance modules, the demo seeder and GC) call. Synchronous and thread-safe: the app runs
writes in the thread pool and the tiny indexed reads inline.
"""

from __future__ import annotations

from regview.server.registry_blobs import RegistryBlobs
from regview.server.registry_index import RegistryIndex
from regview.server.registry_manifests import MAX_CONFIG_PARSE, RegistryManifests
from regview.server.registry_records import (
    EventAction,
    Listener,
    ManifestRecord,
    RegistryEvent,
    RepositoryRecord,
    TagRecord,
)

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


class Registry(RegistryManifests, RegistryBlobs):
    """One data directory: `blobs/`, `uploads/`, `metadata.db`."""
