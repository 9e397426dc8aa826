"""A deletion takes its rows out of the tags table, and only those (issue 10, found walking the
app): the table used to be set again from scratch — every row re-read, a model reset, the
selection re-made and the scroll position lost, then a full garbage collection of the old
rows on the UI thread (up to 1 s at 100k rows)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import local_registry, run
from delete_support import open_repo, open_window, until
from pytestqt.qtbot import QtBot

from regview.ui.dialogs.delete.flow import DeleteMutation
from regview.ui.models import tags_model as tm

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = "acme/infra/ci-runner"


def test_a_deletion_removes_its_rows_and_keeps_the_rest_selected_and_in_place(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        try:
            window.resize(1100, 420)  # fewer rows than the repository has: the table scrolls
            open_repo(qloop, window, REPO)
            view, model = window.tags_view, window.tags_view.model
            view.sort_by(tm.TAG)
            names = [model.row_at(r).tag for r in range(model.rowCount())]
            assert len(names) > 20
            # the user scrolled down (row 8 at the top) and selected three rows
            bar = view.table.verticalScrollBar()
            view.table.updateGeometries()
            bar.setValue(view.table.rowViewportPosition(8) + bar.value())
            top = view.table.rowAt(0)
            assert top == 8, "the table does not scroll: the test shows nothing"
            chosen = [names[top + 2], names[top + 3], names[top + 5]]
            view.select_tags(chosen, current=chosen[0])
            y = view.table.rowViewportPosition(top)
            # deleted: two rows above the screen, one selected row, the last row
            gone = {names[0], names[2], chosen[1], names[-1]}

            resets: list[bool] = []
            removed: list[tuple[int, int]] = []
            model.modelReset.connect(lambda: resets.append(True))
            model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
            window.delete_flow.mutated.emit(DeleteMutation("demo", REPO, tuple(sorted(gone))))

            assert resets == []  # rows removed, not the table set again
            # each run of display rows reported on its own, from the end
            last = len(names) - 1
            assert removed == [(last, last), (top + 3, top + 3), (2, 2), (0, 0)]
            left = [n for n in names if n not in gone]
            assert [model.row_at(r).tag for r in range(model.rowCount())] == left
            assert sorted(t.tag for t in view.selected_tags()) == sorted({*chosen} - gone)
            current = view.current_tag()
            assert current is not None and current.tag == chosen[0]
            # the row that was at the top of the screen still is, where it was
            anchor = left.index(names[top])
            assert view.table.rowAt(0) == anchor
            assert view.table.rowViewportPosition(anchor) == y
            # the pane describes the selection (two tags left selected: their count, no single
            # tag's details); the Frees column is computed for what is left
            run(qloop, until(lambda: model.space is not None, 30))
            assert len(model.index_.keys[tm.FREES]) == len(left)
            assert window.details.current is None
            assert window.details.title.text() == "2 tags selected"
        finally:
            window.close()
            run(qloop, window.aclose())
