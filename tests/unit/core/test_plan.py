"""The delete planner: methods, blast radius, refusals — on hand-built repository states."""

from __future__ import annotations

from delete_fakes import FakeRegistry

from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    ManifestRole,
    Method,
    OptionNames,
    PlanOptions,
    Selection,
    make_plan,
)

ALLOWED = DeleteSupport.ALLOWED


def _reg() -> FakeRegistry:
    r = FakeRegistry()
    a = r.image("base", "a")
    b = r.image("base", "b")
    r.tag("a1", a)
    r.tag("a2", a)  # sibling of a1
    r.tag("b", b)
    return r


def test_methods_safest_first() -> None:
    r = _reg()
    sel = Selection.of_tags(["a1"])
    cases = [
        (Capabilities(ALLOWED, tag_delete=True, gitlab_tag_api=True), Method.TAG_DELETE),
        (Capabilities(ALLOWED, gitlab_tag_api=True), Method.GITLAB_API),
        (Capabilities(ALLOWED), Method.THROWAWAY),
        (Capabilities(DeleteSupport.UNKNOWN), Method.THROWAWAY),
    ]
    for caps, method in cases:
        facts = r.facts(caps)
        facts = type(facts)(**{**_fields(facts), "gitlab_project_id": 1, "gitlab_repository_id": 2})
        plan = make_plan(facts, sel)
        assert [a.method for a in plan.tag_actions] == [method], caps


def _fields(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]


def test_siblings_are_listed_and_keep_the_manifest() -> None:
    r = _reg()
    plan = make_plan(r.facts(), Selection.of_tags(["a1"]), PlanOptions(delete_manifests=True))
    (action,) = plan.tag_actions
    assert action.shared_with == ("a2",)
    assert not action.manifest_untagged and not action.manifest_deletable
    assert "also tagged a2" in action.note
    assert plan.manifest_actions == ()
    assert plan.blast is not None and plan.blast.shared_digests == {action.digest: ("a2",)}
    assert plan.blast.reclaimable_bytes == 0


def test_digest_only_registry_refuses_shared_tags_but_deletes_lonely_ones() -> None:
    r = _reg()
    caps = Capabilities(ALLOWED, can_push=False)
    plan = make_plan(r.facts(caps), Selection.of_tags(["a1", "b"]))
    assert [(a.tag, a.method) for a in plan.tag_actions] == [("b", Method.DIGEST)]
    assert [x.tag for x in plan.refused] == ["a1"]
    assert "also tagged a2" in plan.refused[0].reason
    # Selecting both siblings makes their manifest deletable by digest.
    plan = make_plan(r.facts(caps), Selection.of_tags(["a1", "a2"]))
    assert {a.method for a in plan.tag_actions} == {Method.DIGEST}
    assert plan.refused == ()


def test_refusal_up_front_when_delete_disabled_or_denied() -> None:
    r = _reg()
    for support, words in [
        (DeleteSupport.DISABLED, "does not allow deleting"),
        (DeleteSupport.DENIED, "may not delete"),
    ]:
        plan = make_plan(r.facts(Capabilities(support, tag_delete=True)), Selection.repository())
        assert words in plan.refusal
        assert plan.is_empty and "fake.local" in plan.refusal


def test_gitlab_api_without_project_is_refused() -> None:
    r = _reg()
    plan = make_plan(
        r.facts(Capabilities(DeleteSupport.DISABLED, gitlab_tag_api=True)), Selection.of_tags(["b"])
    )
    assert "project" in plan.refusal


def test_index_children_are_protected_by_a_kept_index() -> None:
    r = FakeRegistry()
    amd = r.image("l1")
    arm = r.image("l2")
    multi = r.index(amd, arm)
    r.tag("multi", multi)
    r.tag("amd64", amd)
    plan = make_plan(r.facts(), Selection.of_tags(["amd64"]), PlanOptions(delete_manifests=True))
    (action,) = plan.tag_actions
    assert action.manifest_untagged and not action.manifest_deletable
    assert "kept index multi" in action.note
    assert plan.manifest_actions == ()


def test_deleting_an_index_orphans_or_deletes_its_children() -> None:
    r = FakeRegistry()
    amd = r.image("l1", "shared")
    arm = r.image("l2", "shared")
    multi = r.index(amd, arm)
    other = r.image("shared")
    r.tag("multi", multi)
    r.tag("other", other)
    keep_children = make_plan(r.facts(), Selection.of_tags(["multi"]))
    assert keep_children.blast is not None
    assert sorted(keep_children.blast.orphaned_children) == sorted([amd, arm])
    assert keep_children.manifest_actions == ()
    # bytes: l1, l2 and the two configs go; "shared" stays with "other"
    assert keep_children.blast.reclaimable_bytes == 100 + 100 + 10 + 10
    full = make_plan(r.facts(), Selection.of_tags(["multi"]), PlanOptions(delete_manifests=True))
    roles = [(a.digest, a.role) for a in full.manifest_actions]
    assert roles[0] == (multi, ManifestRole.MANIFEST)  # the index goes before its children
    assert {d for d, role in roles[1:]} == {amd, arm}
    assert all(role is ManifestRole.CHILD for _, role in roles[1:])
    assert full.blast is not None and full.blast.orphaned_children == ()


