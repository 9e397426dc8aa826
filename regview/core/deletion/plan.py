"""The delete planner: facts about one repository + a selection → a typed `DeletePlan`.

The types are in `deletion.plan_types`, the manifest graph in `deletion.plan_graph`, the choice of method in
`deletion.plan_method`; this module holds the rules.

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

import graphlib
from collections.abc import Mapping
from typing import Any

from regview.core.deletion.plan_graph import (
    ManifestGraph,
    closure_within,
    reachable,
    reclaimable,
    short_digest,
)
from regview.core.deletion.plan_method import choose_method, refusal_for
from regview.core.deletion.plan_types import (
    GC_NOTE,
    BlastRadius,
    Capabilities,
    DeletePlan,
    DeleteSupport,
    ManifestAction,
    ManifestFacts,
    ManifestRole,
    Method,
    OptionNames,
    PlanOptions,
    Refusal,
    RepositoryFacts,
    Selection,
    TagAction,
)
from regview.core.model import ReferrerInfo
from regview.spec import mediatypes as mt

__all__ = [
    "GC_NOTE",
    "BlastRadius",
    "Capabilities",
    "DeletePlan",
    "DeleteSupport",
    "ManifestAction",
    "ManifestFacts",
    "ManifestRole",
    "Method",
    "OptionNames",
    "PlanOptions",
    "Refusal",
    "RepositoryFacts",
    "Selection",
    "TagAction",
    "make_plan",
    "refusal_for",
]


#: one shared instance: `PlanOptions` is frozen
_DEFAULT_OPTIONS = PlanOptions()
_DEFAULT_NAMES = OptionNames()


def make_plan(
    facts: RepositoryFacts,
    selection: Selection,
    options: PlanOptions = _DEFAULT_OPTIONS,
    names: OptionNames = _DEFAULT_NAMES,
) -> DeletePlan:
    """Turn a selection into a plan; see the module docstring for the rules. `names` are the
    front end's words for the options, used where a warning says what to choose."""
    caps = facts.capabilities
    base = DeletePlan(
        registry=facts.registry,
        repository=facts.repository,
        options=options,
        gitlab_project_id=facts.gitlab_project_id,
        gitlab_repository_id=facts.gitlab_repository_id,
        learnt=caps.learnt,
    )
    refusal = refusal_for(caps, facts.registry)
    if refusal:
        return _replace(base, refusal=refusal)
    method = choose_method(caps)
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

    graph = ManifestGraph(facts)
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
    warnings.extend(caps.vendor_notes)
    guarded = sorted(t for t in selected if t in facts.protected)
    # The registry would refuse them anyway; they stay, like any kept tag.
    selected -= set(guarded)
    broken = sorted(t for t in selected if t not in graph.tag_digest)
    if broken:
        # Without a digest we cannot verify the tag before touching it: leave it alone.
        selected -= set(broken)
    if caps.manifest_delete is DeleteSupport.UNKNOWN and caps.vendor_api:
        warnings.append(
            f"The {caps.vendor_api} does not say whether these credentials may delete; the "
            "first deletion will tell (a refusal stops the run before anything else is sent)."
        )
    elif caps.manifest_delete is DeleteSupport.UNKNOWN and method is not Method.GITLAB_API:
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
    protected = reachable(graph, kept_roots, follow_referrers=True)

    # Manifests that may be deleted by digest: start from what selected tags (and the untagged
    # picks) point at, add children and maybe referrers, then drop anything still referenced by
    # a kept tag or by a manifest that survives, until nothing changes.
    seeds = {graph.tag_digest[t] for t in selected} | set(selection.untagged)
    candidates = reachable(graph, seeds, follow_referrers=options.delete_referrers)
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
                via=caps.vendor_api if method is Method.VENDOR_API else "",
            )
        )
    refused.extend(Refusal(t, facts.protected[t]) for t in guarded)
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
    deleted = closure_within(graph, deleted, deletable, options, digest_deleted)

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
    # A kept referrer is orphaned only when its subject is deleted; a subject left untagged
    # stays in the repository and its signatures stay attached to it.
    orphaned_refs: list[ReferrerInfo] = []
    untagged_refs: list[ReferrerInfo] = []
    deleted_refs: list[ReferrerInfo] = []
    for subject in sorted(gone):
        for r in graph.referrers.get(subject, ()):
            if r.digest in deleted:
                deleted_refs.append(r)
            else:
                (orphaned_refs if subject in deleted else untagged_refs).append(r)
    warnings.extend(referrer_warnings(orphaned_refs, untagged_refs, options, names))

    freed = reclaimable(graph, gone, protected)
    blast = BlastRadius(
        shared_digests=shared,
        orphaned_children=tuple(dict.fromkeys(orphaned_children)),
        deleted_children=tuple(deleted_children),
        orphaned_referrers=tuple(orphaned_refs),
        deleted_referrers=tuple(deleted_refs),
        untagged_referrers=tuple(untagged_refs),
        reclaimable_bytes=sum(freed.values()),
        reclaimable_blobs=len(freed),
        gc_note=caps.vendor_storage_note or GC_NOTE,
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


def referrer_warnings(
    orphaned: list[ReferrerInfo],
    untagged: list[ReferrerInfo],
    options: PlanOptions,
    names: OptionNames,
) -> list[str]:
    """What the plan does to signatures and SBOMs it keeps, and which option (in the front
    end's words) would delete them too: true for a tag-only plan (their manifest stays,
    untagged) and for one that deletes manifests (their subject is gone)."""
    out: list[str] = []
    tick_both = f"tick {names.delete_manifests} and then {names.delete_referrers}"
    if orphaned:
        how = f"tick {names.delete_referrers}" if options.delete_manifests else tick_both
        out.append(
            f"{_referrers(len(orphaned))} point at manifests this plan deletes and will be "
            f"left orphaned (pointing at nothing); to delete them too, {how}."
        )
    if untagged:
        what = (
            f"{_referrers(len(untagged))} stay attached to manifests this plan leaves "
            "untagged (the manifests stay in the repository)"
        )
        if options.delete_manifests:
            # Those manifests are still used by something kept, so they and theirs stay.
            out.append(f"{what}; they are still used, so nothing of theirs is deleted.")
        else:
            out.append(f"{what}; to delete the manifests and them too, {tick_both}.")
    return out


def _referrers(n: int) -> str:
    return f"{n} signature{'' if n == 1 else 's'}/SBOM{'' if n == 1 else 's'}"


def _order_manifest_actions(
    graph: ManifestGraph, deleted: set[str], tag_digests: set[str], picked: frozenset[str]
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
            reason = f"referrer of {short_digest(parent)}, which this plan deletes"
        elif d in tag_digests:
            role, parent = ManifestRole.MANIFEST, ""
            reason = "left untagged by this plan and referenced by nothing that stays"
        elif parents:
            role, parent = ManifestRole.CHILD, parents[0]
            reason = f"child of index {short_digest(parent)}, which this plan deletes; nothing else uses it"
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
    graph: ManifestGraph,
    d: str,
    siblings: tuple[str, ...],
    kept_by_digest: Mapping[str, list[str]],
    protected: set[str],
    deletable: bool,
) -> str:
    if deletable:
        return ""
    if siblings:
        return f"its manifest {short_digest(d)} is also tagged {', '.join(siblings[:5])}" + (
            " …" if len(siblings) > 5 else ""
        )
    users = sorted(
        t for p in graph.parents.get(d, ()) for t in kept_by_digest.get(p, ()) if p in protected
    )
    if users:
        return f"its manifest {short_digest(d)} is part of the kept index {', '.join(users[:5])}"
    if d in protected:
        return f"its manifest {short_digest(d)} is still referenced by something kept"
    return f"its manifest {short_digest(d)} is referenced by another manifest that stays"
