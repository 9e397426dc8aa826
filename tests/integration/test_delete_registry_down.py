"""A registry that dies during a deletion (found walking the app: 116 tags, the registry killed
0.25 s into the run, and the run went on one item at a time for ~45 s, each failing "cannot
reach the registry"). After a few requests in a row get no answer at all the executor stops
sending: every remaining item is reported not started with why, the journal entry is left to
resume, and a resume against the registry once it is back finishes the run. Every tag is
accounted for; nothing outside the plan is touched."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from tiny_images import seed_tiny_tags, snapshot

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Executor, ItemResult, Outcome
from regview.core.deletion.plan import Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry

pytestmark = pytest.mark.integration
REPO = "team/app"
ASKED = 116
KEPT = 4


async def test_registry_dying_mid_run_stops_the_run_then_resume_finishes(tmp_path: Path) -> None:
    data = tmp_path / "local"
    reg = LocalRegistry(data)
    url = reg.start()
    try:
        async with RegistryClient(Endpoint(url)) as direct:
            await seed_tiny_tags(direct, REPO, ASKED + KEPT)
            before = await snapshot(direct, REPO)
        asked = {f"t{i:04d}" for i in range(ASKED)}
        journal = Journal()
        seen: list[ItemResult] = []
        five = asyncio.Event()

        def heard(result: ItemResult) -> None:
            seen.append(result)
            if len(seen) >= 5:  # some deleted, most still to go
                five.set()

        async with RegistryClient(Endpoint(url)) as client:
            port = ClientPort(client)
            plan = make_plan(await gather_facts(port, REPO), Selection.of_tags(asked))
            assert len(plan.tag_actions) == ASKED
            executor = Executor(port, journal, concurrency=8, on_result=heard)
            run = asyncio.ensure_future(executor.run(plan))
            await asyncio.wait_for(five.wait(), 30)
            await asyncio.to_thread(reg.stop)
            stopped_at = time.monotonic()
            # how far the run got while the registry was shutting down: on a loaded machine
            # that takes a while, and the run rightly deletes on meanwhile
            settled_before_death = len(seen)
            report = await asyncio.wait_for(run, 60)
            took = time.monotonic() - stopped_at
    finally:
        if reg.registry is not None:
            reg.stop()

    # every asked tag once, nothing else
    assert sorted(r.name for r in report.results if r.kind == "tag") == sorted(asked)
    assert "cannot reach the registry" in report.stopped, report.stopped
    not_started = [r for r in report.results if r.outcome is Outcome.NOT_STARTED]
    failed = [r for r in report.results if r.outcome is Outcome.FAILED]
    # the run stopped sending: of what was left when the registry had died, all but the few
    # in flight and the unanswered streak were never started, and say why (before the fix:
    # none, every remaining item failed one at a time)
    left = ASKED - settled_before_death
    assert left > 3 * 8, f"the registry took too long to stop ({left} items left): not exercised"
    assert len(not_started) >= left - 3 * 8, (left, len(not_started), len(failed))
    for r in not_started:
        assert r.reason.startswith("not started: the registry stopped answering ("), r.reason
        assert "resume" in r.reason
    # the failures are the few in flight when it died, not one per remaining item
    assert len(failed) <= 3 * 8, [r.reason for r in failed]
    assert took < 30, took
    assert report.to_json()["stopped"] == report.stopped
    entry = journal.load(report.journal_id)
    assert entry.status == "stopped"

    # the registry is back (same data, a new port): a resume finishes the run
    with LocalRegistry(data) as again:
        async with RegistryClient(Endpoint(again.url)) as client:
            resumed = await Executor(ClientPort(client), journal, concurrency=8).run(
                plan, resume=journal.load(report.journal_id)
            )
            after = await snapshot(client, REPO)
    assert not resumed.stopped and not resumed.not_started and not resumed.failed
    assert set(after) == set(before) - asked  # every asked tag gone, the kept ones stay
    assert all(after[t] == before[t] for t in after)
