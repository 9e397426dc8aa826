"""Where the space goes, walked through the real window on the embedded demo registry: the
overview ranks the tags that free the most, a click opens that tag's table sorted by Frees with
the tag selected, the status bar says what the selection frees, and a deletion (the mutation the
delete flow broadcasts) recomputes the column."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import local_registry, run
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot
from window_support import local_window, until

from regview.core.frees import TagSpace
from regview.core.model import Endpoint
from regview.settings.profiles import Profile
from regview.ui.dialogs.delete.flow import DeleteMutation
from regview.ui.models import tags_model as tm
from regview.ui.window.main_window import PAGE_TAGS
from regview.util.units import human_size

pytestmark = [pytest.mark.ui, pytest.mark.integration]


def test_overview_ranking_to_tag_to_deletion(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = local_window(qtbot, tmp_path)
        accounts = window.accounts

        async def scenario() -> None:
            await accounts.save(Profile.for_endpoint(Endpoint(url=url), name="demo"))
            await window.start()
            await until(lambda: not window.tasks.running("repos"))
            window.show_overview("demo")
            await until(lambda: not window.tasks.running("measure"), 150)
            ranking = window.overview.ranking
            await until(lambda: ranking.ranking is not None and ranking.tag_bars.items, 30)
            await until(lambda: len(ranking.ranking.repositories) >= 3, 30)  # type: ignore[union-attr]
            best = ranking.ranking.tags[0]  # type: ignore[union-attr]

            bars = ranking.tag_bars
            y = int(4 + 0.5 * bars._row_height())
            qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=QPoint(40, y))
            await until(lambda: window.pages.currentIndex() == PAGE_TAGS, 10)
            await until(lambda: not window.tasks.running("tags"), 60)
            view = window.tags_view
            await until(lambda: view.model.space is not None, 30)
            assert window.repository == best.repository
            assert view.model.sort_column == tm.FREES and view.model.sort_descending
            assert [t.tag for t in view.selected_tags()] == [best.tag]
            assert view.model.row_at(0).tag == best.tag  # the most first
            rows = view.model.tags()
            freed = TagSpace.of(rows).freed_bytes([best.tag])
            assert freed == best.frees > 0
            await until(lambda: f"frees {human_size(freed)} after GC" in window.counts.text(), 10)

            # A deletion as the delete flow announces it: the column follows.
            gone = {t.tag for t in rows if t.digest == rows[0].digest} | {best.tag}
            before = view.model.generation
            window.deletion.apply_mutation(
                DeleteMutation("demo", best.repository, tuple(sorted(gone)))
            )
            await until(lambda: view.model.generation > before and view.model.space, 30)
            left = [t for t in rows if t.tag not in gone]
            expected = TagSpace.of(left).frees_all(left)
            shown = {
                view.model.row_at(r).tag: view.model.index_.keys[tm.FREES][view.model.visible[r]]
                for r in range(view.model.rowCount())
            }
            assert shown == {
                t.tag: (-1 if f is None else f) for t, f in zip(left, expected, strict=True)
            }

        try:
            run(qloop, scenario(), 300)
        finally:
            run(qloop, window.aclose(), 60)
