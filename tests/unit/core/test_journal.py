"""Journal and recycle bin: state survives a stop mid-run; restore puts tags back while blobs
exist and says why when it cannot."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from delete_fakes import FakeRegistry

from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import PlanOptions, Selection, make_plan
from regview.core.journal.journal import ItemState, Journal, JournalBusy, JournalItem, restore


def _state() -> tuple[FakeRegistry, dict[str, str]]:
    r = FakeRegistry(tag_delete=False)
    amd, arm = r.image("l1", "base"), r.image("l2", "base")
    multi = r.index(amd, arm)
    sig = r.image(subject=multi, artifact_type="sig")
    r.tag("multi", multi)
    r.tag("multi-copy", multi)
    r.tag("solo", r.image("l3"))
    r.tag("keep", r.image("base"))
    return r, {"multi": multi, "amd": amd, "arm": arm, "sig": sig}


async def test_delete_everything_then_restore_everything() -> None:
    r, d = _state()
    before_tags = dict(r.tags)
    before_manifests = set(r.manifests)
    plan = make_plan(
        r.facts(),
        Selection.of_tags(["multi", "multi-copy", "solo"]),
        PlanOptions(delete_manifests=True, delete_referrers=True),
    )
    journal = Journal()
    report = await Executor(r, journal).run(plan)
    assert report.ok
    assert set(r.tags) == {"keep"} and d["multi"] not in r.manifests and d["sig"] not in r.manifests
    (entry,) = journal.entries()
    assert entry.status == "finished"
    assert sorted(i.name for i in entry.deleted_tags()) == ["multi", "multi-copy", "solo"]

    results = await restore(journal, entry.id[:10], r)
    assert all(x.restored for x in results), results
    assert r.tags == before_tags
    assert set(r.manifests) >= before_manifests
    entry = journal.load(entry.id)
    assert all(i.state == ItemState.RESTORED for i in entry.items.values())


async def test_restore_refuses_when_blobs_are_gone_or_tag_moved() -> None:
    r, d = _state()
    plan = make_plan(
        r.facts(),
        Selection.of_tags(["solo", "multi", "multi-copy"]),
        PlanOptions(delete_manifests=True),
    )
    journal = Journal()
    await Executor(r, journal).run(plan)
    # garbage collection took l3 (solo's layer); someone pushed a new "multi-copy"
    del r.blobs[r.blob("l3")]
    r.tag("multi-copy", r.image("base", "new"))
    (entry,) = journal.entries()
    results = {x.name: x for x in await restore(journal, entry.id, r)}
    assert not results["solo"].restored and "no longer in" in results["solo"].reason
    assert "garbage-collected" in results["solo"].reason
    assert not results["multi-copy"].restored and "now points at" in results["multi-copy"].reason
    assert results["multi"].restored and r.tags["multi"] == d["multi"]
    assert "solo" not in r.tags


async def test_restore_one_tag_only() -> None:
    r, _ = _state()
    plan = make_plan(r.facts(), Selection.of_tags(["solo", "keep"]))
    journal = Journal()
    await Executor(r, journal).run(plan)
    (entry,) = journal.entries()
    results = await restore(journal, entry.id, r, tags=["keep"])
    assert [x.name for x in results] == ["keep"] and "keep" in r.tags and "solo" not in r.tags


def test_killed_run_is_pending_with_accurate_state() -> None:
    journal = Journal()
    items = [JournalItem(f"tag:t{i}", "tag", f"t{i}", "sha256:" + "a" * 64, "x") for i in range(3)]
    w = journal.begin("reg", "app", items)
    w.save_manifest("sha256:" + "a" * 64, "x", b"{}")
    w.started("tag:t0")
    w.outcome("tag:t0", ItemState.DELETED)
    w.started("tag:t1")
    # the process dies here: no close() (its descriptor, and the run's lock, go with it); a
    # torn half line is on disk
    assert w._fd is not None
    os.close(w._fd)
    events = journal.journal_dir / f"{w.id}.events"
    with events.open("a") as f:
        f.write('{"k":"tag:t2","s":"del')
    (entry,) = journal.pending()
    states = {i.name: i.state for i in entry.items.values()}
    assert states == {"t0": ItemState.DELETED, "t1": ItemState.STARTED, "t2": ItemState.PLANNED}
    assert "interrupted" in entry.items["tag:t1"].reason
    assert [i.name for i in entry.deleted_tags()] == ["t0", "t1"]  # t1: may have gone


def test_expiry_keeps_recent_and_running_entries() -> None:
    journal = Journal(retention=timedelta(days=30))
    now = datetime(2025, 6, 1, tzinfo=UTC)
    old = journal.begin("reg", "app", [], now=now - timedelta(days=31))
    old.close("finished")
    running = journal.begin("reg", "app", [], now=now - timedelta(days=40))
    recent = journal.begin("reg", "app", [], now=now - timedelta(days=2))
    recent.close("finished")
    assert journal.expire(now) == [old.id]
    assert sorted(journal.ids()) == sorted([running.id, recent.id])
    assert not (journal.trash_dir / old.id).exists()


def test_a_running_entry_is_held_not_pending_and_not_resumable() -> None:
    """A run going on now (its writer open, in this or another process) is not reported as
    interrupted, and a resume cannot reopen it; once the writer is gone, both can."""
    journal = Journal()
    w = journal.begin("reg", "app", [])
    assert journal.busy(w.id) and journal.pending() == []
    with pytest.raises(JournalBusy, match="running right now"):
        journal.reopen(w.id)
    assert w._fd is not None
    os.close(w._fd)  # the process is killed
    w._fd = None
    assert not journal.busy(w.id) and [e.id for e in journal.pending()] == [w.id]
    again = journal.reopen(w.id)
    assert journal.busy(w.id)
    again.close("finished")
    assert journal.load(w.id).status == "finished" and not journal.busy(w.id)
