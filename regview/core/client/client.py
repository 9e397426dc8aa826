"""The registry client: one `RegistryClient` per registry, over httpx with a fast transport.

    async with RegistryClient(endpoint, credentials, cache_dir=..., concurrency=None) as c:
        (concurrency=N: N requests in flight, fixed; None: adapts to the link, core/client/limiter.py)
        (timeout=seconds: connect/read timeout of every request; default 30 s, 15 s to connect)
        await c.ping() -> httpx.Headers                         GET /v2/
        async for page in c.iter_repositories("group"): ...     catalog pages (CatalogRefused)
        await c.list_tags(repo) -> list[str]                    Link paging, `tags: null` ok
        await c.get_manifest(repo, ref) -> ManifestResponse     digest verified over the bytes
        await c.get_manifest(repo, ref, etag=digest) -> ManifestResponse   conditional only
                                                      when the cache holds etag's bytes
        await c.get_manifest_if_changed(repo, ref, etag) -> ManifestResponse | None (304)
        await c.head_manifest(repo, ref) -> ManifestHead
        await c.get_config(repo, descriptor) -> ImageConfig     cached by digest
        await c.get_blob_bytes(repo, digest, max_bytes=...) -> bytes   bounded, verified
        await c.put_manifest(repo, ref, data, media_type) -> digest
        await c.delete_manifest(repo, ref)
        await c.blob_exists(repo, digest) -> bool
        await c.upload_blob(repo, data) -> digest               POST + PUT, small blobs
        await c.referrers(repo, digest) -> list[ReferrerInfo]  OCI API, else sha256-<hex> tag
        await c.referrers_from_api(repo, digest) -> list[ReferrerInfo]   the API only
        await c.check_access(repo) -> Access                    what the credential can do

Every failure is a `regview.core.errors.RegistryError`. Temporary failures (429, 5xx,
connection errors) are retried with backoff, honouring Retry-After, on idempotent requests.

`RegistryClient` is its request path (`RegistryHttp`: connection, auth, limiter, caches) with
four groups of operations composed over it — listing, manifest reads, blob reads, writes —
each holding the request path, none sharing attributes with another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cached_property
from typing import TYPE_CHECKING

import httpx

from regview.core.client.blobs import MAX_CONFIG_BYTES, BlobReads
from regview.core.client.http import (
    IDEMPOTENT,
    MAX_ATTEMPTS,
    MAX_REDIRECTS,
    MAX_RETRY_AFTER,
    RegistryHttp,
    connection_error,
)
from regview.core.client.listing import ListingCalls
from regview.core.client.manifests import ManifestHead, ManifestReads, ManifestResponse
from regview.core.client.writes import RegistryWrites
from regview.core.model import ReferrerInfo
from regview.spec.manifest import Descriptor, ImageConfig

if TYPE_CHECKING:  # the "Test" button's module: imported by `check_access` when it is used
    from regview.core.access import Access

__all__ = [
    "IDEMPOTENT",
    "MAX_ATTEMPTS",
    "MAX_CONFIG_BYTES",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER",
    "ManifestHead",
    "ManifestResponse",
    "RegistryClient",
    "RegistryHttp",
    "connection_error",
]


class RegistryClient(RegistryHttp):
    """Every registry operation over one `RegistryHttp` request path (see the module doc)."""

    # The groups are made on first use (RegistryHttp's constructor, and its typed signature,
    # stay the client's).
    @cached_property
    def listing(self) -> ListingCalls:
        return ListingCalls(self)

    @cached_property
    def manifests(self) -> ManifestReads:
        return ManifestReads(self)

    @cached_property
    def blobs(self) -> BlobReads:
        return BlobReads(self)

    @cached_property
    def writes(self) -> RegistryWrites:
        return RegistryWrites(self)

    # -- listing ---------------------------------------------------------------------------
    async def ping(self) -> httpx.Headers:
        return await self.listing.ping()

    def iter_repositories(self, namespace: str = "") -> AsyncIterator[list[str]]:
        return self.listing.iter_repositories(namespace)

    async def list_tags(self, repository: str) -> list[str]:
        return await self.listing.list_tags(repository)

    def listed_openly(self, repository: str) -> bool:
        """This client read `repository`'s tag list and the registry asked for no credentials."""
        return repository in self.listing.open_repositories

    # -- manifests -------------------------------------------------------------------------
    decode_manifest = staticmethod(ManifestReads.decode_manifest)

    async def get_manifest(
        self, repository: str, reference: str, *, etag: str = ""
    ) -> ManifestResponse:
        return await self.manifests.get_manifest(repository, reference, etag=etag)

    async def get_manifest_if_changed(
        self, repository: str, reference: str, etag: str
    ) -> ManifestResponse | None:
        return await self.manifests.get_manifest_if_changed(repository, reference, etag)

    async def head_manifest(self, repository: str, reference: str) -> ManifestHead:
        return await self.manifests.head_manifest(repository, reference)

    async def referrers(self, repository: str, digest: str) -> list[ReferrerInfo]:
        return await self.manifests.referrers(repository, digest)

    async def referrers_from_api(self, repository: str, digest: str) -> list[ReferrerInfo]:
        return await self.manifests.referrers_from_api(repository, digest)

    # -- blobs -----------------------------------------------------------------------------
    async def get_blob_bytes(
        self, repository: str, digest: str, *, max_bytes: int = MAX_CONFIG_BYTES
    ) -> bytes:
        return await self.blobs.get_blob_bytes(repository, digest, max_bytes=max_bytes)

    async def get_config(self, repository: str, descriptor: Descriptor) -> ImageConfig:
        return await self.blobs.get_config(repository, descriptor)

    async def blob_exists(self, repository: str, digest: str) -> bool:
        return await self.blobs.blob_exists(repository, digest)

    # -- writes ----------------------------------------------------------------------------
    async def put_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str:
        return await self.writes.put_manifest(repository, reference, data, media_type)

    async def delete_manifest(self, repository: str, reference: str) -> None:
        await self.writes.delete_manifest(repository, reference)

    async def upload_blob(self, repository: str, data: bytes) -> str:
        return await self.writes.upload_blob(repository, data)

    async def check_access(self, repository: str) -> Access:
        """For the "Test" button: what this credential may do (see `core/access.py`)."""
        from regview.core.access import check_access

        return await check_access(self, repository)