def test_child_shared_with_a_surviving_untagged_index_stays() -> None:
    r = FakeRegistry()
    amd = r.image("l1")
    multi = r.index(amd, salt="tagged")
    r.index(amd, salt="untagged-but-alive")
    r.tag("multi", multi)
    plan = make_plan(r.facts(), Selection.of_tags(["multi"]), PlanOptions(delete_manifests=True))
    assert [a.digest for a in plan.manifest_actions] == [multi]


def test_referrers_keep_and_warn_by_default_delete_when_asked() -> None:
    r = FakeRegistry()
    img = r.image("l1")
    sig = r.image(subject=img, artifact_type="application/vnd.dev.cosign.artifact.sig.v1+json")
    r.tag("v1", img)
    plan = make_plan(r.facts(), Selection.of_tags(["v1"]), PlanOptions(delete_manifests=True))
    assert [a.digest for a in plan.manifest_actions] == [img]
    assert plan.blast is not None and [x.digest for x in plan.blast.orphaned_referrers] == [sig]
    assert any("orphaned" in w for w in plan.warnings)
    both = make_plan(
        r.facts(),
        Selection.of_tags(["v1"]),
        PlanOptions(delete_manifests=True, delete_referrers=True),
    )
    assert [(a.digest, a.role) for a in both.manifest_actions] == [
        (sig, ManifestRole.REFERRER),  # referrer first: never a referrer without a subject left
        (img, ManifestRole.MANIFEST),
    ]
    assert both.blast is not None and both.blast.orphaned_referrers == ()


def test_referrers_of_kept_tags_are_never_deleted() -> None:
    r = FakeRegistry()
    img = r.image("l1")
    r.image(subject=img, artifact_type="sbom")
    r.tag("v1", img)
    r.tag("v1-copy", img)
    plan = make_plan(
        r.facts(),
        Selection.of_tags(["v1"]),
        PlanOptions(delete_manifests=True, delete_referrers=True),
    )
    assert plan.manifest_actions == ()
    assert plan.blast is not None and plan.blast.orphaned_referrers == ()


def test_unknown_tags_are_reported_not_planned() -> None:
    r = _reg()
    plan = make_plan(r.facts(), Selection.of_tags(["b", "nope"]))
    assert [a.tag for a in plan.tag_actions] == ["b"]
    assert plan.unknown_tags == ("nope",)
    assert any("nope" in w for w in plan.warnings)


def test_whole_repository_and_reasons() -> None:
    r = _reg()
    plan = make_plan(r.facts(), Selection.repository(), PlanOptions(delete_manifests=True))
    assert sorted(a.tag for a in plan.tag_actions) == ["a1", "a2", "b"]
    assert plan.kept_tags == ()
    assert len(plan.manifest_actions) == 2
    assert plan.blast is not None
    # base, a, b layers + two configs
    assert plan.blast.reclaimable_bytes == 300 + 20 and plan.blast.reclaimable_blobs == 5
    assert "garbage collection" in plan.blast.gc_note
    reasons = make_plan(r.facts(), Selection.of_tags(["b"], reason="matches ^b$"))
    assert reasons.tag_actions[0].reason == "matches ^b$"
    assert reasons.to_json()["tags"][0]["reason"] == "matches ^b$"


def test_untagged_picks_are_deleted_only_if_unreferenced() -> None:
    r = FakeRegistry()
    amd = r.image("l1")
    loose = r.image("l9")
    r.tag("multi", r.index(amd))
    plan = make_plan(
        r.facts(),
        Selection(untagged=frozenset({amd, loose})),
        PlanOptions(delete_manifests=True),
    )
    assert [(a.digest, a.role) for a in plan.manifest_actions] == [(loose, ManifestRole.UNTAGGED)]


def test_referrers_of_a_manifest_left_untagged_stay_attached_not_orphaned() -> None:
    """A tag-only plan leaves the manifest (untagged) and its signature in place: the warning
    says so and names the front end's options; deleting the manifest orphans the signature."""
    r = FakeRegistry()
    img = r.image("l1")
    sig = r.image(subject=img, artifact_type="application/vnd.dev.cosign.artifact.sig.v1+json")
    r.tag("v1", img)
    names = OptionNames("--delete-manifests", "--delete-referrers")
    plan = make_plan(r.facts(), Selection.of_tags(["v1"]), PlanOptions(), names)
    assert plan.manifest_actions == ()
    assert plan.blast is not None and plan.blast.orphaned_referrers == ()
    assert [x.digest for x in plan.blast.untagged_referrers] == [sig]
    (said,) = [w for w in plan.warnings if "signature" in w]
    assert "leaves untagged" in said and "orphaned" not in said
    assert "--delete-manifests and then --delete-referrers" in said
    deleting = make_plan(
        r.facts(), Selection.of_tags(["v1"]), PlanOptions(delete_manifests=True), names
    )
    (said,) = [w for w in deleting.warnings if "signature" in w]
    assert "this plan deletes" in said and "orphaned" in said
    assert "--delete-referrers" in said and "--delete-manifests" not in said
