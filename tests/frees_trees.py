"""Hand-built tags with known manifest trees, for what-a-tag-frees tests (unit and UI)."""

from __future__ import annotations

from datetime import UTC, datetime

from regview.core.model import ArtifactKind, TagInfo


def image(tag: str, digest: str, *blobs: tuple[str, int], repository: str = "app") -> TagInfo:
    return TagInfo(
        repository,
        tag,
        digest,
        "application/vnd.oci.image.manifest.v1+json",
        ArtifactKind.IMAGE,
        size=sum(s for _, s in blobs),
        blobs=blobs,
        created=datetime(2024, 1, 1, tzinfo=UTC),
    )


def index(
    tag: str,
    digest: str,
    children: list[TagInfo],
    *extra: tuple[str, int],
    repository: str = "app",
) -> TagInfo:
    """An index over `children`'s trees, plus `extra` blobs (an attestation child's)."""
    blobs = dict(b for c in children for b in c.blobs) | dict(extra)
    return TagInfo(
        repository,
        tag,
        digest,
        "application/vnd.oci.image.index.v1+json",
        ArtifactKind.INDEX,
        size=sum(dict(b for c in children for b in c.blobs).values()),
        child_digests=tuple(c.digest for c in children),
        blobs=tuple(blobs.items()),
    )
