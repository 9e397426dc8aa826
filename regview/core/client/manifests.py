"""The client's manifest reads: GET (verified against its digest, cached, conditional), HEAD,
and the referrers of a manifest.

    await c.get_manifest(repo, ref) -> ManifestResponse     digest verified over the bytes
    await c.get_manifest_if_changed(repo, ref, etag) -> ManifestResponse | None   (None: 304)
    await c.head_manifest(repo, ref) -> ManifestHead
    await c.referrers(repo, digest) -> list[ReferrerInfo]  OCI API, else sha256-<hex> tag
    RegistryClient.decode_manifest(digest, data, content_type) -> ManifestResponse
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from regview.core import errors as E
from regview.core.client.http import RegistryHttp
from regview.core.model import ReferrerInfo
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest
from regview.spec.errors import InvalidDigest, SpecError
from regview.spec.manifest import ImageIndex, Manifest, parse_manifest

_MANIFEST_ACCEPT = {"Accept": mt.ACCEPT_MANIFESTS}


def _digest(text: str) -> Digest | None:
    """`text` as a digest (sha256 or sha512, by the spec's parser), None for a tag."""
    if ":" not in text:
        return None  # a tag (the digest grammar needs a colon): no parse, no exception raised
    try:
        return Digest.parse(text)
    except InvalidDigest:
        return None


@dataclass(frozen=True, slots=True)
class ManifestResponse:
    digest: str
    media_type: str
    data: bytes
    manifest: Manifest | None  # None when unparseable; `problem` says why (e.g. schema1)
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ManifestHead:
    digest: str
    media_type: str
    size: int


class ManifestReads:
    """Manifest GET/HEAD (verified, cached by digest) and referrers, over one request path."""

    def __init__(self, http: RegistryHttp) -> None:
        self._http = http

    def _verify(
        self, repository: str, reference: str, response: httpx.Response, data: bytes
    ) -> str:
        # What we asked for must match; else what the registry announced, in its algorithm.
        expected = (
            reference if _digest(reference) else response.headers.get("Docker-Content-Digest", "")
        )
        parsed = _digest(expected)
        computed = str(Digest.of(data, parsed.algorithm if parsed else "sha256"))
        if expected and expected != computed:
            raise E.ProtocolError(
                f"{self._http.registry}: the manifest {repository}@{reference} does not match its "
                f"digest (announced {expected}, content hashes to {computed}); refusing it",
                registry=self._http.registry,
            )
        return computed

    def _manifest_response(
        self, repository: str, reference: str, response: httpx.Response, data: bytes
    ) -> ManifestResponse:
        if E.looks_like_html(data, response.headers.get("Content-Type", "")):
            # a login page or web UI in front of the registry: never a manifest
            raise E.ProtocolError(
                f"{self._http.registry}: the manifest {repository}:{reference}: {E.HTML_HINT}",
                registry=self._http.registry,
            )
        digest = self._verify(repository, reference, response, data)
        return self.decode_manifest(digest, data, response.headers.get("Content-Type", ""))

    @staticmethod
    def decode_manifest(digest: str, data: bytes, content_type: str = "") -> ManifestResponse:
        try:
            manifest = parse_manifest(data, content_type)
        except SpecError as exc:
            return ManifestResponse(digest, content_type.split(";")[0], data, None, str(exc))
        return ManifestResponse(digest, manifest.media_type, data, manifest)

    async def _get_manifest_raw(
        self, repository: str, reference: str, etag: str
    ) -> tuple[httpx.Response, bytes]:
        """GET with the full Accept list, conditional on `etag` when given (200 or 304)."""
        headers = dict(_MANIFEST_ACCEPT)
        if etag:
            headers["If-None-Match"] = f'"{etag}"'
        return await self._http.send(
            "GET",
            f"v2/{repository}/manifests/{reference}",
            what=f"the manifest {repository}:{reference}",
            ok=(200, 304),
            headers=headers,
        )

    async def get_manifest(
        self, repository: str, reference: str, *, etag: str = ""
    ) -> ManifestResponse:
        """GET with the full Accept list. With `etag` (a digest seen before) whose bytes are in
        the cache, the GET is conditional and a 304 answer returns those bytes without a body
        transfer; with nothing to revalidate against it is a plain GET."""
        if self._http.content is not None and _digest(reference):
            cached = self._http.content.get(reference)
            if cached is not None:
                return self.decode_manifest(reference, cached)
        known = self._http.content.get(etag) if etag and self._http.content is not None else None
        response, data = await self._get_manifest_raw(
            repository, reference, etag if known is not None else ""
        )
        if response.status_code == 304:
            if known is None:
                raise E.ProtocolError(
                    f"{self._http.registry}: the manifest {repository}:{reference}: the registry "
                    "answered 304 Not Modified to a request that was not conditional; "
                    "it is misbehaving (a caching proxy in front of it?)",
                    registry=self._http.registry,
                )
            return self.decode_manifest(etag, known)
        result = self._manifest_response(repository, reference, response, data)
        if self._http.content is not None:
            self._http.content.put(result.digest, data)
        return result

    async def get_manifest_if_changed(
        self, repository: str, reference: str, etag: str
    ) -> ManifestResponse | None:
        """None when the registry says the manifest is still `etag` (304): one request."""
        response, data = await self._get_manifest_raw(repository, reference, etag)
        if response.status_code == 304:
            return None
        result = self._manifest_response(repository, reference, response, data)
        if result.digest == etag:
            return None
        if self._http.content is not None:
            self._http.content.put(result.digest, data)
        return result

    async def head_manifest(self, repository: str, reference: str) -> ManifestHead:
        response, _ = await self._http.send(
            "HEAD",
            f"v2/{repository}/manifests/{reference}",
            what=f"the manifest {repository}:{reference}",
            headers=_MANIFEST_ACCEPT,
        )
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest and _digest(reference):
            digest = reference
        length = response.headers.get("Content-Length", "")
        return ManifestHead(
            digest,
            response.headers.get("Content-Type", "").split(";")[0],
            int(length) if length.isdigit() else -1,
        )

    async def referrers(self, repository: str, digest: str) -> list[ReferrerInfo]:
        try:
            return await self.referrers_from_api(repository, digest)
        except (E.NotFound, E.Unsupported):
            fallback = digest.replace(":", "-", 1)
            try:
                manifest = (await self.get_manifest(repository, fallback)).manifest
            except E.NotFound:
                return []
        return referrer_infos(manifest)

    async def referrers_from_api(self, repository: str, digest: str) -> list[ReferrerInfo]:
        """The OCI referrers API only; NotFound or Unsupported: the registry has no such API
        (a registry that has it never answers 404)."""
        _, body = await self._http.send(
            "GET",
            f"v2/{repository}/referrers/{digest}",
            what=f"the referrers of {repository}@{digest[:19]}",
            headers={"Accept": mt.OCI_INDEX},
        )
        return referrer_infos(self.decode_manifest("", body, mt.OCI_INDEX).manifest)


def referrer_infos(manifest: Manifest | None) -> list[ReferrerInfo]:
    """The referrers an index (API answer or `sha256-<hex>` fallback tag) lists."""
    if not isinstance(manifest, ImageIndex):
        return []
    return [
        ReferrerInfo(
            digest=str(d.digest),
            artifact_type=d.artifact_type,
            media_type=d.media_type,
            size=d.size,
            annotations=dict(d.annotations),
        )
        for d in manifest.manifests
    ]
