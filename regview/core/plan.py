"""The delete planner: facts about one repository + a selection → a typed `DeletePlan`.

Pure: no I/O, no clock. Every action carries a reason a person can read, and the plan lists the
blast radius (sibling tags, index children, referrers, reclaimable bytes) before anything runs.

Methods, safest first (what removes *only* the named tag):

1. `TAG_DELETE`  — `DELETE /v2/<name>/manifests/<tag>` (OCI 1.1, distribution ≥ 3, GitLab ≥ 16.4)
2. `GITLAB_API`  — `DELETE /projects/:id/registry/repositories/:rid/tags/:tag`
3. `THROWAWAY`   — push a unique empty index to the tag, delete that index by digest (regclient's
                   way; leaves sibling tags alone)
4. `DIGEST`      — delete the manifest by digest: only where nothing kept shares that digest

Untagging leaves the manifest itself in place; with `PlanOptions.delete_manifests` the planner
also deletes manifests that end up untagged and unreferenced (never one that a kept tag, a kept
index or any surviving manifest references), their orphaned index children, and with
`delete_referrers` the referrers (signatures, SBOMs) of what it deletes.
"""

from __future__ import annotations

import enum
import graphlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regview.core.model import ReferrerInfo, TagInfo
from regview.spec import mediatypes as mt

GC_NOTE = (
    "Space returns only after the registry's garbage collection runs (GitLab: online GC after "
    "about 24 hours; the CNCF registry: `registry garbage-collect` with the registry stopped). "
    "Layers shared with other repositories are not freed."
)


class Method(enum.StrEnum):
    TAG_DELETE = "tag-delete"
    GITLAB_API = "gitlab-api"
    THROWAWAY = "throwaway"
    DIGEST = "digest"

    @property
    def description(self) -> str:
        return _METHOD_TEXT[self]


_METHOD_TEXT = {
    Method.TAG_DELETE: "tag delete (removes only this tag)",
    Method.GITLAB_API: "GitLab tag API (removes only this tag)",
    Method.THROWAWAY: "throw-away manifest pushed to the tag, then deleted (removes only this tag)",
    Method.DIGEST: "delete by digest (nothing else uses this manifest)",
}


class DeleteSupport(enum.StrEnum):
    """What a probe learnt about `DELETE` on manifests."""

    ALLOWED = "allowed"
    DISABLED = "disabled"  # 405 UNSUPPORTED / deletion off in the registry's config
    DENIED = "denied"  # 401/403: these credentials may not delete
    UNKNOWN = "unknown"  # not probed


@dataclass(frozen=True, slots=True)
class Capabilities:
    manifest_delete: DeleteSupport = DeleteSupport.UNKNOWN
    tag_delete: bool = False  # OCI tag delete supported
    gitlab_tag_api: bool = False  # GitLab REST tag API usable with these credentials
    can_push: bool = True  # needed by THROWAWAY
    detail: str = ""  # what the probe saw, for refusal messages


@dataclass(frozen=True, slots=True)
class ManifestFacts:
    """A manifest known to the planner that is not (necessarily) tagged: index children, referrers."""

    digest: str
    media_type: str = ""
    children: tuple[str, ...] = ()
    blobs: tuple[tuple[str, int], ...] = ()
    subject: str = ""
    artifact_type: str = ""
    size: int = 0


@dataclass(frozen=True, slots=True)
class RepositoryFacts:
    """Everything the planner knows about one repository — all its tags, not just a page."""

    registry: str
    repository: str
    tags: tuple[TagInfo, ...]
    capabilities: Capabilities = Capabilities()
    referrers: Mapping[str, tuple[ReferrerInfo, ...]] = field(default_factory=dict)
    manifests: Mapping[str, ManifestFacts] = field(default_factory=dict)
    gitlab_project_id: int | None = None
    gitlab_repository_id: int | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """What the user chose: tag names (with an optional reason each), or every tag, plus any
    untagged manifests a policy picked."""

    tags: frozenset[str] = frozenset()
    whole_repository: bool = False
    untagged: frozenset[str] = frozenset()
    reasons: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_tags(cls, tags: Iterable[str], reason: str = "") -> Selection:
        names = frozenset(tags)
        return cls(tags=names, reasons={t: reason for t in names} if reason else {})

    @classmethod
    def repository(cls) -> Selection:
        return cls(whole_repository=True)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    delete_manifests: bool = False  # also delete manifests left untagged and unreferenced
    delete_referrers: bool = False  # also delete referrers of deleted manifests (default: warn)


