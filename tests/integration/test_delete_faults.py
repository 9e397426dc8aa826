"""A 500-tag batch through a faulty proxy (5xx, 429 + Retry-After, connection resets, answers
lost after the registry acted): every item accounted for, nothing outside the plan touched, a
re-run finishes the job. And a process killed mid-batch: the journal shows it, restore undoes it.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from fault_servers import forward
from loop_server import serve_here
from tiny_images import seed_tiny_tags, snapshot

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import ItemState, Journal, restore
from regview.core.model import Endpoint

pytestmark = pytest.mark.integration
REPO = "team/app"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[str]:
    from regview.server.runner import LocalRegistry

    with LocalRegistry(tmp_path / "local") as reg:
        yield reg.url


class FaultProxy:
    def __init__(self, upstream: str, rate: float, seed: int = 7) -> None:
        self.upstream = upstream
        self.rate = rate
        self.rng = random.Random(seed)
        self.faults: dict[str, int] = {}
        self.mutations: list[tuple[str, str]] = []  # what reached the registry
        self.lost_deletes: set[str] = set()  # DELETEs the registry applied, answer dropped
        self.session: aiohttp.ClientSession | None = None

    def _pick(self) -> str:
        if self.rng.random() >= self.rate:
            return ""
        kind = self.rng.choice(["503", "500", "429", "reset", "lost"])
        self.faults[kind] = self.faults.get(kind, 0) + 1
        return kind

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fault = self._pick() if request.method in ("DELETE", "HEAD", "GET", "PUT") else ""
        if fault in ("503", "500"):
            return web.Response(status=int(fault), text='{"errors":[{"code":"UNAVAILABLE"}]}')
        if fault == "429":
            return web.Response(status=429, headers={"Retry-After": "0"}, text="{}")
        if fault == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        assert self.session is not None
        answer = await forward(self.session, self.upstream, request)
        if request.method in ("DELETE", "PUT") and answer.status < 300:
            self.mutations.append((request.method, request.path))
        if fault == "lost":  # the registry acted; the answer never arrives
            if request.method == "DELETE" and answer.status < 300:
                self.lost_deletes.add(request.path.rsplit("/", 1)[-1])
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        return answer


@pytest.fixture
async def proxy(upstream: str) -> AsyncIterator[tuple[FaultProxy, str]]:
    fp = FaultProxy(upstream, rate=0.0)
    fp.session = aiohttp.ClientSession(auto_decompress=False)
    try:
        async with serve_here(fp.handle) as url:
            yield fp, url
    finally:
        await fp.session.close()


async def _seed(client: RegistryClient, n: int) -> dict[str, str]:
    await seed_tiny_tags(client, REPO, n)
    return await snapshot(client, REPO)


@pytest.mark.slow
async def test_500_tags_through_faults(proxy: tuple[FaultProxy, str], upstream: str) -> None:
    fp, url = proxy
    async with RegistryClient(Endpoint(upstream)) as direct:
        before = await _seed(direct, 520)
    selected = {f"t{i:04d}" for i in range(500)}
    async with RegistryClient(Endpoint(url)) as client:
        port = ClientPort(client)
        facts = await gather_facts(port, REPO)
        plan = make_plan(facts, Selection.of_tags(selected))
        fp.rate = 0.08
        seen = []
        report = await Executor(port, concurrency=8, on_result=seen.append, backoff=0.01).run(plan)
        fp.rate = 0.0
    assert {r.name for r in report.results} == selected == {r.name for r in seen}
    assert len(report.results) == 500
    assert fp.faults.get("lost") and fp.faults.get("reset") and fp.faults.get("429")
    # a DELETE whose answer was lost is retried, finds the tag gone, and says so
    assert fp.lost_deletes, "the seed gave no lost DELETE answer: change the seed"
    for r in report.deleted:
        assert ("reply was lost" in r.reason) == (r.name in fp.lost_deletes), r
    # only planned tags were ever deleted
    deleted_paths = {p.rsplit("/", 1)[-1] for m, p in fp.mutations if m == "DELETE"}
    assert deleted_paths <= selected
    assert not deleted_paths & {f"t{i:04d}" for i in range(500, 520)}
    async with RegistryClient(Endpoint(upstream)) as direct:
        now = await snapshot(direct, REPO)
        assert all(now[t] == before[t] for t in now)
        assert {f"t{i:04d}" for i in range(500, 520)} <= set(now)
        deleted = {r.name for r in report.deleted}
        assert not deleted & set(now), "reported deleted but still there"
        # a re-run (fresh facts, no faults) finishes the job
        leftover = set(now) & selected
        port = ClientPort(direct)
        plan2 = make_plan(await gather_facts(port, REPO), Selection.of_tags(leftover))
        assert (await Executor(port).run(plan2)).ok
        assert set(await direct.list_tags(REPO)) == {f"t{i:04d}" for i in range(500, 520)}


ROOT = Path(__file__).resolve().parents[2]


def _run_and_kill(script: Path, after: int) -> int:
    """Run the script; SIGKILL it once it reported `after` finished items."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    done = 0
    deadline = time.monotonic() + 60
    while done < after and time.monotonic() < deadline:
        if proc.stdout.readline():
            done += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    return done


@pytest.mark.slow
async def test_killed_mid_batch_then_restore(upstream: str, tmp_path: Path) -> None:
    async with RegistryClient(Endpoint(upstream)) as client:
        before = await _seed(client, 300)
    script = tmp_path / "victim.py"
    script.write_text(
        textwrap.dedent(f"""
        import asyncio
        from regview.core.client.client import RegistryClient
        from regview.core.deletion.port import ClientPort, gather_facts
        from regview.core.deletion.executor import Executor
        from regview.core.model import Endpoint
        from regview.core.deletion.plan import Selection, make_plan

        async def main():
            async with RegistryClient(Endpoint({upstream!r})) as client:
                port = ClientPort(client)
                facts = await gather_facts(port, {REPO!r})
                plan = make_plan(facts, Selection.repository())
                def slow(result):
                    print(result.name, flush=True)
                await Executor(port, concurrency=2, on_result=slow).run(plan)

        asyncio.run(main())
    """)
    )
    done = await asyncio.to_thread(_run_and_kill, script, 40)
    assert done >= 40

    journal = Journal()
    (entry,) = journal.pending()
    states = entry.counts()
    assert states[ItemState.DELETED] >= 40
    assert states.get(ItemState.PLANNED, 0) > 0  # the rest never started
    async with RegistryClient(Endpoint(upstream)) as client:
        remaining = set(await client.list_tags(REPO))
        gone = set(before) - remaining
        journal_gone = {i.name for i in entry.deleted_tags()}
        assert gone <= journal_gone  # every deletion is in the journal
        results = await restore(journal, entry.id, ClientPort(client))
        assert all(r.restored for r in results), [r for r in results if not r.restored][:3]
        after = await snapshot(client, REPO)
        assert after == before
