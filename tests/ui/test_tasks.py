"""Task slots: a new task cancels the old one in its slot, cancel_all ends everything,
failures are reported (and the loop fixture would fail a test on an unhandled one)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from regview.ui.tasks import Tasks

pytestmark = pytest.mark.ui


def test_new_task_in_a_slot_cancels_the_old(qloop: asyncio.AbstractEventLoop) -> None:
    tasks = Tasks()

    async def forever() -> None:
        await asyncio.sleep(3600)

    async def quick() -> str:
        return "done"

    async def scenario() -> None:
        first = tasks.start("tags", forever())
        other = tasks.start("details", forever())
        second = tasks.start("tags", quick())
        assert await second == "done"
        await asyncio.sleep(0)
        assert first.cancelled() and not other.done()
        assert tasks.running("details") and not tasks.running("tags")
        tasks.cancel_all()
        await asyncio.sleep(0)
        assert other.cancelled()

    qloop.run_until_complete(scenario())


def test_failures_are_emitted_with_their_slot(qloop: asyncio.AbstractEventLoop) -> None:
    tasks = Tasks()
    seen: list[tuple[str, Any]] = []
    tasks.failed.connect(lambda name, exc: seen.append((name, exc)))
    handled: list[dict[str, Any]] = []
    qloop.set_exception_handler(lambda _l, ctx: handled.append(ctx))

    async def boom() -> None:
        raise RuntimeError("nope")

    async def scenario() -> None:
        tasks.start("load", boom())
        await asyncio.sleep(0.01)

    qloop.run_until_complete(scenario())
    assert [(n, str(e)) for n, e in seen] == [("load", "nope")]
    assert handled and isinstance(handled[0]["exception"], RuntimeError)
