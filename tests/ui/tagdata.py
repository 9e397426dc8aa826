"""Synthetic TagInfo rows for UI tests and the UI benchmark (deterministic, no network)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from regview.core.model import ArtifactKind, PlatformInfo, TagInfo
from regview.spec.mediatypes import OCI_INDEX, OCI_MANIFEST

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
_PLATFORMS = [
    ("linux", "amd64", ""),
    ("linux", "arm64", "v8"),
    ("linux", "arm", "v7"),
    ("windows", "amd64", ""),
]


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def make_tags(
    n: int, repository: str = "group/app", seed: int = 1, now: datetime = NOW
) -> list[TagInfo]:
    rng = random.Random(seed)
    tags: list[TagInfo] = []
    previous_digest = ""
    for i in range(n):
        multi = i % 5 == 0
        plats = _PLATFORMS[: 1 + (i % 3)] if multi else _PLATFORMS[:1]
        size = rng.randint(2_000_000, 3_000_000_000) if i % 97 else 5_000_000_000 + i
        digest = previous_digest if (i % 50 == 49 and previous_digest) else "sha256:" + _hex(rng)
        previous_digest = digest
        tags.append(
            TagInfo(
                repository=repository,
                tag=f"v{i // 1000}.{(i // 10) % 100}.{i % 10}-build{rng.randint(1, 99999)}",
                digest=digest,
                media_type=OCI_INDEX if multi else OCI_MANIFEST,
                kind=ArtifactKind.INDEX if multi else ArtifactKind.IMAGE,
                size=size,
                created=now - timedelta(days=rng.uniform(0, 900)) if i % 211 else None,
                config_digest="" if multi else "sha256:" + _hex(rng),
                platforms=tuple(
                    PlatformInfo(os, arch, var, "sha256:" + _hex(rng), size // len(plats))
                    for os, arch, var in plats
                ),
            )
        )
    return tags
