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


def with_blobs(tags: list[TagInfo], seed: int = 1) -> list[TagInfo]:
    """Give synthetic rows (tests/ui/tagdata.py) manifest trees like a CI repository's: each
    image a unique config, three layers of one of 25 base images, a dependency layer shared by
    ten consecutive builds and an application layer of its own; an index one such image per
    platform. Tags on the same digest get the same tree."""
    import random
    from dataclasses import replace

    bases = [
        tuple((f"sha256:base-{b}-{i}", 20_000_000 + 1_000 * b + i) for i in range(3))
        for b in range(25)
    ]
    trees: dict[str, tuple[tuple[str, int], ...]] = {}
    out = []
    for n, t in enumerate(tags):
        tree = trees.get(t.digest)
        if tree is None:
            rng = random.Random(f"{seed}:{t.digest}")
            blobs: dict[str, int] = {}
            for p in range(max(1, len(t.platforms))):
                build = f"{t.digest[7:19]}-{p}"
                blobs.update(bases[rng.randrange(25)])
                deps = f"sha256:deps-{n // 10}-{p}"  # one digest, one size, in every tree
                blobs[deps] = random.Random(deps).randint(1_000_000, 90_000_000)
                blobs[f"sha256:app-{build}"] = rng.randint(10_000, 9_000_000)
                blobs[f"sha256:cfg-{build}"] = rng.randint(1_000, 9_000)
            tree = trees[t.digest] = tuple(blobs.items())
        out.append(replace(t, blobs=tree))
    return out
