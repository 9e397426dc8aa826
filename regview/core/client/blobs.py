"""The client's blob reads: a small blob bounded and verified (configs, signatures), the image
config parsed, and whether a blob exists.

    await c.get_blob_bytes(repo, digest, max_bytes=...) -> bytes   bounded, verified
    await c.get_config(repo, descriptor) -> ImageConfig     cached by digest
    await c.blob_exists(repo, digest) -> bool
"""

from __future__ import annotations

from regview.core import errors as E
from regview.core.client.http import RegistryHttp
from regview.spec.digest import Digest
from regview.spec.errors import SpecError
from regview.spec.manifest import Descriptor, ImageConfig, parse_config

MAX_CONFIG_BYTES = 8 * 1024 * 1024


class BlobReads:
    """Bounded, verified blob reads and image configs, over one request path."""

    def __init__(self, http: RegistryHttp) -> None:
        self._http = http

    async def get_blob_bytes(
        self, repository: str, digest: str, *, max_bytes: int = MAX_CONFIG_BYTES
    ) -> bytes:
        """A small blob (config, signature…), bounded and verified; follows storage redirects
        without carrying Authorization to another host."""
        if (
            self._http.content is not None
            and (cached := self._http.content.get(digest)) is not None
        ):
            return cached
        _, data = await self._http.send(
            "GET",
            f"v2/{repository}/blobs/{digest}",
            what=f"the blob {digest[:19]} of {repository}",
            cap=max_bytes,
            follow_redirects=True,
        )
        try:
            expected = Digest.parse(digest)
        except SpecError as exc:
            raise E.ProtocolError(
                f"{self._http.registry}: {exc}", registry=self._http.registry
            ) from exc
        if Digest.of(data, expected.algorithm) != expected:
            raise E.ProtocolError(
                f"{self._http.registry}: the blob {digest} of {repository} does not match its digest",
                registry=self._http.registry,
            )
        if self._http.content is not None:
            self._http.content.put(digest, data)
        return data

    async def get_config(self, repository: str, descriptor: Descriptor) -> ImageConfig:
        data = await self.get_blob_bytes(repository, str(descriptor.digest))
        try:
            return parse_config(data)
        except SpecError as exc:
            raise E.ProtocolError(
                f"{self._http.registry}: the image config {descriptor.digest.short} of {repository} "
                f"cannot be read: {exc}",
                registry=self._http.registry,
            ) from exc

    async def blob_exists(self, repository: str, digest: str) -> bool:
        try:
            await self._http.send(
                "HEAD",
                f"v2/{repository}/blobs/{digest}",
                what=f"the blob {digest[:19]} of {repository}",
                follow_redirects=True,
            )
        except E.NotFound:
            return False
        return True
