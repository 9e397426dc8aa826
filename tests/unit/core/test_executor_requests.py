"""What the executor sends per tag: one GET by tag (re-verifies and gives the bytes to keep) and
the deleting request — no separate HEAD — and the journal's off-loop manifest saving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from delete_fakes import FakeRegistry

from regview.core.deletion.executor import Executor, Outcome
from regview.core.deletion.plan import Capabilities, DeleteSupport, Method, Selection, make_plan
from regview.core.journal.journal import Journal, JournalError
from regview.paths import default_paths


def recording(r: FakeRegistry) -> list[tuple[str, str]]:
    ops: list[tuple[str, str]] = []

    def fault(op: str, ref: str) -> None:
        ops.append((op, ref))

    r.fault = fault
    return ops


async def test_tag_delete_costs_one_get_and_one_delete_per_tag() -> None:
    r = FakeRegistry(tag_delete=True)
    for i in range(20):
        r.tag(f"t{i:02d}", r.image(f"img{i}"))
    r.tag("twin", r.tags["t00"])  # shares a manifest: still one GET of its own
    plan = make_plan(r.facts(), Selection.of_tags([*r.tags]))
    ops = recording(r)
    journal = Journal()
    report = await Executor(r, journal, concurrency=4).run(plan)
    assert report.ok and len(report.deleted) == 21
    tags = [a.tag for a in plan.tag_actions]
    assert sorted(ops) == sorted([("fetch", t) for t in tags] + [("delete", t) for t in tags])
    for a in plan.tag_actions:  # every deleted tag's bytes are in the recycle bin
        assert journal.manifest(report.journal_id, a.digest) is not None


async def test_digest_group_verifies_every_tag_then_deletes_once() -> None:
    r = FakeRegistry(tag_delete=False)
    shared = r.image("shared")
    r.tag("a", shared)
    r.tag("b", shared)
    r.tag("keep", r.image("other"))
    caps = Capabilities(DeleteSupport.ALLOWED, tag_delete=False, can_push=False)
    plan = make_plan(r.facts(caps), Selection.of_tags(["a", "b"]))
    assert {str(a.method) for a in plan.tag_actions} == {str(Method.DIGEST)}
    ops = recording(r)
    report = await Executor(r).run(plan)
    assert report.ok, report.results
    assert sorted(ops) == [("delete", shared), ("fetch", "a"), ("fetch", "b")]
    assert set(r.tags) == {"keep"}


async def test_a_tag_moved_after_the_plan_is_not_deleted_nor_saved_under_the_old_digest() -> None:
    r = FakeRegistry(tag_delete=True)
    old = r.image("old")
    r.tag("t", old)
    plan = make_plan(r.facts(), Selection.of_tags(["t"]))
    new = r.image("new")
    r.tag("t", new)
    journal = Journal()
    report = await Executor(r, journal).run(plan)
    assert [x.outcome for x in report.results] == [Outcome.SKIPPED]
    assert r.tags == {"t": new} and r.log == []
    assert journal.manifest(report.journal_id, old) is None


async def test_keep_manifest_is_durable_once_and_shared_by_concurrent_callers(
    tmp_path: Path,
) -> None:
    journal = Journal(default_paths(tmp_path))
    writer = journal.begin("r.local", "a/b", [], {})
    digest = "sha256:" + "ab" * 32
    await asyncio.gather(*(writer.keep_manifest(digest, "text/x", b"bytes") for _ in range(5)))
    assert writer.has_manifest(digest)
    assert journal.manifest(writer.id, digest) == (b"bytes", "text/x")
    names = sorted(p.name for p in (journal.trash_dir / writer.id).iterdir())
    assert names == [f"sha256-{'ab' * 32}", f"sha256-{'ab' * 32}.type"]  # no temp files left
    writer.close("finished")


async def test_keep_manifest_failure_is_reported_to_every_waiter(tmp_path: Path) -> None:
    journal = Journal(default_paths(tmp_path))
    writer = journal.begin("r.local", "a/b", [], {})
    trash = journal.trash_dir / writer.id
    trash.rmdir()
    trash.write_text("not a directory")  # every write below fails
    digest = "sha256:" + "cd" * 32
    results = await asyncio.gather(
        *(writer.keep_manifest(digest, "text/x", b"x") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(x, JournalError) for x in results), results
    assert not writer.has_manifest(digest)
    with pytest.raises(JournalError):
        await writer.keep_manifest(digest, "text/x", b"x")  # retried, not cached as done
    writer.close("finished")
