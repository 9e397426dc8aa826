"""The controller's seam, typed and window-free (issue 10): `BrowseController.load_tags` feeds any
`TagsSink` — here a plain object recording what it was told — through the session's one client on
the I/O loop, against the embedded registry; the rows arrive on the caller's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts, run

from regview.core.model import Endpoint, TagInfo
from regview.server.runner import LocalRegistry
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.ui.controllers import BrowseController, TagsSink

pytestmark = pytest.mark.ui
REPO = "acme/infra/ci-runner"


class _Rows:
    def __init__(self) -> None:
        self.repository = ""
        self.rows: list[TagInfo] = []


class _Sink:
    """Records the calls; no widget."""

    def __init__(self) -> None:
        self.registry_host = ""
        self.model = _Rows()
        self.calls: list[str] = []
        self.threads: set[str] = set()
        self.progress: list[tuple[int, int]] = []

    def set_tags(self, repository: str, tags: Iterable[TagInfo]) -> None:
        self.model.repository, self.model.rows = repository, list(tags)
        self.calls.append("set_tags")

    def append_tags(self, tags: list[TagInfo]) -> None:
        self.threads.add(threading.current_thread().name)
        self.model.rows.extend(tags)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.append((done, total))

    def finish_progress(self) -> None:
        self.calls.append("finish_progress")

    def finish_loading(self) -> None:
        self.calls.append("finish_loading")

    def selected_tags(self) -> list[TagInfo]:
        return []

    def select_tags(self, names: Iterable[str], current: str | None = None) -> None:
        self.calls.append("select_tags")


def test_load_tags_feeds_a_plain_sink_through_the_sessions_client(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with LocalRegistry(tmp_path / "reg", demo=True) as reg:
        accounts = make_accounts(tmp_path, MemoryKeyring())
        sessions = SessionManager(accounts)
        controller = BrowseController(sessions)
        sink = _Sink()
        typed: TagsSink = sink  # mypy-checked in spirit: the Protocol is what the load needs

        async def scenario() -> None:
            await accounts.save(Profile.for_endpoint(Endpoint(url=reg.url), name="demo"))
            tags = await controller.load_tags("demo", REPO, typed)
            session = await sessions.open("demo")
            names = await session.client.list_tags(REPO)
            assert sorted(t.tag for t in tags) == sorted(names)
            assert sorted(t.tag for t in sink.model.rows) == sorted(names)
            assert sink.registry_host == session.client.registry
            assert sink.calls[-2:] == ["finish_progress", "finish_loading"]
            assert sink.progress[-1] == (len(names), len(names))
            # the rows were delivered on this (the UI) thread, the listing ran on the I/O thread
            assert sink.threads == {threading.current_thread().name}
            assert session.io_client.requests >= len(names)
            await sessions.close_all()

        run(qloop, scenario(), 60)


class _TurnSink(_Sink):
    """Notes whether the event loop ran anything between the load's end and finish_loading;
    `switch_to`: the view shows another repository by the time that turn comes."""

    def __init__(self, switch_to: str = "") -> None:
        super().__init__()
        self.switch_to = switch_to

    def finish_progress(self) -> None:
        super().finish_progress()
        asyncio.get_running_loop().call_soon(self._turn)

    def _turn(self) -> None:
        self.calls.append("loop turn")
        if self.switch_to:
            self.model.repository = self.switch_to


def test_the_event_loop_gets_a_turn_before_a_finished_load_is_finished_in_the_view(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The re-sort, details pane and repaint that finishing sets off held the UI thread for
    45–52 ms at the end of a 10,000-tag load, right after the load's own bookkeeping: a turn of
    the loop between them (input, a repaint). And a view that shows another repository by then
    is left alone: that load finishes it."""
    with LocalRegistry(tmp_path / "reg", demo=True) as reg:
        accounts = make_accounts(tmp_path, MemoryKeyring())
        sessions = SessionManager(accounts)
        controller = BrowseController(sessions)

        async def scenario() -> None:
            await accounts.save(Profile.for_endpoint(Endpoint(url=reg.url), name="demo"))
            sink = _TurnSink()
            await controller.load_tags("demo", REPO, sink)
            assert sink.calls[-3:] == ["finish_progress", "loop turn", "finish_loading"]

            moved = _TurnSink(switch_to="acme/other")
            tags = await controller.load_tags("demo", REPO, moved)
            assert tags, "the load itself completed"
            assert "finish_loading" not in moved.calls
            assert moved.calls[-2:] == ["finish_progress", "loop turn"]
            await sessions.close_all()

        run(qloop, scenario(), 60)