@dataclass(frozen=True, slots=True)
class TagAction:
    tag: str
    digest: str
    media_type: str
    method: Method
    reason: str
    manifest_untagged: bool  # no tag points at `digest` after the plan
    manifest_deletable: bool  # ... and nothing kept references it
    shared_with: tuple[str, ...] = ()  # kept tags with the same digest (they stay)
    note: str = ""  # why the manifest stays, when it does

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "digest": self.digest,
            "method": str(self.method),
            "reason": self.reason,
            "manifest_untagged": self.manifest_untagged,
            "manifest_deletable": self.manifest_deletable,
            "shared_with": list(self.shared_with),
            "note": self.note,
        }


class ManifestRole(enum.StrEnum):
    MANIFEST = "manifest"  # what a selected tag pointed to
    CHILD = "index child"
    REFERRER = "referrer"
    UNTAGGED = "untagged manifest"  # picked directly (policy rule)


@dataclass(frozen=True, slots=True)
class ManifestAction:
    """Delete one manifest by digest (runs after every tag action, parents before children)."""

    digest: str
    media_type: str
    role: ManifestRole
    reason: str
    parent: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "role": str(self.role),
            "reason": self.reason,
            "parent": self.parent,
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    tag: str
    reason: str


@dataclass(frozen=True, slots=True)
class BlastRadius:
    shared_digests: Mapping[str, tuple[str, ...]]  # digest of a selected tag → kept tags on it
    orphaned_children: tuple[str, ...]  # index children left unreferenced (and kept)
    deleted_children: tuple[str, ...]
    orphaned_referrers: tuple[ReferrerInfo, ...]  # referrers whose subject goes (kept: warning)
    deleted_referrers: tuple[ReferrerInfo, ...]
    reclaimable_bytes: int
    reclaimable_blobs: int
    gc_note: str = GC_NOTE


@dataclass(frozen=True, slots=True)
class DeletePlan:
    registry: str
    repository: str
    options: PlanOptions
    tag_actions: tuple[TagAction, ...] = ()
    manifest_actions: tuple[ManifestAction, ...] = ()
    refused: tuple[Refusal, ...] = ()
    kept_tags: tuple[str, ...] = ()
    unknown_tags: tuple[str, ...] = ()
    blast: BlastRadius | None = None
    warnings: tuple[str, ...] = ()
    refusal: str = ""  # non-empty: the registry cannot delete; nothing will be done
    gitlab_project_id: int | None = None
    gitlab_repository_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not self.tag_actions and not self.manifest_actions

    @property
    def item_count(self) -> int:
        return len(self.tag_actions) + len(self.manifest_actions)

    def summary(self) -> str:
        if self.refusal:
            return self.refusal
        parts = [f"{len(self.tag_actions)} tag(s) in {self.registry}/{self.repository}"]
        if self.manifest_actions:
            parts.append(f"{len(self.manifest_actions)} manifest(s) by digest")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.blast is not None:
            parts.append(f"about {self.blast.reclaimable_bytes} bytes reclaimable after GC")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        blast = self.blast
        return {
            "registry": self.registry,
            "repository": self.repository,
            "refusal": self.refusal,
            "tags": [a.to_json() for a in self.tag_actions],
            "manifests": [a.to_json() for a in self.manifest_actions],
            "refused": [{"tag": r.tag, "reason": r.reason} for r in self.refused],
            "kept": len(self.kept_tags),
            "unknown": list(self.unknown_tags),
            "warnings": list(self.warnings),
            "blast_radius": None
            if blast is None
            else {
                "shared_digests": {d: list(t) for d, t in blast.shared_digests.items()},
                "orphaned_children": list(blast.orphaned_children),
                "deleted_children": list(blast.deleted_children),
                "orphaned_referrers": [r.digest for r in blast.orphaned_referrers],
                "deleted_referrers": [r.digest for r in blast.deleted_referrers],
                "reclaimable_bytes": blast.reclaimable_bytes,
                "reclaimable_blobs": blast.reclaimable_blobs,
                "note": blast.gc_note,
            },
        }


