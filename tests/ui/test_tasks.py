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


def test_aclose_waits_for_every_clean_up(qloop: asyncio.AbstractEventLoop) -> None:
    """Cancelling is not enough: the clean-up of a cancelled task must run inside the loop."""
    tasks = Tasks()
    cleaned: list[str] = []

    async def slow_clean_up(name: str) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.02)  # needs a running loop, like closing a connection
            cleaned.append(name)

    async def scenario() -> None:
        tasks.start("tags", slow_clean_up("tags"))
        tasks.start("details", slow_clean_up("details"))
        await asyncio.sleep(0)
        await tasks.aclose()
        assert sorted(cleaned) == ["details", "tags"]
        assert not tasks.running("tags") and not tasks.running("details")

    qloop.run_until_complete(scenario())
    assert not [t for t in asyncio.all_tasks(qloop) if not t.done()]


def test_closing_the_window_mid_load_leaves_no_task(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, tmp_path: Any
) -> None:
    from connect_support import MemoryKeyring, local_registry, make_accounts, run

    from regview.core.model import Endpoint
    from regview.services.sessions import SessionManager
    from regview.settings.profiles import Profile
    from regview.ui.local_mode import LocalMode
    from regview.ui.window.main_window import MainWindow

    with local_registry(tmp_path / "reg", demo=True) as url:
        accounts = make_accounts(tmp_path, MemoryKeyring())
        window = MainWindow(accounts, SessionManager(accounts), LocalMode(accounts))
        qtbot.addWidget(window)

        async def scenario() -> None:
            await accounts.save(Profile.for_endpoint(Endpoint(url=url), name="demo"))
            await window.start()
            window.open_repository("demo", "acme/infra/ci-runner")
            await asyncio.sleep(0.05)  # requests in flight
            assert window.tasks.running("tags")
            await window.aclose()

        run(qloop, scenario(), 60)
        assert not [t for t in asyncio.all_tasks(qloop) if not t.done()]
        assert window.sessions.get("demo") is None
