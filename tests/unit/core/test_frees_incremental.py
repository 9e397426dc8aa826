"""What a tag frees, kept current: a ledger that adds and removes roots, and a tracker that
applies only what changed between two listings (a load's batches, a deletion, a restore, a
refresh) — each snapshot must equal garbage collection's answer for the rows of that moment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from delete_fakes import FakeRegistry
from frees_trees import image, index
from hypothesis import given, settings
from hypothesis import strategies as st
from repo_states import gc_freed, states

from regview.core.deletion.plan import Capabilities, DeleteSupport
from regview.core.frees import BlobLedger, SpaceTracker, TagSpace
from regview.core.model import ArtifactKind, TagInfo

MiB = 1 << 20


def stored(tags: list[TagInfo]) -> int:
    return sum(dict(b for t in tags for b in t.blobs).values())


class Recording(BlobLedger):
    """A ledger that notes the roots added and removed."""

    __slots__ = ("added", "removed")

    def __init__(self) -> None:
        super().__init__()
        self.added: list[str] = []
        self.removed: list[str] = []

    def add(self, root: str, tree: Sequence[tuple[str, int]]) -> None:
        self.added.append(root)
        super().add(root, tree)

    def remove(self, roots: Iterable[str]) -> None:
        roots = list(roots)
        self.removed.extend(roots)
        super().remove(roots)


def test_a_blob_left_with_one_holder_becomes_that_holders_alone() -> None:
    ledger = BlobLedger()
    for root in ("A", "B", "C"):
        ledger.add(root, (("x", 10), (f"own-{root}", 1)))
    assert ledger.alone() == {"A": 1, "B": 1, "C": 1} and ledger.stored == 13
    # C added x last; once it and B go, A — which nothing recorded as x's holder — holds it.
    ledger.remove(["C"])
    assert ledger.alone() == {"A": 1, "B": 1}
    ledger.remove(["B"])
    assert ledger.alone() == {"A": 11} and ledger.freed(["A"]) == {"x": 10, "own-A": 1}
    ledger.add("B", (("x", 10), ("own-B", 1)))  # a restore
    assert ledger.alone() == {"A": 1, "B": 1} and ledger.stored == 12
    ledger.remove(["A", "B", "unknown"])
    assert ledger.alone() == {} and ledger.stored == 0 and not ledger.holds("x")


def test_a_tree_naming_a_blob_twice_holds_it_once() -> None:
    ledger = BlobLedger({"A": (("x", 10), ("x", 10), ("y", 1))})
    assert ledger.alone() == {"A": 11} and ledger.stored == 11
    ledger.add("B", (("x", 10),))
    assert ledger.alone() == {"A": 1, "B": 0}
    ledger.remove(["B"])
    assert ledger.alone() == {"A": 11}


def test_a_snapshot_does_not_move_when_the_ledger_does() -> None:
    ledger = BlobLedger({"A": (("x", 10),)})
    snapshot = ledger.frozen()
    ledger.add("B", (("x", 10), ("y", 5)))
    ledger.remove(["A"])
    assert snapshot.alone() == {"A": 10} and snapshot.freed(["A"]) == {"x": 10}
    assert snapshot.stored == 10 and not snapshot.holds("y")
    assert ledger.alone() == {"B": 15}


def test_a_deletion_removes_only_the_roots_that_lost_their_last_tag() -> None:
    base, top = ("sha256:base", 50 * MiB), ("sha256:top", 3 * MiB)
    amd = image("amd64", "sha256:amd", base, ("sha256:cfg-a", 1000), top)
    arm = image("arm64", "sha256:arm", ("sha256:base-arm", 40 * MiB), ("sha256:cfg-b", 2000))
    rows = [
        amd,
        arm,
        index("v2", "sha256:I", [amd, arm], ("sha256:attestation", 700)),
        image("v1", "sha256:V1", base, ("sha256:cfg-c", 3000)),
        image("stable", "sha256:V1", base, ("sha256:cfg-c", 3000)),
    ]
    tracker = SpaceTracker()
    tracker.ledger = ledger = Recording()
    added, removed = ledger.added, ledger.removed
    space = tracker.sync(rows)
    # v2's children are tagged too: only its attestation child is its own.
    assert space.frees_all(rows) == [0, 0, 700, 0, 0]
    added.clear()
    # Delete v2 and one of the two tags on V1: only v2's root goes, nothing is added.
    left = [r for r in rows if r.tag not in {"v2", "stable"}]
    space = tracker.sync(left)
    assert (added, removed) == ([], ["sha256:I"])
    assert space.frees_all(left) == [3 * MiB + 1000, 40 * MiB + 2000, 3000]
    # Restore v2: one root added, and the figures are those of a computation from nothing.
    back = [*left, rows[2]]
    space = tracker.sync(back)
    assert added == ["sha256:I"]
    assert space.frees_all(back) == TagSpace.of(back).frees_all(back) == [0, 0, 3000, 700]


def test_a_listing_fed_in_batches_needs_nothing_more_at_the_end() -> None:
    rows = [
        image(f"t{i}", f"sha256:{i}", ("sha256:base", 100), (f"sha256:own{i}", i + 1))
        for i in range(50)
    ]
    tracker = SpaceTracker()
    tracker.ledger = ledger = Recording()
    for end in range(10, 51, 10):
        tracker.feed(rows[:end])
    assert len(ledger.added) == 50
    space = tracker.sync(rows)
    assert len(ledger.added) == 50  # nothing left to do at the end
    assert space.frees_all(rows) == [i + 1 for i in range(50)]
    assert space.stored == stored(rows) and space.complete


def _tagged_signature_of_untagged_signature(r: FakeRegistry) -> bool:
    """The one case the table cannot know (see test_frees): left out of the comparison."""
    tagged = set(r.tags.values())
    return any(
        r.subject(d) and r.subject(d) not in tagged and r.subject(r.subject(d)) for d in tagged
    )


@settings(max_examples=120, deadline=None)
@given(states(), st.data())
def test_a_tracker_agrees_with_garbage_collection_after_every_change(
    r: FakeRegistry, data: st.DataObject
) -> None:
    """Random listings one after another — tags gone, back, re-read as new objects, reordered,
    an unreadable one — each snapshot equal to GC's answer from the raw manifests."""
    caps = Capabilities(DeleteSupport.ALLOWED, tag_delete=True)
    every = [replace(t, size=stored([t])) for t in r.facts(caps).tags]
    broken = TagInfo(r.repository, "broken", "", "", ArtifactKind.UNKNOWN, error="unreadable")
    tracker = SpaceTracker()
    shown: list[TagInfo] = []
    for _step in range(data.draw(st.integers(1, 5), label="steps")):
        action = data.draw(st.sampled_from(["grow", "subset", "reread", "shuffle"]))
        if action == "grow":  # a listing's next batch (or a restore): rows appended
            extra = [t for t in every if t not in shown]
            shown = (
                shown + data.draw(st.lists(st.sampled_from(extra), unique=True)) if extra else shown
            )
        elif action == "subset":  # a deletion
            shown = data.draw(st.lists(st.sampled_from(every), unique=True))
        elif action == "reread":  # a refresh: equal rows, new objects
            shown = [replace(t) for t in shown]
        else:
            shown = data.draw(st.permutations(shown))
        if data.draw(st.booleans(), label="with an unreadable tag"):
            shown = [*shown, broken]
        space = tracker.sync(shown)
        readable = [t for t in shown if t.digest]
        assert space.complete == (len(readable) == len(shown))
        assert space.stored == stored(readable)
        left = replace(r, tags={t.tag: t.digest for t in readable})
        if _tagged_signature_of_untagged_signature(left):
            continue
        figures = space.frees_all(shown)
        for t, figure in zip(shown, figures, strict=True):
            assert figure == (gc_freed(left, {t.tag}) if t.digest else None), t.tag
        picked = set(data.draw(st.lists(st.sampled_from([t.tag for t in shown] or ["x"]))))
        assert space.freed_bytes(picked) == gc_freed(left, picked & set(left.tags))
        shown = [t for t in shown if t is not broken]