# ---------------------------------------------------------------------------------------------


def refusal_for(caps: Capabilities, registry: str) -> str:
    """Why nothing at all can be deleted on this registry, or "" when something can."""
    if caps.gitlab_tag_api:
        return ""
    detail = f" ({caps.detail})" if caps.detail else ""
    if caps.manifest_delete is DeleteSupport.DISABLED:
        return (
            f"{registry} does not allow deleting manifests{detail}. Nothing was deleted. "
            "Deletion must be enabled by its administrator (CNCF registry: "
            "storage.delete.enabled: true)."
        )
    if caps.manifest_delete is DeleteSupport.DENIED:
        return (
            f"These credentials may not delete on {registry}{detail}. Nothing was deleted. "
            "Use credentials with delete rights (GitLab: a token with write_registry and at "
            "least the Developer role)."
        )
    return ""


class _Graph:
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


def _reachable(graph: _Graph, roots: Iterable[str], follow_referrers: bool) -> set[str]:
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


def _choose_method(caps: Capabilities) -> Method | None:
    if caps.tag_delete and caps.manifest_delete is not DeleteSupport.DISABLED:
        return Method.TAG_DELETE
    if caps.gitlab_tag_api:
        return Method.GITLAB_API
    if caps.manifest_delete in (DeleteSupport.DISABLED, DeleteSupport.DENIED):
        return None
    return Method.THROWAWAY if caps.can_push else Method.DIGEST


