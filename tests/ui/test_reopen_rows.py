"""Reopening a repository keeps one set of rows: the table keeps its own objects for the rows a
revalidation finds unchanged, and the controller's cache holds those same objects — not a second,
equal copy from the load (that doubled the rows in memory, and every full collection traversed
both: bench/results-ui.md, the idle collection).

Real window, real table model, the embedded registry over a socket.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import run
from delete_support import open_window, until
from pytestqt.qtbot import QtBot

from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/infra/ci-runner"


def test_reopening_caches_the_rows_the_table_shows(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with LocalRegistry(tmp_path / "reg", demo=True) as reg:
        window = open_window(qtbot, qloop, tmp_path, reg.url)
        first: list[object] = []

        async def scenario() -> None:
            window.open_repository("demo", REPO)
            await until(lambda: not window.tasks.running("tags"), 60)
            first.extend(window.tags_view.model.rows)
            window.open_repository("demo", REPO)  # again: cached rows, then revalidated
            again = window.tasks.task("tags")
            assert again is not None
            await asyncio.wait_for(asyncio.shield(again), 60)

        run(qloop, scenario(), 120)
        shown = window.tags_view.model.rows
        cached = window.controller.cached_tags("demo", REPO)
        assert len(first) > 16 and cached is not None
        assert sorted(t.tag for t in cached) == sorted(t.tag for t in shown)
        # nothing changed on the registry: the table kept the rows of the first load...
        assert {id(t) for t in shown} == {id(t) for t in first}
        # ...and the cache holds those, not equal copies of them
        assert {id(t) for t in cached} == {id(t) for t in shown}
        run(qloop, window.aclose())
        window.close()