def test_a_listing_read_again_changes_nothing_and_another_one_starts_over() -> None:
    rows = [
        image(f"t{i}", f"sha256:{i % 7}", ("sha256:base", 100), (f"sha256:own{i % 7}", i % 7 + 1))
        for i in range(30)
    ]
    tracker = SpaceTracker()
    tracker.ledger = ledger = Recording()
    first = tracker.sync(rows)
    again = [replace(t) for t in rows]  # a refresh: new objects, the same manifests
    assert tracker.sync(again).frees_all(again) == first.frees_all(rows)
    assert len(ledger.added) == 7 and ledger.removed == []
    # One re-read tag now points at another manifest: only that changes.
    moved = [*again[:-1], image("t29", "sha256:new", ("sha256:base", 100), ("sha256:n", 9))]
    assert tracker.sync(moved).frees("t29") == 9
    assert ledger.added[7:] == ["sha256:new"]
    # Another repository's rows under the same name: the ledger starts over, figures right.
    other = [image(f"o{i}", f"sha256:o{i}", (f"sha256:x{i}", i + 1)) for i in range(40)]
    space = tracker.sync(other)
    assert tracker.ledger is not ledger
    assert space.frees_all(other) == [i + 1 for i in range(40)] and space.stored == stored(other)


def test_a_signed_repository_changes_incrementally_too() -> None:
    # A tagged signature's blobs are held by whatever keeps its subject. The ledger was rebuilt
    # from all rows on every change while a repository had one — and on every batch of a
    # listing (quadratic: ~1.1 s of CPU for 20,000 tags, ~30 s for 100,000). Now only the
    # roots keeping a subject are re-added, once, at the snapshot.
    rows = [
        image(f"t{i}", f"sha256:{i}", ("sha256:base", 100), (f"sha256:own{i}", i + 1))
        for i in range(50)
    ]
    signature = replace(
        image("sha256-0.sig", "sha256:sig0", ("sha256:sig-layer", 7)), subject="sha256:0"
    )
    rows.insert(5, signature)
    left = [r for r in rows if r.tag != "t3"]
    unsigned = [r for r in left if r is not signature]
    expected = [TagSpace.of(x).frees_all(x) for x in (rows, left, unsigned)]
    tracker = SpaceTracker()
    tracker.ledger = ledger = Recording()
    for end in range(10, 52, 10):
        tracker.feed(rows[:end])
    tracker.feed(rows)
    assert sorted(ledger.added) == sorted(r.digest for r in rows) and ledger.removed == []
    space = tracker.sync(rows)
    assert tracker.ledger is ledger, "not rebuilt"
    assert ledger.removed == ["sha256:0"] and ledger.added[-1] == "sha256:0"  # grown once
    assert space.frees_all(rows) == expected[0]
    assert space.frees("sha256-0.sig") == 0 and space.frees("t0") == 1  # kept while t0 is
    ledger.added.clear(), ledger.removed.clear()
    # A deletion: its root goes, nothing else moves.
    assert tracker.sync(left).frees_all(left) == expected[1]
    assert (ledger.added, ledger.removed) == ([], ["sha256:3"])
    # The signature deleted: its subject's root goes back to its own tree.
    assert tracker.sync(unsigned).frees_all(unsigned) == expected[2]
    assert ledger.removed[1:] == ["sha256:sig0", "sha256:0"] and ledger.added == ["sha256:0"]
    assert tracker.sync(unsigned).stored == TagSpace.of(unsigned).stored


def test_a_root_added_again_without_a_blob_is_not_left_holding_it() -> None:
    """The tracker removes a root and adds it again with a smaller tree when a referrer's blobs
    leave it. The root that added a blob last was taken for its only holder once the others
    went, though its new tree no longer names it: x's bytes were R's, and T, its real holder,
    was shown to free 1 byte instead of 11 (found by the from-nothing property tests)."""
    from regview.core.frees import BlobLedger

    ledger = BlobLedger()
    ledger.add("S", (("x", 10), ("s", 1)))
    ledger.add("T", (("x", 10), ("t", 1)))
    ledger.add("R", (("x", 10), ("r", 1)))  # x added last by R
    ledger.remove(["R"])
    ledger.add("R", (("r", 1),))  # R again, without x
    ledger.remove(["S"])  # x held by T alone
    assert ledger.alone() == {"T": 11, "R": 1}
    assert ledger.freed(["T"]) == {"x": 10, "t": 1}
