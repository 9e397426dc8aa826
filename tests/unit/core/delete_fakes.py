"""An in-memory registry that speaks `DeletePort`, and builders of repository states.

Deletion semantics follow the CNCF registry: deleting a digest removes the manifest and every
tag on it; deleting a tag (when `tag_delete`) removes only the tag; pushing an image manifest
needs its blobs. Every mutating call is logged so tests can prove nothing outside a plan moved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from regview.core.deletion.executor import FetchedManifest, PortError
from regview.core.deletion.plan import Capabilities, DeleteSupport, ManifestFacts, RepositoryFacts
from regview.core.model import ArtifactKind, ReferrerInfo, TagInfo
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest
from regview.spec.manifest import ImageIndex, parse_manifest

Fault = Callable[[str, str], Exception | None]  # (operation, reference) → error to raise


def _digest(data: bytes) -> str:
    return str(Digest.of(data))


@dataclass
class FakeRegistry:
    repository: str = "team/app"
    tag_delete: bool = True
    delete_enabled: bool = True
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    blobs: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    fault: Fault | None = None
    calls: int = 0
    learnt: list[dict[str, object]] = field(default_factory=list)

    # -- building ----------------------------------------------------------------------
    def blob(self, name: str, size: int = 100) -> str:
        d = _digest(name.encode())
        self.blobs[d] = size
        return d

    def put(self, body: dict[str, object], media_type: str) -> str:
        data = json.dumps(body, sort_keys=True).encode()
        d = _digest(data)
        self.manifests[d] = (media_type, data)
        return d

    def image(self, *layers: str, subject: str = "", artifact_type: str = "") -> str:
        config = self.blob("config:" + ",".join(layers) + subject + artifact_type, 10)
        body: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": config, "size": 10},
            "layers": [
                {"mediaType": mt.OCI_LAYER_GZIP, "digest": self.blob(x), "size": 100}
                for x in layers
            ],
        }
        if subject:
            media, data = self.manifests[subject]
            body["subject"] = {"mediaType": media, "digest": subject, "size": len(data)}
        if artifact_type:
            body["artifactType"] = artifact_type
        return self.put(body, mt.OCI_MANIFEST)

    def index(self, *children: str, salt: str = "") -> str:
        body: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": self.manifests[c][0],
                    "digest": c,
                    "size": len(self.manifests[c][1]),
                    "platform": {"os": "linux", "architecture": f"arch{i}"},
                }
                for i, c in enumerate(children)
            ],
            "annotations": {"salt": salt},
        }
        return self.put(body, mt.OCI_INDEX)

    def tag(self, name: str, digest: str) -> None:
        self.tags[name] = digest

    # -- facts -------------------------------------------------------------------------
    def children(self, d: str) -> tuple[str, ...]:
        media, data = self.manifests[d]
        m = parse_manifest(data, media)
        return tuple(str(c.digest) for c in m.manifests) if isinstance(m, ImageIndex) else ()

    def own_blobs(self, d: str) -> tuple[tuple[str, int], ...]:
        media, data = self.manifests[d]
        m = parse_manifest(data, media)
        if isinstance(m, ImageIndex):
            return ()
        return tuple((str(b.digest), b.size) for b in m.blobs)

    def all_blobs(self, d: str) -> tuple[tuple[str, int], ...]:
        out = dict(self.own_blobs(d))
        for c in self.children(d):
            out.update(self.all_blobs(c))
        return tuple(sorted(out.items()))

    def subject(self, d: str) -> str:
        media, data = self.manifests[d]
        m = parse_manifest(data, media)
        return str(m.subject.digest) if m.subject is not None else ""

    def facts(self, caps: Capabilities | None = None) -> RepositoryFacts:
        tags = tuple(
            TagInfo(
                repository=self.repository,
                tag=t,
                digest=d,
                media_type=self.manifests[d][0],
                kind=ArtifactKind.INDEX if self.children(d) else ArtifactKind.IMAGE,
                child_digests=self.children(d),
                blobs=self.all_blobs(d),
                subject=self.subject(d),
            )
            for t, d in sorted(self.tags.items())
        )
        referrers: dict[str, tuple[ReferrerInfo, ...]] = {}
        manifests: dict[str, ManifestFacts] = {}
        for d, (media, data) in self.manifests.items():
            s = self.subject(d)
            manifests[d] = ManifestFacts(
                d, media, self.children(d), self.all_blobs(d), s, "", len(data)
            )
            if s:
                referrers[s] = (*referrers.get(s, ()), ReferrerInfo(d, "x", media, len(data)))
        if caps is None:
            caps = Capabilities(
                manifest_delete=DeleteSupport.ALLOWED
                if self.delete_enabled
                else DeleteSupport.DISABLED,
                tag_delete=self.tag_delete,
            )
        return RepositoryFacts("fake.local", self.repository, tags, caps, referrers, manifests)

    # -- DeletePort --------------------------------------------------------------------
    def _maybe_fail(self, op: str, ref: str) -> None:
        self.calls += 1
        if self.fault is not None:
            exc = self.fault(op, ref)
            if exc is not None:
                raise exc

    async def resolve_tag(self, repository: str, tag: str) -> str | None:
        self._maybe_fail("resolve", tag)
        return self.tags.get(tag)

    async def manifest_exists(self, repository: str, digest: str) -> bool:
        self._maybe_fail("exists", digest)
        return digest in self.manifests

    async def fetch_manifest(self, repository: str, reference: str) -> FetchedManifest:
        self._maybe_fail("fetch", reference)
        d = self.tags.get(reference, reference)
        if d not in self.manifests:
            raise PortError(f"manifest {reference} unknown", status=404)
        media, data = self.manifests[d]
        return FetchedManifest(d, media, data)

    async def push_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str:
        self._maybe_fail("push", reference)
        d = _digest(data)
        m = parse_manifest(data, media_type)
        if not isinstance(m, ImageIndex):
            for b in m.blobs:
                if str(b.digest) not in self.blobs:
                    raise PortError(f"blob {b.digest} unknown", status=400)
        else:
            for c in m.manifests:
                if str(c.digest) not in self.manifests:
                    raise PortError(f"manifest {c.digest} unknown", status=400)
        self.manifests[d] = (media_type, data)
        if not reference.startswith("sha256:"):
            self.tags[reference] = d
        self.log.append(("push", reference))
        return d

    async def delete_manifest(self, repository: str, reference: str) -> None:
        self._maybe_fail("delete", reference)
        if not self.delete_enabled:
            raise PortError("deletion disabled", status=405)
        if reference.startswith("sha256:"):
            if reference not in self.manifests:
                raise PortError("manifest unknown", status=404)
            del self.manifests[reference]
            for t in [t for t, d in self.tags.items() if d == reference]:
                del self.tags[t]
        else:
            if not self.tag_delete:
                raise PortError("tag delete unsupported", status=400)
            if reference not in self.tags:
                raise PortError("tag unknown", status=404)
            del self.tags[reference]
        self.log.append(("delete", reference))

    async def blob_exists(self, repository: str, digest: str) -> bool:
        self._maybe_fail("blob", digest)
        return digest in self.blobs

    async def gitlab_delete_tag(self, project_id: int, repository_id: int, tag: str) -> None:
        self._maybe_fail("gitlab", tag)
        if tag not in self.tags:
            raise PortError("tag unknown", status=404)
        del self.tags[tag]
        self.log.append(("gitlab-delete", tag))

    def learn(self, **facts: object) -> None:
        """What the executor learnt from an answer (`ClientPort.learn` remembers it)."""
        self.learnt.append(facts)
