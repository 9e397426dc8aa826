"""Rows arriving below what the tags table shows do not repaint it (issue 10: no stall > 50 ms
while loading — each repaint of the whole table cost ~13 ms of the UI thread, ~40 ms with a busy
loader thread, once per delivery of rows); what the table shows is still always painted."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
from tagdata import make_tags

from regview.ui.models import tags_model as tm
from regview.ui.pages.tags_view import TagsView

pytestmark = pytest.mark.ui


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.widths: list[int] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
            self.widths.append(event.region().boundingRect().width())  # type: ignore[attr-defined]
        return False


@pytest.fixture
def view(qtbot: object) -> TagsView:
    view = TagsView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(1000, 600)
    view.show()
    QApplication.processEvents()
    return view


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _watch(view: TagsView) -> _Paints:
    """Count the table's paints from now on, as a listing loads: the Frees column's figures,
    computed on a worker thread, are paused (as during a load) and none is on its way."""
    view.frees.wait()
    _settle()
    view.show_progress(0, 1)
    _settle()
    paints = _Paints()
    view.table.viewport().installEventFilter(paints)
    view._paints = paints  # type: ignore[attr-defined]  # kept alive with the view
    return paints


def test_rows_appended_below_a_full_table_update_the_scroll_range_only(view: TagsView) -> None:
    tags = make_tags(400, seed=21)
    view.set_tags("group/app", [])
    view.append_tags(tm.prepare_tags(tags[:100]))  # fills the viewport
    _settle()
    paints = _watch(view)
    bar = view.table.verticalScrollBar()
    before = bar.maximum()
    for i in range(100, 400, 100):
        view.append_tags(tm.prepare_tags(tags[i : i + 100]))
        _settle()
    assert paints.count == 0  # was one full repaint per delivery
    assert bar.maximum() > before  # the scroll range follows the rows
    assert view.model.rowCount() == 400
    # the rows are there when scrolled to, painted then
    bar.setValue(bar.maximum())
    _settle()
    assert paints.count >= 1
    last = view.table.rowAt(view.table.viewport().height() - 1)
    assert view.model.row_at(last).tag == tags[-1].tag


def test_rows_that_land_on_screen_are_painted(view: TagsView) -> None:
    tags = make_tags(30, seed=22)
    view.set_tags("group/app", [])
    view.append_tags(tm.prepare_tags(tags[:3]))  # three rows: room below them
    _settle()
    paints = _watch(view)
    view.append_tags(tm.prepare_tags(tags[3:6]))
    _settle()
    assert paints.count >= 1
    assert view.table.rowAt(view.table.rowViewportPosition(5) + 1) == 5


def test_a_visible_change_in_the_same_turn_still_repaints(view: TagsView) -> None:
    tags = make_tags(300, seed=23)
    view.set_tags("group/app", tags[:100])
    _settle()
    paints = _watch(view)
    view.append_tags(tm.prepare_tags(tags[100:200]))  # below the viewport
    view.model.invalidate_rows([view.model.visible[0]])  # ... and a shown row changed
    _settle()
    assert paints.count >= 1
    paints.count = 0
    view.append_tags(tm.prepare_tags(tags[200:300]))
    view.sort_by(tm.SIZE)  # a new order: everything on screen changes
    _settle()
    assert paints.count >= 1


@pytest.mark.parametrize(("twins", "sort"), [(40, None), (150, None), (100, tm.CREATED)])
def test_a_batch_sharing_digests_with_shown_rows_repaints_their_shared_cells_only(
    view: TagsView, twins: int, sort: int | None
) -> None:
    """A listing's batches join "Shared" groups of rows already shown (tags of one manifest
    arrive in any order): each batch repainted the whole table, now the Shared column's cells
    (also when the rows touched reach far below the viewport, or are spread by a sort)."""
    tags = make_tags(300, seed=24)
    view.set_tags("group/app", tags)
    if sort is not None:
        view.sort_by(sort, descending=True)
    _settle()
    paints = _watch(view)
    view.append_tags(tm.prepare_tags([replace(t, tag=t.tag + "-twin") for t in tags[:twins]]))
    _settle()
    table = view.table
    assert paints.count >= 1
    assert max(paints.widths) <= table.columnWidth(tm.SHARED) + 2  # one column, not the table
    top = view.model.row_at(0)
    assert view.model.data(view.model.index(0, tm.SHARED)) == ("×2" if top in tags[:twins] else "")
