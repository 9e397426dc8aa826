"""The reference graph of one repository's manifests (tags, index children, referrers,
blobs) and the walks the planner makes over it."""

from __future__ import annotations

from collections.abc import Iterable

from regview.core.deletion.plan_types import PlanOptions, RepositoryFacts
from regview.core.frees import freed_by
from regview.core.model import ReferrerInfo, TagInfo


class ManifestGraph:
    """Who references whom, over every manifest the facts mention."""

    def __init__(self, facts: RepositoryFacts) -> None:
        self.tag_digest: dict[str, str] = {}
        self.tag_info: dict[str, TagInfo] = {}
        self.media_type: dict[str, str] = {}
        self.children: dict[str, tuple[str, ...]] = {}
        self.blobs: dict[str, tuple[tuple[str, int], ...]] = {}
        self.referrers: dict[str, list[ReferrerInfo]] = {}
        for t in facts.tags:
            self.tag_info[t.tag] = t
            if not t.digest:
                continue
            self.tag_digest[t.tag] = t.digest
            self.media_type.setdefault(t.digest, t.media_type)
            if t.child_digests:
                self.children[t.digest] = t.child_digests
            if t.blobs:
                self.blobs[t.digest] = t.blobs
        for m in facts.manifests.values():
            if m.media_type:
                self.media_type.setdefault(m.digest, m.media_type)
            if m.children:
                self.children.setdefault(m.digest, m.children)
            if m.blobs:
                self.blobs.setdefault(m.digest, m.blobs)
        for subject, refs in facts.referrers.items():
            for r in refs:
                self.referrers.setdefault(subject, []).append(r)
                self.media_type.setdefault(r.digest, r.media_type)
        for m in facts.manifests.values():
            if m.subject and all(r.digest != m.digest for r in self.referrers.get(m.subject, [])):
                self.referrers.setdefault(m.subject, []).append(
                    ReferrerInfo(m.digest, m.artifact_type, m.media_type, m.size)
                )
        self.parents: dict[str, set[str]] = {}
        for parent, kids in self.children.items():
            for kid in kids:
                self.parents.setdefault(kid, set()).add(parent)

    def all_manifests(self) -> set[str]:
        out = set(self.tag_digest.values()) | set(self.children) | set(self.parents)
        for subject, refs in self.referrers.items():
            out.add(subject)
            out.update(r.digest for r in refs)
        return out


def reachable(graph: ManifestGraph, roots: Iterable[str], follow_referrers: bool) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        d = stack.pop()
        if d in seen:
            continue
        seen.add(d)
        stack.extend(graph.children.get(d, ()))
        if follow_referrers:
            stack.extend(r.digest for r in graph.referrers.get(d, ()))
    return seen


def closure_within(
    graph: ManifestGraph,
    roots: set[str],
    deletable: set[str],
    options: PlanOptions,
    digest_deleted: set[str],
) -> set[str]:
    """Children (and referrers, if asked) of deleted manifests that are themselves deletable."""
    out = set(roots)
    if not options.delete_manifests:
        return out
    stack = list(roots)
    while stack:
        d = stack.pop()
        nxt = list(graph.children.get(d, ()))
        if options.delete_referrers:
            nxt.extend(r.digest for r in graph.referrers.get(d, ()))
        for n in nxt:
            if n in deletable and n not in out:
                out.add(n)
                stack.append(n)
    return out


def reclaimable(graph: ManifestGraph, gone: set[str], protected: set[str]) -> dict[str, int]:
    """Blobs of what goes (with its children) that no protected manifest holds: the frees
    ledger's rule (`regview.core.frees`), the same one the tags table and policy preview use."""
    going = reachable(graph, gone, follow_referrers=False) - protected
    trees = {d: graph.blobs.get(d, ()) for d in going | protected}
    return freed_by(trees, going)


def short_digest(digest: str) -> str:
    return digest.split(":", 1)[-1][:12] if digest else "?"
