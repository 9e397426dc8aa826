"""Issue 16: an item is reported from what the registry holds, read back, whenever its deleting
request got no clean answer — never from the last error alone.

Scripted faults over the in-memory registry (`delete_fakes.FakeRegistry`): "lost" lets the
registry act and then raises a temporary error (the reply never arrived), "503" raises one
without acting. Each test names the bug it pins; all of them fail on the code before issue 16
(it reported the last error: "placeholder … could not be deleted", "failed").
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from delete_fakes import FakeRegistry

from regview.core.deletion.executor import Executor, Outcome, PortError, Status, is_throwaway
from regview.core.deletion.plan import Capabilities, DeleteSupport, Method, Selection, make_plan
from regview.core.deletion.resume import plan_of, resume, why_not
from regview.core.journal.journal import ItemState, Journal

NO_TAG_DELETE = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=False)


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


class Scripted(FakeRegistry):
    """`script[(op, ref)]` is consumed one step per call: "lost", "503" or "ok". A ref of
    "placeholder" matches any throw-away digest."""

    script: dict[tuple[str, str], list[str]]

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.script = {}
        self.placeholders: set[str] = set()  # every throw-away digest ever pushed

    def _step(self, op: str, ref: str) -> str:
        key = (op, ref)
        if key not in self.script and ref in self.placeholders:
            key = (op, "placeholder")
        steps = self.script.get(key)
        return steps.pop(0) if steps else "ok"

    async def _run(self, op: str, ref: str, call: Callable[[], Awaitable[None]]) -> None:
        step = self._step(op, ref)
        if step == "503":
            raise PortError(f"{op} {ref}: HTTP 503", status=503, temporary=True)
        await call()
        if step == "lost":
            raise PortError(f"{op} {ref}: connection reset, no reply", temporary=True)

    async def delete_manifest(self, repository: str, reference: str) -> None:
        parent = super().delete_manifest
        await self._run("delete", reference, lambda: parent(repository, reference))

    async def gitlab_delete_tag(self, project_id: int, repository_id: int, tag: str) -> None:
        parent = super().gitlab_delete_tag
        await self._run("gitlab", tag, lambda: parent(project_id, repository_id, tag))

    async def push_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str:
        step = self._step("push", reference)
        if step == "503":
            raise PortError("push: HTTP 503", status=503, temporary=True)
        d = await super().push_manifest(repository, reference, data, media_type)
        if is_throwaway(data):
            self.placeholders.add(d)
        if step == "lost":
            raise PortError("push: connection reset, no reply", temporary=True)
        return d


def registry(tag_delete: bool = True) -> Scripted:
    r = Scripted(tag_delete=tag_delete)
    shared = r.image("l-shared")
    r.tag("a", shared)
    r.tag("keep", shared)  # shares a's manifest: a goes by tag delete or placeholder
    r.tag("b", r.image("l-b"))
    return r


async def run(
    r: Scripted, tags: list[str], tmp: Path, caps: Capabilities | None = None
) -> tuple[Journal, dict[str, object]]:
    journal = Journal()
    plan = make_plan(r.facts(caps), Selection.of_tags(tags))
    report = await Executor(r, journal, sleep=no_sleep, item_attempts=3).run(plan)
    return journal, {"report": report, "by": {x.name: x for x in report.results}}


async def test_placeholder_delete_lost_then_503s_is_deleted_verified(tmp_path: Path) -> None:
    """The issue's bug: the placeholder's DELETE went through with its reply lost, the retries
    met 503s; the old code said "now points at a placeholder … could not be deleted" about a tag
    that was gone."""
    r = registry(tag_delete=False)
    r.script[("delete", "placeholder")] = ["lost", "503", "503"]
    _j, got = await run(r, ["a"], tmp_path, NO_TAG_DELETE)
    a = got["by"]["a"]  # type: ignore[index]
    assert a.method == str(Method.THROWAWAY)
    assert "a" not in r.tags and r.tags["keep"]  # the truth
    assert a.outcome is Outcome.DELETED and a.verdict is Status.DELETED_VERIFIED, a
    assert "HEAD a → 404" in a.evidence and "503" in a.evidence
    assert a.verdict.label == "deleted (reply lost; verified)"


async def test_placeholder_left_gets_one_more_delete(tmp_path: Path) -> None:
    """Retries exhausted on a placeholder really still there: one more delete of it first."""
    r = registry(tag_delete=False)
    r.script[("delete", "placeholder")] = ["503", "503", "503"]  # then "ok"
    _j, got = await run(r, ["a"], tmp_path, NO_TAG_DELETE)
    a = got["by"]["a"]  # type: ignore[index]
    assert "a" not in r.tags
    assert a.verdict is Status.DELETED_VERIFIED and "second try" in a.evidence, a


async def test_placeholder_that_stays_is_reported_as_such(tmp_path: Path) -> None:
    r = registry(tag_delete=False)
    r.script[("delete", "placeholder")] = ["503"] * 6
    journal, got = await run(r, ["a"], tmp_path, NO_TAG_DELETE)
    a = got["by"]["a"]  # type: ignore[index]
    assert is_throwaway(r.manifests[r.tags["a"]][1])  # the truth: on a placeholder
    assert a.outcome is Outcome.FAILED and a.verdict is Status.PLACEHOLDER, a
    assert "placeholder" in a.evidence and "once more failed" in a.evidence
    # a resume finishes it (the placeholder is regview's own: removed, nothing else touched)
    report = got["report"]
    again = await resume(Executor(r, journal, sleep=no_sleep), journal, report.journal_id)  # type: ignore[attr-defined]
    assert "a" not in r.tags and again.all_gone and "keep" in r.tags


async def test_tag_delete_lost_then_503s_is_deleted_verified(tmp_path: Path) -> None:
    r = registry()
    r.script[("delete", "a")] = ["lost", "503", "503"]
    _j, got = await run(r, ["a"], tmp_path)
    a = got["by"]["a"]  # type: ignore[index]
    assert "a" not in r.tags
    assert a.verdict is Status.DELETED_VERIFIED and a.outcome is Outcome.DELETED, a


async def test_503s_only_is_not_deleted_with_evidence(tmp_path: Path) -> None:
    r = registry()
    r.script[("delete", "a")] = ["503"] * 3
    _j, got = await run(r, ["a"], tmp_path)
    a = got["by"]["a"]  # type: ignore[index]
    assert r.tags["a"] == r.tags["keep"]  # unchanged
    assert a.verdict is Status.NOT_DELETED and "the planned digest" in a.evidence, a
    report = got["report"]
    doc = report.to_json()  # type: ignore[attr-defined]
    assert doc["verified"] is False and doc["totals"]["not_deleted"] == 1
    assert doc["failed"][0]["status"] == "not-deleted" and doc["failed"][0]["evidence"]


async def test_push_lost_then_503s_reads_back_and_finishes(tmp_path: Path) -> None:
    """The placeholder push landed, its reply lost and the retries failed: the old code called
    the tag failed while it pointed at a placeholder; now the read-back finds the placeholder
    and removes it."""
    r = registry(tag_delete=False)
    r.script[("push", "a")] = ["lost", "503", "503"]
    _j, got = await run(r, ["a"], tmp_path, NO_TAG_DELETE)
    a = got["by"]["a"]  # type: ignore[index]
    assert "a" not in r.tags and "keep" in r.tags
    assert a.verdict is Status.DELETED_VERIFIED and "placeholder" in a.evidence, a


async def test_digest_group_lost_reply_verified_per_tag(tmp_path: Path) -> None:
    r = registry()
    d = r.tags["b"]
    r.tag("b2", d)
    r.script[("delete", d)] = ["lost", "503", "503"]
    # a registry without tag delete that may not push: delete by digest
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=False, can_push=False)
    plan = make_plan(r.facts(caps), Selection.of_tags(["b", "b2"]))
    assert {a.method for a in plan.tag_actions} == {Method.DIGEST}
    journal = Journal()
    report = await Executor(r, journal, sleep=no_sleep).run(plan)
    assert {x.verdict for x in report.results if x.kind == "tag"} == {Status.DELETED_VERIFIED}
    assert "b" not in r.tags and "b2" not in r.tags


async def test_resume_acts_only_on_what_is_left_and_skips_changed(tmp_path: Path) -> None:
    r = registry()
    r.tag("c", r.image("l-c"))
    r.tag("d", r.image("l-d"))
    r.script[("delete", "b")] = ["503"] * 3
    r.script[("delete", "c")] = ["503"] * 3
    journal, got = await run(r, ["a", "b", "c", "d"], tmp_path)
    report = got["report"]
    entry = journal.load(report.journal_id)  # type: ignore[attr-defined]
    assert {i.name for i in entry.unfinished()} == {"b", "c"}
    assert why_not(entry) == "" and plan_of(entry).repository == r.repository
    # c is re-pushed elsewhere meanwhile: the resume must leave it alone and say so
    r.tag("c", r.image("l-c-new"))
    r.log.clear()
    again = await resume(Executor(r, journal, sleep=no_sleep), journal, entry.id)
    by = {x.name: x for x in again.results}
    assert by["b"].verdict is Status.DELETED and "b" not in r.tags
    assert by["c"].verdict is Status.CHANGED and "changed since the plan" in by["c"].reason
    assert "c" in r.tags
    assert by["a"].reason.startswith("done in the earlier run")  # no request for a and d
    assert r.log == [("delete", "b")]
    entry = journal.load(entry.id)
    assert entry.status == "finished" and not entry.unfinished()
    assert why_not(entry).startswith("nothing is left")
    assert entry.items["tag:b"].state == ItemState.DELETED


async def test_cancelled_run_resumes_and_a_resume_killed_midway_is_pending_again(
    tmp_path: Path,
) -> None:
    r = Scripted()
    for i in range(6):
        r.tag(f"c{i}", r.image(f"l-c{i}"))
    journal = Journal()
    plan = make_plan(r.facts(), Selection.of_tags([f"c{i}" for i in range(6)]))
    ex = Executor(r, journal, sleep=no_sleep, concurrency=1)
    ex_results: list[object] = []

    def stop_after_two(result: object) -> None:
        ex_results.append(result)
        if len(ex_results) == 2:
            ex.cancel()

    ex._on_result = stop_after_two
    report = await ex.run(plan)
    assert report.cancelled and len(report.not_started) == 4
    entry = journal.load(report.journal_id)
    assert entry.status == "cancelled" and len(entry.unfinished()) == 4
    # a resume that dies before its end: the entry is pending (unfinished) again
    writer = journal.reopen(entry.id)
    writer.started("tag:c2")
    assert writer._fd is not None
    os.close(writer._fd)  # killed: no outcome, no end (the process's descriptor just goes)
    writer._fd = None
    entry = journal.load(entry.id)
    assert entry.is_pending and entry in journal.pending()
    assert entry.items["tag:c2"].sent and not entry.items["tag:c2"].is_done
    again = await resume(Executor(r, journal, sleep=no_sleep), journal, entry.id)
    assert again.all_gone and not r.tags
    assert journal.load(entry.id).status == "finished"
