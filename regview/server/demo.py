"""A believable demo registry, seeded straight through the storage layer (no HTTP, ~1 s).

GitLab-style paths `<group>/<project>[/<image>]`, a year of CI builds per repository: commit-SHA
tags, release tags (`v1.4.2`) sharing a digest with their commit tag, branch tags (`main`,
`feature-…`, `mr-123`), `latest`, multi-arch indexes with a BuildKit attestation child, a cosign
signature and an SPDX SBOM attached to releases as referrers, and plenty of stale tags worth
pruning. Deterministic (seeded RNG) except that dates are relative to now, so ages stay
meaningful. Seeds only an empty registry.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from regview.server.registry.registry import Registry
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest

DAY = 86400.0
COSIGN_SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"
SPDX = "application/spdx+json"
IN_TOTO = "application/vnd.in-toto+json"


@dataclass(frozen=True)
class DemoRepo:
    path: str
    builds: int
    multi_arch: bool = False
    docker_format: bool = False
    signed: bool = False


REPOSITORIES: tuple[DemoRepo, ...] = (
    DemoRepo("acme/webshop", 45, docker_format=True),
    DemoRepo("acme/webshop/frontend", 70, signed=True),
    DemoRepo("acme/webshop/backend", 70, signed=True),
    DemoRepo("acme/infra/ci-runner", 30, multi_arch=True),
    DemoRepo("acme/infra/terraform", 25, docker_format=True),
    DemoRepo("oss/tools/alpine-tools", 30, multi_arch=True, signed=True),
    DemoRepo("oss/docs", 20),
)
PLATFORMS = (("linux", "amd64", ""), ("linux", "arm64", ""), ("linux", "arm", "v7"))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Seeder:
    def __init__(self, registry: Registry, rng: random.Random, now: float) -> None:
        self.registry, self.rng, self.now = registry, rng, now

    def blob(self, repo: str, data: bytes, when: float) -> tuple[Digest, int]:
        digest = self.registry.store.put_bytes(data)
        self.registry.link_blob(repo, digest, len(data), now=when)
        return digest, len(data)

    def random_blob(self, repo: str, low: int, high: int, when: float) -> tuple[Digest, int]:
        return self.blob(repo, self.rng.randbytes(self.rng.randint(low, high)), when)

    def push(
        self, repo: str, ref: str, obj: dict[str, object], media_type: str, when: float
    ) -> str:
        content = json.dumps(obj, indent=3).encode()
        return self.registry.put_manifest(repo, ref, content, media_type, now=when).digest

    def image(
        self,
        repo: str,
        docker: bool,
        base: tuple[Digest, int],
        when: float,
        platform: tuple[str, str, str],
        revision: str,
    ) -> tuple[str, int, str]:
        """Push one image by digest; returns (digest, manifest size, media type)."""
        os_, arch, variant = platform
        app_layer = self.random_blob(repo, 1_000, 24_000, when)
        config: dict[str, object] = {
            "created": _iso(when),
            "architecture": arch,
            "os": os_,
            "config": {
                "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                "Cmd": ["/app/run"],
                "Labels": {"org.opencontainers.image.revision": revision},
            },
            "rootfs": {"type": "layers", "diff_ids": [str(base[0]), str(app_layer[0])]},
            "history": [{"created": _iso(when), "created_by": "COPY . /app # buildkit"}],
        }
        if variant:
            config["variant"] = variant
        cfg = self.blob(repo, json.dumps(config).encode(), when)
        media = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
        layer_type = mt.DOCKER_LAYER if docker else mt.OCI_LAYER_GZIP
        manifest: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": media,
            "config": {
                "mediaType": mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG,
                "digest": str(cfg[0]),
                "size": cfg[1],
            },
            "layers": [
                {"mediaType": layer_type, "digest": str(d), "size": s} for d, s in (base, app_layer)
            ],
        }
        if not docker:
            manifest["annotations"] = {
                mt.ANNOTATION_CREATED: _iso(when),
                "org.opencontainers.image.revision": revision,
            }
        content = json.dumps(manifest, indent=3).encode()
        record = self.registry.put_manifest(repo, str(Digest.of(content)), content, media, now=when)
        return record.digest, len(content), media

    def attestation(self, repo: str, subject: str, when: float) -> tuple[str, int]:
        statement = {"_type": "https://in-toto.io/Statement/v0.1", "subject": [{"digest": subject}]}
        layer = self.blob(repo, json.dumps(statement).encode(), when)
        cfg = self.blob(
            repo, json.dumps({"architecture": "unknown", "os": "unknown"}).encode(), when
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": str(cfg[0]), "size": cfg[1]},
            "layers": [
                {
                    "mediaType": IN_TOTO,
                    "digest": str(layer[0]),
                    "size": layer[1],
                    "annotations": {
                        "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"
                    },
                }
            ],
        }
        content = json.dumps(manifest).encode()
        digest = self.registry.put_manifest(
            repo, str(Digest.of(content)), content, mt.OCI_MANIFEST, now=when
        ).digest
        return digest, len(content)

    def referrer(
        self,
        repo: str,
        subject: tuple[str, int, str],
        artifact_type: str,
        payload: bytes,
        when: float,
    ) -> None:
        empty = self.blob(repo, b"{}", when)
        layer = self.blob(repo, payload, when)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": mt.OCI_EMPTY, "digest": str(empty[0]), "size": empty[1]},
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json"
                    if artifact_type == COSIGN_SIG
                    else artifact_type,
                    "digest": str(layer[0]),
                    "size": layer[1],
                }
            ],
            "subject": {"mediaType": subject[2], "digest": subject[0], "size": subject[1]},
            "annotations": {mt.ANNOTATION_CREATED: _iso(when)},
        }
        content = json.dumps(manifest).encode()
        self.registry.put_manifest(
            repo, str(Digest.of(content)), content, mt.OCI_MANIFEST, now=when
        )

    def repository(self, spec: DemoRepo) -> None:
        rng = self.rng
        repo = spec.path
        start = self.now - 365 * DAY
        step = 360 * DAY / spec.builds
        base = self.random_blob(repo, 4_000, 16_000, start)
        major, minor, patch = 1, 0, 0
        latest_release: tuple[str, int, str] | None = None
        for i in range(spec.builds):
            when = start + i * step + rng.uniform(0, step * 0.8)
            sha = f"{rng.getrandbits(32):08x}"
            if i and i % 20 == 0:  # a new base image now and then
                base = self.random_blob(repo, 4_000, 16_000, when)
            if spec.multi_arch:
                children: list[dict[str, object]] = []
                amd64 = ""
                for platform in PLATFORMS:
                    digest, size, media = self.image(repo, False, base, when, platform, sha)
                    amd64 = amd64 or digest
                    p = {"os": platform[0], "architecture": platform[1]}
                    if platform[2]:
                        p["variant"] = platform[2]
                    children.append(
                        {"mediaType": media, "digest": digest, "size": size, "platform": p}
                    )
                att, att_size = self.attestation(repo, amd64, when)
                children.append(
                    {
                        "mediaType": mt.OCI_MANIFEST,
                        "digest": att,
                        "size": att_size,
                        "platform": {"os": "unknown", "architecture": "unknown"},
                        "annotations": {
                            mt.ANNOTATION_DOCKER_REFERENCE_TYPE: mt.ATTESTATION_MANIFEST,
                            mt.ANNOTATION_DOCKER_REFERENCE_DIGEST: amd64,
                        },
                    }
                )
                index = {
                    "schemaVersion": 2,
                    "mediaType": mt.OCI_INDEX,
                    "manifests": children,
                    "annotations": {mt.ANNOTATION_CREATED: _iso(when)},
                }
                content = json.dumps(index, indent=3).encode()
                top = (
                    self.registry.put_manifest(repo, sha, content, mt.OCI_INDEX, now=when).digest,
                    len(content),
                    mt.OCI_INDEX,
                )
            else:
                digest, size, media = self.image(
                    repo, spec.docker_format, base, when, PLATFORMS[0], sha
                )
                top = (digest, size, media)
            record = self.registry.get_manifest(repo, top[0])
            assert record is not None
            content = record.content
            tags: list[str] = [sha]
            if i % 5 == 4:  # a release
                patch += 1
                if rng.random() < 0.3:
                    minor, patch = minor + 1, 0
                if rng.random() < 0.08:
                    major, minor, patch = major + 1, 0, 0
                tags.append(f"v{major}.{minor}.{patch}")
                latest_release = top
            if rng.random() < 0.25:
                tags.append(f"mr-{rng.randint(10, 999)}")
            if rng.random() < 0.15:
                tags.append(
                    f"feature-{rng.choice(['login', 'cart', 'search', 'i18n', 'dark-mode'])}-{sha[:4]}"
                )
            if i == spec.builds - 1:
                tags += ["main", "latest"]
            elif i == spec.builds - 3:
                tags.append("develop")
            for n, tag in enumerate(tags):
                self.registry.put_manifest(repo, tag, content, top[2], now=when + 60 * n)
        if spec.signed and latest_release is not None:
            when = self.now - 2 * DAY
            signature = {
                "critical": {
                    "identity": {"docker-reference": repo},
                    "image": {"docker-manifest-digest": latest_release[0]},
                    "type": "cosign container image signature",
                },
                "optional": None,
            }
            self.referrer(repo, latest_release, COSIGN_SIG, json.dumps(signature).encode(), when)
            sbom = {
                "spdxVersion": "SPDX-2.3",
                "SPDXID": "SPDXRef-DOCUMENT",
                "name": repo,
                "packages": [
                    {"name": name, "versionInfo": f"{rng.randint(1, 9)}.{rng.randint(0, 30)}"}
                    for name in ("musl", "busybox", "openssl", "zlib", "ca-certificates")
                ],
            }
            self.referrer(repo, latest_release, SPDX, json.dumps(sbom).encode(), when + 30)


def seed(registry: Registry, *, seed: int = 2024, now: float | None = None) -> bool:
    """Fill an empty registry with demo content; returns False (and does nothing) otherwise."""
    if registry.list_repositories():
        return False
    seeder = _Seeder(registry, random.Random(seed), time.time() if now is None else now)
    for spec in REPOSITORIES:
        seeder.repository(spec)
    return True
