"""Tag loading on the I/O thread: rows reach the UI thread in paced chunks, cancelling waits
for the I/O task's clean-up, and a real load against the embedded registry matches the listing."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from connect_support import local_registry, run

from regview.core.client.client import RegistryClient
from regview.core.model import ArtifactKind, Endpoint, TagInfo
from regview.services.io_loop import IoLoop
from regview.ui.loader import BackgroundLoader, LoadCancel, RowFeed

pytestmark = pytest.mark.ui


def _rows(n: int, start: int = 0) -> list[TagInfo]:
    return [TagInfo("r", f"t{i}", "", "", ArtifactKind.IMAGE) for i in range(start, start + n)]


def test_worker_cancel_waits_for_clean_up(qloop: asyncio.AbstractEventLoop) -> None:
    worker = IoLoop.shared()
    events: list[str] = []

    async def slow() -> None:
        assert threading.current_thread() is worker.thread
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)
            events.append("cleaned")

    async def scenario() -> None:
        task = asyncio.ensure_future(worker.run(slow()))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert events == ["cleaned"]  # the caller resumed only after the worker's finally

    run(qloop, scenario())


def test_worker_errors_reach_the_caller(qloop: asyncio.AbstractEventLoop) -> None:
    async def boom() -> None:
        raise LookupError("no such repository")

    async def scenario() -> None:
        with pytest.raises(LookupError, match="no such repository"):
            await IoLoop.shared().run(boom())

    run(qloop, scenario())


def test_feed_paces_and_chunks_deliveries(qloop: asyncio.AbstractEventLoop) -> None:
    got: list[tuple[float, int, bool]] = []

    def on_rows(rows: list[TagInfo]) -> None:
        got.append((time.monotonic(), len(rows), threading.current_thread() is main))
        time.sleep(len(rows) * 20e-6)  # 20 µs of UI work per row

    main = threading.current_thread()
    feed = RowFeed(qloop, on_rows, interval=0.075, budget=0.015)

    def produce() -> None:
        for i in range(40):
            feed.put(_rows(200, i * 200))  # 8,000 rows as fast as the thread can
            time.sleep(0.002)

    async def scenario() -> None:
        producer = threading.Thread(target=produce)
        producer.start()
        end = time.monotonic() + 20
        while time.monotonic() < end:  # polling another thread's progress
            if not producer.is_alive() and feed.delivered >= 8000:
                break
            await asyncio.sleep(0.01)
        producer.join()

    run(qloop, scenario())
    assert sum(n for _t, n, _m in got) == 8000
    assert all(on_main for _t, _n, on_main in got)
    # after the first (which calibrates), a chunk costs about the budget: ≤ 1,500 rows × 20 µs
    assert max(n for _t, n, _m in got[1:]) <= 1500


def test_closed_feed_delivers_nothing(qloop: asyncio.AbstractEventLoop) -> None:
    got: list[int] = []
    feed = RowFeed(qloop, lambda rows: got.append(len(rows)))
    feed.put(_rows(10))
    feed.close()
    run(qloop, asyncio.sleep(0.15))
    assert got == []


def test_load_against_the_embedded_registry(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        loader = BackgroundLoader()
        io = IoLoop.shared()
        main = threading.current_thread()
        seen: list[TagInfo] = []
        totals: list[int] = []

        def on_rows(rows: list[TagInfo]) -> None:
            assert threading.current_thread() is main
            seen.extend(rows)

        async def make() -> RegistryClient:
            return RegistryClient(Endpoint(url=url), None, cache_dir=tmp_path / "cache")

        async def scenario() -> None:
            client = await io.run(make())
            names, tags = await loader.load(
                io,
                client,
                "acme/infra/ci-runner",
                on_rows,
                on_total=totals.append,
            )
            assert totals == [len(names)] and len(names) > 20
            assert sorted(t.tag for t in tags) == sorted(names)
            assert sorted(t.tag for t in seen) == sorted(names)
            # the second load revalidates from the disk cache written on the worker thread
            assert any((tmp_path / "cache" / "listings").iterdir())
            cancel = LoadCancel()
            cancel.set()
            _names, partial = await loader.load(
                io, client, "acme/infra/ci-runner", lambda _r: None, cancel=cancel
            )
            assert len(partial) < len(names)
            await io.run(client.aclose())

        run(qloop, scenario(), 60)
