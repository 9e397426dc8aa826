"""The registry client: one `RegistryClient` per registry, over httpx with a fast transport.

    async with RegistryClient(endpoint, credentials, cache_dir=..., concurrency=None) as c:
        (concurrency=N: N requests in flight, fixed; None: adapts to the link, core/limiter.py)
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
"""

from __future__ import annotations

from regview.core.access import Access
from regview.core.client_blobs import MAX_CONFIG_BYTES, BlobReads
from regview.core.client_http import (
    IDEMPOTENT,
    MAX_ATTEMPTS,
    MAX_REDIRECTS,
    MAX_RETRY_AFTER,
    RegistryHttp,
    connection_error,
)
from regview.core.client_listing import ListingCalls
from regview.core.client_manifests import ManifestHead, ManifestReads, ManifestResponse
from regview.core.client_writes import RegistryWrites

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


class RegistryClient(ListingCalls, ManifestReads, BlobReads, RegistryWrites):
    """Every registry operation over one `RegistryHttp` request path (see the module doc)."""

    async def check_access(self, repository: str) -> Access:
        """For the "Test" button: what this credential may do (see `core/access.py`)."""
        from regview.core.access import check_access

        return await check_access(self, repository)