def make_plan(
    facts: RepositoryFacts, selection: Selection, options: PlanOptions = PlanOptions()
) -> DeletePlan:
    """Turn a selection into a plan; see the module docstring for the rules."""
    caps = facts.capabilities
    base = DeletePlan(
        registry=facts.registry,
        repository=facts.repository,
        options=options,
        gitlab_project_id=facts.gitlab_project_id,
        gitlab_repository_id=facts.gitlab_repository_id,
    )
    refusal = refusal_for(caps, facts.registry)
    if refusal:
        return _replace(base, refusal=refusal)
    method = _choose_method(caps)
    if method is None:  # pragma: no cover - refusal_for covers every None case
        return _replace(base, refusal=f"{facts.registry} offers no way to delete.")
    if method is Method.GITLAB_API and (
        facts.gitlab_project_id is None or facts.gitlab_repository_id is None
    ):
        return _replace(
            base,
            refusal=(
                f"GitLab's tag API is the only way to delete on {facts.registry}, but the "
                f"project of {facts.repository} is not known. Nothing was deleted."
            ),
        )

    graph = _Graph(facts)
    all_tags = [t.tag for t in facts.tags]
    chosen = set(all_tags) if selection.whole_repository else set(selection.tags)
    selected = chosen & set(all_tags)
    unknown = sorted(set(selection.tags) - set(all_tags))
    warnings: list[str] = []
    if unknown:
        warnings.append(
            f"{len(unknown)} selected tag(s) do not exist in {facts.repository}: "
            + ", ".join(unknown[:10])
            + (" …" if len(unknown) > 10 else "")
        )
    broken = sorted(t for t in selected if t not in graph.tag_digest)
    if broken:
        # Without a digest we cannot verify the tag before touching it: leave it alone.
        selected -= set(broken)
    if caps.manifest_delete is DeleteSupport.UNKNOWN and method is not Method.GITLAB_API:
        warnings.append(
            f"Whether {facts.registry} allows deletion was not checked; the first deletion "
            "will tell."
        )

    kept = [t for t in all_tags if t not in selected]
    kept_by_digest: dict[str, list[str]] = {}
    for t in kept:
        d = graph.tag_digest.get(t)
        if d:
            kept_by_digest.setdefault(d, []).append(t)
    kept_roots = set(kept_by_digest)
    # What kept tags keep alive: their manifests, index children, and (kept) referrers.
    protected = _reachable(graph, kept_roots, follow_referrers=True)

    # Manifests that may be deleted by digest: start from what selected tags (and the untagged
    # picks) point at, add children and maybe referrers, then drop anything still referenced by
    # a kept tag or by a manifest that survives, until nothing changes.
    seeds = {graph.tag_digest[t] for t in selected} | set(selection.untagged)
    candidates = _reachable(graph, seeds, follow_referrers=options.delete_referrers)
    candidates -= protected
    known = graph.all_manifests() | candidates
    subject_of = {r.digest: s for s, refs in graph.referrers.items() for r in refs}
    changed = True
    while changed:
        changed = False
        for d in sorted(candidates):
            parents = graph.parents.get(d, set())
            keep = any(p not in candidates and p in known for p in parents)
            # A referrer goes only with its subject (unless it was picked itself).
            subject = subject_of.get(d)
            if subject is not None and subject not in candidates and d not in seeds:
                keep = True
            if keep:
                candidates.discard(d)
                changed = True
    deletable = candidates

    tag_actions: list[TagAction] = []
    refused: list[Refusal] = []
    digest_deleted: set[str] = set()
    shared: dict[str, tuple[str, ...]] = {}
    for t in sorted(selected):
        d = graph.tag_digest[t]
        siblings = tuple(sorted(kept_by_digest.get(d, ())))
        if siblings:
            shared[d] = siblings
        untagged = not siblings
        can_delete_manifest = d in deletable
        note = _why_kept(graph, d, siblings, kept_by_digest, protected, can_delete_manifest)
        reason = selection.reasons.get(t) or "selected"
        if method is Method.DIGEST and not can_delete_manifest:
            refused.append(
                Refusal(
                    t,
                    f"{facts.registry} can only delete by digest here, and {note}; "
                    "deleting it would remove more than this tag.",
                )
            )
            continue
        if method is Method.DIGEST:
            digest_deleted.add(d)
        tag_actions.append(
            TagAction(
                tag=t,
                digest=d,
                media_type=graph.tag_info[t].media_type,
                method=method,
                reason=reason,
                manifest_untagged=untagged,
                manifest_deletable=can_delete_manifest,
                shared_with=siblings,
                note="" if can_delete_manifest else note,
            )
        )
    if broken:
        refused.extend(
            Refusal(t, "its digest is unknown (the tag could not be read); refresh and retry")
            for t in broken
        )

    removed_tag_digests = {a.digest for a in tag_actions}
    deleted: set[str] = set(digest_deleted)
    if options.delete_manifests:
        deleted |= {d for d in deletable if d in removed_tag_digests or d in selection.untagged}
    # Children and referrers follow only from manifests that actually go.
    deleted = _closure_within(graph, deleted, deletable, options, digest_deleted)

    manifest_actions = _order_manifest_actions(
        graph, deleted - digest_deleted, removed_tag_digests, selection.untagged
    )

    gone = deleted | {d for d in removed_tag_digests if d not in kept_by_digest}
    orphaned_children = sorted(
        c
        for d in gone
        for c in graph.children.get(d, ())
        if c not in protected and c not in deleted
    )
    deleted_children = sorted(a.digest for a in manifest_actions if a.role is ManifestRole.CHILD)
    orphaned_refs: list[ReferrerInfo] = []
    deleted_refs: list[ReferrerInfo] = []
    for subject in sorted(gone):
        for r in graph.referrers.get(subject, ()):
            (deleted_refs if r.digest in deleted else orphaned_refs).append(r)
    if orphaned_refs:
        warnings.append(
            f"{len(orphaned_refs)} referrer(s) (signatures, SBOMs, attestations) point at "
            "manifests this plan removes and will be left orphaned; choose 'delete referrers' "
            "to remove them too."
        )

    freed = _reclaimable(graph, gone, protected)
    blast = BlastRadius(
        shared_digests=shared,
        orphaned_children=tuple(dict.fromkeys(orphaned_children)),
        deleted_children=tuple(deleted_children),
        orphaned_referrers=tuple(orphaned_refs),
        deleted_referrers=tuple(deleted_refs),
        reclaimable_bytes=sum(freed.values()),
        reclaimable_blobs=len(freed),
    )
    return _replace(
        base,
        tag_actions=tuple(tag_actions),
        manifest_actions=tuple(manifest_actions),
        refused=tuple(refused),
        kept_tags=tuple(sorted(kept)),
        unknown_tags=tuple(unknown),
        blast=blast,
        warnings=tuple(warnings),
    )


