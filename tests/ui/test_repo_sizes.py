"""The repositories table and the status bar (issue 10 item 6), through the real main window on
the embedded registry's demo data: the Size and Tags columns fill in the background after the
listing, without opening Storage overview (they stayed empty until it was opened), and the status
bar on the overview speaks of the overview, not of the tags table seen before."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import SCHEMES, open_repo, open_window, shot, theme, until
from pytestqt.qtbot import QtBot

from regview.ui.models import repos_model as rm
from regview.ui.window.main_window import PAGE_REPOS

pytestmark = [pytest.mark.ui, pytest.mark.integration]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_size_column_fills_without_the_overview_and_the_status_bar_follows_the_page(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        try:
            assert window.pages.currentIndex() == PAGE_REPOS
            model = window.repos_model

            def sized() -> bool:
                return model.rowCount() > 0 and all(
                    r.size is not None and r.tag_count for r in model.rows
                )

            run(qloop, until(sized, 60))
            texts = [model.display_text(r, rm.SIZE) for r in range(model.rowCount())]
            assert all(texts), texts
            assert window.overview.binding.current is None  # the overview was never opened
            shot(qloop, window, tmp_path, "repos-sizes", scheme)

            open_repo(qloop, window, "acme/webshop")

            async def select_one() -> None:
                window.tags_view.select_tags([window.tags_view.model.row_at(0).tag])
                await until(lambda: "selected" in window.counts.text())
                await until(lambda: not window.tasks.running("details"))

            run(qloop, select_one())

            async def overview() -> None:
                window.show_overview("demo")
                await until(lambda: not window.tasks.running("measure"), 60)

            run(qloop, overview())
            text = window.counts.text()
            assert "selected" not in text and "repositories" in text, text
            assert text.startswith(f"{model.rowCount():,} repositories")
            shot(qloop, window, tmp_path, "overview-status", scheme)
        finally:
            window.close()
            run(qloop, window.aclose())


def test_a_large_registry_is_not_read_whole_unasked(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past AUTO_MEASURE repositories, a listing reads no repository nobody opened (each of its
    tags would be a request to a registry we may not own); Storage overview, asked for, reads
    them all."""
    from regview.ui.pages import repositories as repositories_page

    monkeypatch.setattr(repositories_page, "AUTO_MEASURE", 2)
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        try:
            model = window.repos_model
            run(qloop, until(lambda: model.rowCount() > 2))
            run(qloop, until(lambda: not window.tasks.running("sizes"), 60))
            paths = [r.path for r in model.rows]
            assert all(window.controller.cached_tags("demo", p) is None for p in paths)
            assert all(r.size is None for r in model.rows)

            open_repo(qloop, window, "acme/webshop")  # opened: read, and measured
            run(qloop, until(lambda: not window.tasks.running("sizes"), 60))
            read = [p for p in paths if window.controller.cached_tags("demo", p) is not None]
            assert read == ["acme/webshop"], read

            async def overview() -> None:
                window.show_overview("demo")
                await until(lambda: not window.tasks.running("measure"), 60)

            run(qloop, overview())
            assert all(window.controller.cached_tags("demo", p) is not None for p in paths)
        finally:
            window.close()
            run(qloop, window.aclose())
