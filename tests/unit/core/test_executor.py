"""The executor over an in-memory registry: faults, re-verification, cancel, journal first."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from delete_fakes import FakeRegistry

from regview.core.deletion.executor import (
    Executor,
    Outcome,
    PortError,
    is_throwaway,
    throwaway_manifest,
)
from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    Method,
    PlanOptions,
    Selection,
    make_plan,
)
from regview.core.journal.journal import ItemState, Journal


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def many(n: int, tag_delete: bool = True) -> FakeRegistry:
    r = FakeRegistry(tag_delete=tag_delete)
    for i in range(n):
        r.tag(f"t{i:04d}", r.image(f"layer{i % 7}", f"img{i}"))
    return r


DENIED = {"t0007", "t0123", "t0321"}


async def test_five_hundred_tags_with_faults_every_item_accounted_then_rerun_finishes() -> None:
    r = many(520, tag_delete=False)  # throw-away path: push + delete per tag
    rng = random.Random(4)
    seen_429 = []

    def fault(op: str, ref: str) -> Exception | None:
        if op == "push" and ref in DENIED:  # always a few permanent failures: the draws below
            return PortError("denied", status=403)  # go to ops in a thread-dependent order
        x = rng.random()
        if x < 0.04:
            return PortError("503 from the registry", status=503, temporary=True)
        if x < 0.06:
            seen_429.append(ref)
            return PortError("429", status=429, temporary=True, retry_after=0.01)
        if x < 0.075:
            return PortError("connection reset", temporary=True)
        if x < 0.08 and op == "delete":
            return PortError("denied", status=403)  # permanent: the item fails
        return None

    r.fault = fault
    selected = {f"t{i:04d}" for i in range(500)}
    assert selected >= DENIED
    plan = make_plan(r.facts(), Selection.of_tags(selected))
    progress = []
    report = await Executor(r, concurrency=16, sleep=no_sleep, on_result=progress.append).run(plan)
    assert len(report.results) == 500 == len(progress)
    assert {x.name for x in report.results} == selected
    deleted = {x.name for x in report.deleted}
    failed = {x.name for x in report.failed}
    assert deleted | failed == selected and not deleted & failed
    assert seen_429
    assert failed >= DENIED
    assert all(t not in r.tags for t in deleted)
    # nothing outside the plan: the 20 unselected tags are untouched
    assert all(r.tags[f"t{i:04d}"] for i in range(500, 520))
    # a re-run with fresh facts finishes the job (leftover placeholders included)
    r.fault = None
    leftovers = {t for t in selected if t in r.tags}
    plan2 = make_plan(r.facts(), Selection.of_tags(leftovers))
    report2 = await Executor(r, sleep=no_sleep).run(plan2)
    assert report2.ok
    assert set(r.tags) == {f"t{i:04d}" for i in range(500, 520)}
    assert not any(is_throwaway(data) for _, data in r.manifests.values())


async def test_changed_since_the_plan_is_skipped() -> None:
    r = many(3)
    plan = make_plan(r.facts(), Selection.of_tags(["t0000", "t0001"]))
    r.tag("t0000", r.image("new"))
    del r.tags["t0001"]
    report = await Executor(r).run(plan)
    reasons = {x.name: (x.outcome, x.reason) for x in report.results}
    assert (
        reasons["t0000"][0] is Outcome.SKIPPED and "changed since the plan" in reasons["t0000"][1]
    )
    assert reasons["t0001"][0] is Outcome.SKIPPED and "no longer exists" in reasons["t0001"][1]
    assert "t0000" in r.tags and r.log == []


async def test_interrupted_throwaway_is_finished_by_a_rerun() -> None:
    r = many(2, tag_delete=False)
    plan = make_plan(r.facts(), Selection.of_tags(["t0000"]))
    data = throwaway_manifest()
    await r.push_manifest(r.repository, "t0000", data, "application/vnd.oci.image.index.v1+json")
    report = await Executor(r).run(plan)
    assert [x.outcome for x in report.results] == [Outcome.DELETED]
    assert "t0000" not in r.tags and "t0001" in r.tags


async def test_cancel_lets_in_flight_finish_and_reports_the_rest() -> None:
    r = many(40)
    plan = make_plan(r.facts(), Selection.of_tags(r.tags))
    gate = asyncio.Event()
    orig = r.delete_manifest

    async def slow_delete(repo: str, ref: str) -> None:
        await gate.wait()
        await orig(repo, ref)

    r.delete_manifest = slow_delete  # type: ignore[method-assign]
    ex = Executor(r, concurrency=4)
    task = asyncio.create_task(ex.run(plan))
    await asyncio.sleep(0.05)
    ex.cancel()
    gate.set()
    report = await task
    assert report.cancelled
    assert len(report.deleted) == 4
    assert len(report.not_started) == 36
    assert len(r.tags) == 36
    entry = Journal().load(report.journal_id)
    assert entry.status == "cancelled"
    assert entry.counts() == {ItemState.DELETED: 4, ItemState.NOT_STARTED: 36}


async def test_journal_is_written_before_each_delete_and_manifests_saved() -> None:
    r = many(3)
    journal = Journal()
    seen: list[str] = []
    orig = r.delete_manifest

    async def checking_delete(repo: str, ref: str) -> None:
        (jid,) = journal.ids()
        entry = journal.load(jid)
        item = entry.items[f"tag:{ref}"]
        assert item.state == ItemState.STARTED and item.saved
        assert journal.manifest(jid, item.digest) is not None
        seen.append(ref)
        await orig(repo, ref)

    r.delete_manifest = checking_delete  # type: ignore[method-assign]
    plan = make_plan(r.facts(), Selection.of_tags(["t0000", "t0002"]))
    report = await Executor(r, journal).run(plan)
    assert report.ok and sorted(seen) == ["t0000", "t0002"]


async def test_refused_plan_does_nothing() -> None:
    r = many(2)
    r.delete_enabled = False
    caps = Capabilities(DeleteSupport.DISABLED, detail="learnt: 405 UNSUPPORTED")
    plan = make_plan(r.facts(caps), Selection.of_tags(["t0000"]))
    report = await Executor(r).run(plan)
    assert report.refusal and report.results == [] and r.log == []
    assert Journal().ids() == []


async def test_refused_tag_delete_falls_back_to_throwaway_for_the_rest_of_the_run() -> None:
    """Capabilities are guessed without probes, so the first real deletion corrects a wrong
    guess: distribution 2.8 answers a tag delete with 400 DIGEST_INVALID. That tag and every
    later one go by the throw-away manifest; the tag delete is asked once, and remembered."""
    r = FakeRegistry(tag_delete=False)
    d = r.image("l1")
    for t in ("a", "b", "c", "keep"):
        r.tag(t, d)
    caps = Capabilities(DeleteSupport.ALLOWED, tag_delete=True)  # the (wrong) guess
    plan = make_plan(r.facts(caps), Selection.of_tags(["a", "b", "c"]))
    assert {a.method for a in plan.tag_actions} == {Method.TAG_DELETE}
    report = await Executor(r, concurrency=1).run(plan)
    assert report.ok, [x.reason for x in report.results]
    assert sorted(r.tags) == ["keep"] and r.tags["keep"] == d  # the sibling stayed
    assert {x.method for x in report.results} == {"throwaway"}
    tag_deletes = [ref for op, ref in r.log if op == "delete" and not ref.startswith("sha256:")]
    assert tag_deletes == []  # the refused one is not in the log: it changed nothing
    assert r.learnt and r.learnt[0]["tag_delete"] is False


async def test_deletion_disabled_puts_the_tag_back_and_stops() -> None:
    """The throw-away placeholder's delete answered 405 UNSUPPORTED: deletion is off. The tag is
    pushed back onto its manifest (nothing was deleted) and no other item is attempted."""
    r = FakeRegistry(tag_delete=False, delete_enabled=False)
    d = r.image("l1")
    for t in ("a", "b", "keep"):
        r.tag(t, d)
    plan = make_plan(r.facts(Capabilities(can_push=True)), Selection.of_tags(["a", "b"]))
    assert {a.method for a in plan.tag_actions} == {Method.THROWAWAY}
    report = await Executor(r, concurrency=1).run(plan)
    assert not report.ok
    assert r.tags == {"a": d, "b": d, "keep": d}  # every tag where it was
    first, second = sorted(report.results, key=lambda x: x.name)
    assert "put back" in first.reason and "does not allow deleting" in first.reason
    assert "not attempted" in second.reason
    assert [op for op, ref in r.log if ref == "b"] == []  # b: no request changed anything
    assert r.learnt[-1]["deletion_disabled"] is True


async def test_manifests_wait_for_their_tags_and_parents(tmp_path: Path) -> None:
    r = FakeRegistry()
    amd, arm = r.image("l1"), r.image("l2")
    multi = r.index(amd, arm)
    r.tag("multi", multi)
    r.tag("other", r.image("l3"))
    plan = make_plan(r.facts(), Selection.of_tags(["multi"]), PlanOptions(delete_manifests=True))
    assert len(plan.manifest_actions) == 3
    r.fault = lambda op, ref: PortError("no", status=403) if ref == "multi" else None
    report = await Executor(r).run(plan)
    outcomes = {x.name: x.outcome for x in report.results}
    assert outcomes["multi"] is Outcome.FAILED
    assert outcomes[multi] is Outcome.SKIPPED and outcomes[amd] is Outcome.SKIPPED
    assert set(r.manifests) >= {multi, amd, arm}
    r.fault = None
    report = await Executor(r).run(plan)
    assert report.ok and not {multi, amd, arm} & set(r.manifests)


def test_throwaway_manifests_are_unique() -> None:
    a, b = throwaway_manifest(), throwaway_manifest()
    assert a != b and is_throwaway(a) and not is_throwaway(b"{}") and not is_throwaway(b"x")


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Executor(many(1), concurrency=0)


async def test_cancel_does_not_wait_on_items_in_flight_retrying() -> None:
    """Found walking the app: after Cancel, "Stopping…" went on while each item in flight
    retried a registry that had stopped answering. A failed request is not tried again once
    the run is cancelled; items nothing was sent for are reported not started."""
    r = many(40)
    plan = make_plan(r.facts(), Selection.of_tags(r.tags))
    reads: list[str] = []

    def fault(op: str, ref: str) -> Exception | None:
        if op == "fetch":
            reads.append(ref)
            return PortError("503 from the registry", status=503, temporary=True)
        return None

    r.fault = fault
    ex = Executor(r, concurrency=4, item_attempts=5)

    waiting: list[None] = []
    release = asyncio.Event()

    async def wait_to_try_again(_: float) -> None:
        waiting.append(None)
        if len(waiting) == 4:  # every item in flight waits to try again: Cancel is pressed
            ex.cancel()
            release.set()
        await release.wait()

    ex._sleep = wait_to_try_again
    report = await ex.run(plan)
    assert report.cancelled
    assert len(report.results) == 40 and not report.deleted
    assert len(reads) == 4, reads  # one GET per item in flight, none tried again
    assert len(report.failed) == 4  # a 503 is the registry's answer: those failed, and say so
    assert all("503" in x.reason for x in report.failed)
    assert len(report.not_started) == 36
    assert len(r.tags) == 40  # nothing deleted
