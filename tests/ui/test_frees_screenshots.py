"""The Frees column, the selection total and the Storage overview's ranking as a user sees them,
in the main window on the local registry (GitLab mode, demo data), light and dark; with
REGVIEW_SCREENSHOT_DIR set the pictures are saved there (resources/screenshots/frees-*.png)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from delete_support import SCHEMES, theme
from pytestqt.qtbot import QtBot
from window_support import local_window, run_in_local_mode, until

from regview.ui.local_mode import LOCAL_PROFILE
from regview.ui.models import tags_model as tm

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/webshop/frontend"


async def _save(
    widget: Any, folders: list[str], name: str, scheme: str, settle: bool = True
) -> None:
    if settle:
        await asyncio.sleep(0.3)  # layouts and paints
    suffix = "-dark" if scheme == "dark" else ""
    for folder in folders:
        assert widget.grab().save(f"{folder}/{name}{suffix}.png", "PNG")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_frees_column_selection_total_and_ranking(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    folders = [str(tmp_path), *filter(None, [os.environ.get("REGVIEW_SCREENSHOT_DIR")])]
    for folder in folders:
        Path(folder).mkdir(parents=True, exist_ok=True)
    with theme(qapp, scheme):
        window = local_window(qtbot, tmp_path)

        async def scenario() -> None:
            await window.local_mode.start()
            await window.start()
            await until(lambda: not window.tasks.running("repos"))
            window.open_repository(LOCAL_PROFILE, REPO)
            await until(lambda: not window.tasks.running("tags"))
            view = window.tags_view
            await until(lambda: view.model.space is not None)
            view.sort_by(tm.FREES, descending=True)
            shown = [view.model.index(r, tm.FREES).data() for r in range(view.model.rowCount())]
            assert tm.COMPUTING not in shown and shown[0] not in ("0 B", tm.UNKNOWN)
            names = [view.model.row_at(r).tag for r in range(4)]
            view.select_tags(names)
            await until(lambda: "after GC" in window.statusBar().currentMessage() + view.summary())
            assert "4 selected — frees " in view.summary()
            await _save(window, folders, "frees-column", scheme)
            # A deletion re-sets the rows: until the worker answers, the cells say so.
            rows = list(view.model.rows)
            view.set_tags(REPO, [t for t in rows if t.tag not in names])
            assert {view.model.index(r, tm.FREES).data() for r in range(5)} == {tm.COMPUTING}
            assert "frees" not in view.summary()  # the selection went with the rows
            view.selectionSummaryChanged.emit(view.summary())  # (its timer runs next iteration)
            await _save(window, folders, "frees-computing", scheme, settle=False)
            await until(lambda: view.model.space is not None)

            window.resize(1300, 900)  # every section of the overview at its full height
            window.show_overview(LOCAL_PROFILE)
            panel = window.overview
            await until(lambda: not window.tasks.running("measure"), 60)
            await until(lambda: bool(panel.ranking.tag_bars.items) and bool(panel.bars.second))
            assert any("GitLab" in panel.bars.value_text(i) for i in range(len(panel.bars.items)))
            tags_bars = panel.ranking.tag_bars
            await asyncio.sleep(0.3)
            assert tags_bars.height() >= tags_bars.minimumSizeHint().height()  # no bar cut off
            await _save(window, folders, "frees-overview", scheme)

        run_in_local_mode(qloop, window, scenario)
