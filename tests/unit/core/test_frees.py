"""What a tag frees, on hand-built manifest trees: shared layers, shared digests, index children
that single-platform tags also point at, attestation children; and the same figure from the
planner and the policy preview."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from delete_fakes import FakeRegistry
from frees_trees import image, index
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from repo_states import gc_freed, states

from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    PlanOptions,
    Selection,
    make_plan,
)
from regview.core.deletion.policy import Policy, preview
from regview.core.frees import (
    BlobLedger,
    TagSpace,
    freed_by,
    rank_space,
    same_tags,
    untagged_bytes,
)
from regview.core.inventory import tag_info
from regview.core.model import ArtifactKind, TagInfo

MiB = 1 << 20


def stored(tags: list[TagInfo]) -> int:
    """Independent of the ledger: the union of the blobs, each once."""
    return sum(dict(b for t in tags for b in t.blobs).values())


def brute_freed(tags: list[TagInfo], names: set[str]) -> int:
    """What deleting `names` frees by definition: stored before minus stored after."""
    return stored(tags) - stored([t for t in tags if t.tag not in names])


BASE = ("sha256:base", 50 * MiB)
CFG_A, CFG_B = ("sha256:cfg-a", 1000), ("sha256:cfg-b", 2000)
TOP_A, TOP_B = ("sha256:top-a", 3 * MiB), ("sha256:top-b", 7 * MiB)


def test_shared_base_layer_is_freed_by_no_single_tag() -> None:
    tags = [image("a", "sha256:A", BASE, CFG_A, TOP_A), image("b", "sha256:B", BASE, CFG_B, TOP_B)]
    space = TagSpace.of(tags)
    assert space.frees_all(tags) == [1000 + 3 * MiB, 2000 + 7 * MiB]
    assert space.freed_bytes({"a", "b"}) == stored(tags) == 50 * MiB + 3000 + 10 * MiB
    assert space.stored == stored(tags) and space.complete


def test_two_tags_on_one_digest_free_nothing_alone_and_everything_together() -> None:
    tags = [
        image("v1", "sha256:A", BASE, CFG_A, TOP_A),
        image("stable", "sha256:A", BASE, CFG_A, TOP_A),
        image("b", "sha256:B", BASE, CFG_B),
    ]
    space = TagSpace.of(tags)
    assert space.frees_all(tags) == [0, 0, 2000]
    # The selection is de-duplicated: both tags together free the tree once, not twice.
    assert (
        space.freed_bytes({"v1", "stable"}) == 1000 + 3 * MiB == brute_freed(tags, {"v1", "stable"})
    )
    assert space.freed_bytes({"v1"}) == 0


def test_index_children_shared_with_single_platform_tags() -> None:
    amd = image("amd64", "sha256:amd", BASE, CFG_A, TOP_A)
    arm = image("arm64-only-in-index", "sha256:arm", ("sha256:base-arm", 40 * MiB), CFG_B, TOP_B)
    multi = index("v2", "sha256:I", [amd, arm])
    tags = [amd, multi]
    space = TagSpace.of(tags)
    # The index keeps amd64's blobs: deleting the amd64 tag frees nothing; deleting the index
    # frees only the arm64 child's tree.
    assert space.frees("amd64") == 0
    assert space.frees("v2") == 40 * MiB + 2000 + 7 * MiB
    assert space.freed_bytes({"amd64", "v2"}) == stored(tags)
    for names in ({"amd64"}, {"v2"}, {"amd64", "v2"}):
        assert space.freed_bytes(names) == brute_freed(tags, names), names


def test_attestation_children_count_in_the_index_tree() -> None:
    amd = image("x", "sha256:amd", BASE, CFG_A, TOP_A)
    attestation = ("sha256:in-toto", 12_345)
    multi = index("v3", "sha256:I3", [amd], attestation, ("sha256:empty-config", 2))
    other = index("v3-rebuilt", "sha256:I4", [amd], ("sha256:empty-config", 2))
    space = TagSpace.of([multi, other])
    # The attestation's layer is v3's alone; the 2-byte empty config both indexes' attestations
    # share, like the image itself.
    assert space.frees("v3") == 12_345
    assert space.frees("v3-rebuilt") == 0
    assert multi.size == stored([amd])  # the table's Size leaves attestations out; Frees does not


def test_a_layer_twice_in_one_image_counts_once() -> None:
    # The ledger counts holders per listed blob: the inventory lists each blob of a tree once,
    # also for a manifest that names a layer twice (and for summaries cached before that).
    summary = {"kind": "image", "size": 1, "blobs": [list(BASE), list(BASE), list(CFG_A)]}
    tag = tag_info("app", "dup", "sha256:D", summary, None)
    assert tag.blobs == (BASE, CFG_A)
    assert TagSpace.of([tag]).frees("dup") == 50 * MiB + 1000


def test_unreadable_tags_have_no_figure_and_make_the_space_incomplete() -> None:
    good = image("a", "sha256:A", BASE, CFG_A)
    broken = TagInfo("app", "gone", "", "", ArtifactKind.UNKNOWN, error="manifest unknown")
    space = TagSpace.of([good, broken])
    assert space.frees_all([good, broken]) == [50 * MiB + 1000, None]
    assert not space.complete


def test_a_row_with_a_new_digest_is_not_given_the_old_figure() -> None:
    old = image("a", "sha256:A", CFG_A)
    space = TagSpace.of([old])
    assert space.frees_all([image("a", "sha256:NEW", CFG_B)]) == [None]
    assert space.frees("unknown-tag") is None


def test_ledger_rule_and_untagged_bytes() -> None:
    ledger = BlobLedger({"r1": (("x", 1), ("y", 2)), "r2": (("y", 2), ("z", 4))})
    assert ledger.freed(["r1"]) == {"x": 1}
    assert ledger.freed(["r1", "r2"]) == {"x": 1, "y": 2, "z": 4}
    assert ledger.freed(["unknown"]) == {}
    assert ledger.alone() == {"r1": 1, "r2": 4}
    space = TagSpace.of([image("a", "sha256:A", ("x", 1))])
    # An untagged manifest's blobs count when no tag holds them; a tagged digest is no extra.
    assert untagged_bytes(space, {"sha256:U": (("x", 1), ("w", 8)), "sha256:A": (("x", 1),)}) == 8


# --- one computation: the planner and the policy preview give the same number -------------


@settings(max_examples=300, deadline=None)
@given(states(), st.data())
def test_table_selection_plan_and_policy_agree(r: FakeRegistry, data: st.DataObject) -> None:
    """Shared layers, shared digests, index children also tagged, tagged signatures.

    Left out: a tagged signature whose subject is itself an untagged signature. The tag
    listing does not show untagged manifests, so the table cannot know that such a subject
    stays; the planner, which looks referrers up, does (see core.frees)."""
    tagged = set(r.tags.values())
    assume(
        not any(
            r.subject(d) and r.subject(d) not in tagged and r.subject(r.subject(d)) for d in tagged
        )
    )
    facts = r.facts(Capabilities(DeleteSupport.ALLOWED, tag_delete=True))
    tags = list(facts.tags)
    names = sorted(t.tag for t in tags)
    picked = set(data.draw(st.lists(st.sampled_from(names), unique=True)))
    space = TagSpace.of(tags)
    expected = gc_freed(r, picked)
    assert space.freed_bytes(picked) == expected
    plan = make_plan(facts, Selection.of_tags(picked))
    assert plan.blast is not None and plan.blast.reclaimable_bytes == expected
    regex = "|".join(sorted(picked)) if picked else "never-matches"
    policy_view = preview(Policy(name_regex_delete=f"({regex})"), tags, datetime.now(UTC))
    if {d.tag for d in policy_view.delete} == picked:  # `latest` etc. would be kept anyway
        assert policy_view.reclaimable_bytes == expected
    for t, figure in zip(tags, space.frees_all(tags), strict=True):
        assert figure == gc_freed(r, {t.tag}), t.tag


def test_a_tagged_signature_frees_nothing_while_its_subject_stays() -> None:
    r = FakeRegistry()
    img = r.image("base", "app")
    sig = r.image("sig-layer", subject=img, artifact_type="sig")
    r.tag("v1", img)
    r.tag("v1.sig", sig)
    space = TagSpace.of(r.facts().tags)
    assert space.frees("v1.sig") == 0  # the signature stays attached to v1
    assert space.frees("v1") == 210  # v1's layers and config; its signature stays tagged
    assert space.freed_bytes({"v1", "v1.sig"}) == 210 + 110


def test_ranking_across_repositories() -> None:
    shared_base = ("sha256:debian", 30 * MiB)
    tags = [
        image("1", "sha256:A1", shared_base, ("sha256:a1", 5 * MiB), repository="team/a"),
        image("2", "sha256:A2", shared_base, ("sha256:a2", 1 * MiB), repository="team/a"),
        image("x", "sha256:B1", shared_base, ("sha256:b1", 2 * MiB), repository="team/b"),
        TagInfo("team/b", "broken", "", "", ArtifactKind.UNKNOWN, error="unreadable"),
    ]
    ranking = rank_space(tags, top=2)
    a, b = ranking.repositories
    assert (a.repository, a.tags, a.stored, a.alone, a.complete) == (
        "team/a",
        2,
        36 * MiB,
        6 * MiB,  # the base layer is team/b's too
        True,
    )
    assert (b.repository, b.stored, b.alone, b.complete) == ("team/b", 32 * MiB, 2 * MiB, False)
    # Within team/b, "x" is the only tag read: it frees the base too (at most: "broken" may
    # use it).
    assert [(t.repository, t.tag, t.frees, t.complete) for t in ranking.tags] == [
        ("team/b", "x", 32 * MiB, False),
        ("team/a", "1", 5 * MiB, True),
    ]


def test_policy_counts_the_untagged_manifests_it_deletes_as_the_plan_does() -> None:
    r = FakeRegistry()
    kept = r.image("base", "app")
    old = r.image("base", "old-layer")  # untagged: only the old layer and its config are its own
    r.tag("v2", kept)
    facts = r.facts(Capabilities(DeleteSupport.ALLOWED, tag_delete=True))
    policy = Policy(name_regex_delete="nothing-matches", delete_untagged=True)
    view = preview(policy, facts.tags, datetime.now(UTC), manifests=facts.manifests)
    assert [d for d, _ in view.untagged] == [old]
    plan = make_plan(facts, view.selection(), PlanOptions(delete_manifests=True))
    assert plan.blast is not None
    assert view.reclaimable_bytes == plan.blast.reclaimable_bytes == 100 + 10


_blob = st.tuples(st.sampled_from([f"sha256:{c}" for c in "abcdefgh"]), st.integers(1, 4))


@given(
    st.dictionaries(st.sampled_from([f"r{i}" for i in range(8)]), st.lists(_blob, max_size=6)),
    st.sets(st.sampled_from([f"r{i}" for i in range(10)])),
)
def test_freed_by_answers_as_the_ledger_does(
    trees: dict[str, list[tuple[str, int]]], gone: set[str]
) -> None:
    """The one-off question (a delete plan's) gives the ledger's answer — blobs named twice in
    a tree, one digest given two sizes, unknown roots in `gone` included."""
    assert freed_by(trees, gone) == BlobLedger(trees).freed(gone)


def test_same_tags_tells_a_listing_read_again_from_another() -> None:
    """One listing's snapshot answers for another only when both have the same tags on the
    same manifests, read alike: read again (new objects) and reordered is the same; a tag
    moved, added or gone, or one unread, is not."""
    rows = [
        image("a", "sha256:1", ("sha256:l1", 10)),
        image("b", "sha256:2", ("sha256:l2", 20)),
        image("c", "sha256:2", ("sha256:l2", 20)),
    ]
    again = [replace(t) for t in reversed(rows)]
    assert same_tags(rows, again) and all(x is not y for x, y in zip(rows, again, strict=True))
    assert same_tags(rows, [replace(t) for t in rows])  # (the same order: field by field)
    moved = [rows[0], rows[1], replace(rows[2], digest="sha256:1", blobs=rows[0].blobs)]
    assert not same_tags(rows, moved)
    assert not same_tags(rows, rows[:2])
    assert not same_tags(rows, [*rows, image("d", "sha256:4", ("sha256:l4", 1))])
    assert not same_tags(rows, [rows[0], rows[1], replace(rows[2], blobs=())])
    # the same snapshot answers for both
    space = TagSpace.of(rows)
    assert space.frees_all(again) == TagSpace.of(again).frees_all(again)
