"""The tests' qasync loop is the running loop for every task step it drives, as the app's is.

qasync's `run_until_complete` processes Qt's events once more after its loop stopped running; a
task woken just before the end stepped there without a running loop, and `asyncio.sleep` raised
"no running event loop" (seen as a flaky error of a window's background size reading).
"""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.ui


def test_a_task_woken_as_run_until_complete_ends_still_has_its_loop(
    qloop: asyncio.AbstractEventLoop,
) -> None:
    seen: list[object] = []
    wake: asyncio.Future[None] = qloop.create_future()

    async def background() -> None:
        await wake
        seen.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        seen.append("slept")

    task = qloop.create_task(background())

    async def step() -> None:
        qloop.call_soon(wake.set_result, None)

    qloop.run_until_complete(step())
    qloop.run_until_complete(task)
    assert seen == [qloop, "slept"]