def _replace(plan: DeletePlan, **changes: Any) -> DeletePlan:
    from dataclasses import replace

    return replace(plan, **changes)


def _closure_within(
    graph: _Graph,
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


def _order_manifest_actions(
    graph: _Graph, deleted: set[str], tag_digests: set[str], picked: frozenset[str]
) -> list[ManifestAction]:
    """Parents before children, referrers before their subject: a stop half-way never leaves an
    index pointing at a missing child."""
    subject_of = {r.digest: s for s, refs in graph.referrers.items() for r in refs}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for d in sorted(deleted):
        before = [p for p in graph.parents.get(d, ()) if p in deleted]
        before += [r.digest for r in graph.referrers.get(d, ()) if r.digest in deleted]
        sorter.add(d, *sorted(before))
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError:  # content addressing makes cycles impossible; be safe anyway
        order = sorted(deleted)
    actions: list[ManifestAction] = []
    for d in order:
        mtype = graph.media_type.get(d, "")
        parents = sorted(p for p in graph.parents.get(d, ()) if p in deleted)
        if d in subject_of and subject_of[d] in deleted:
            role, parent = ManifestRole.REFERRER, subject_of[d]
            reason = f"referrer of {_short(parent)}, which this plan deletes"
        elif d in tag_digests:
            role, parent = ManifestRole.MANIFEST, ""
            reason = "left untagged by this plan and referenced by nothing that stays"
        elif parents:
            role, parent = ManifestRole.CHILD, parents[0]
            reason = (
                f"child of index {_short(parent)}, which this plan deletes; nothing else uses it"
            )
        elif d in picked:
            role, parent = ManifestRole.UNTAGGED, ""
            reason = "untagged and referenced by nothing that stays"
        else:
            role, parent = ManifestRole.MANIFEST, ""
            reason = "referenced by nothing that stays"
        if mtype in mt.INDEXES and role is ManifestRole.MANIFEST:
            reason += " (an index: its children are handled separately)"
        actions.append(ManifestAction(d, mtype, role, reason, parent))
    return actions


def _why_kept(
    graph: _Graph,
    d: str,
    siblings: tuple[str, ...],
    kept_by_digest: Mapping[str, list[str]],
    protected: set[str],
    deletable: bool,
) -> str:
    if deletable:
        return ""
    if siblings:
        return f"its manifest {_short(d)} is also tagged {', '.join(siblings[:5])}" + (
            " …" if len(siblings) > 5 else ""
        )
    users = sorted(
        t for p in graph.parents.get(d, ()) for t in kept_by_digest.get(p, ()) if p in protected
    )
    if users:
        return f"its manifest {_short(d)} is part of the kept index {', '.join(users[:5])}"
    if d in protected:
        return f"its manifest {_short(d)} is still referenced by something kept"
    return f"its manifest {_short(d)} is referenced by another manifest that stays"


def _reclaimable(graph: _Graph, gone: set[str], protected: set[str]) -> dict[str, int]:
    kept_blobs: set[str] = set()
    for d in protected:
        kept_blobs.update(b for b, _ in graph.blobs.get(d, ()))
    freed: dict[str, int] = {}
    for d in _reachable(graph, gone, follow_referrers=False):
        if d in protected:
            continue
        for b, size in graph.blobs.get(d, ()):
            if b not in kept_blobs:
                freed[b] = size
    return freed


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12] if digest else "?"
