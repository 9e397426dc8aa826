"""Header tooltips and the header's accessible description say the sort in words, and the words
match the order the rows really are in."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot
from tagdata import make_tags

from regview.ui.models import tags_model as tm
from regview.ui.pages.tags_view import TagsView
from regview.ui.sort_words import TAGS_KINDS, SortWords, direction


def test_sort_tooltips_say_newest_first_and_a_to_z_as_the_rows_are(qtbot: QtBot) -> None:
    view = TagsView()
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    view.set_tags("team/app", make_tags(40))
    words = SortWords(view.table, TAGS_KINDS)
    header = view.table.horizontalHeader()

    view.sort_by(tm.CREATED, True)
    created = [view.model.row_at(r).created for r in range(view.model.rowCount())]
    created = [c for c in created if c is not None]
    assert created == sorted(created, reverse=True)  # the newest row is on top
    assert "Sorted newest first · click for oldest first" in words.tooltip(tm.CREATED)
    assert words.tooltip(tm.CREATED).startswith("When the image was built")  # own tip kept
    assert header.accessibleDescription() == "Sorted by Created, newest first"
    assert words.tooltip(tm.SIZE).endswith("Click to sort by Size")

    view.sort_by(tm.TAG, False)
    names = [view.model.row_at(r).tag for r in range(view.model.rowCount())]
    assert names[0].lower() <= names[-1].lower()
    assert "Sorted A → Z · click for Z → A" in words.tooltip(tm.TAG)
    assert header.accessibleDescription() == "Sorted by Tag, A → Z"

    view.sort_by(tm.SIZE, True)
    assert header.accessibleDescription() == "Sorted by Size, largest first"
    sizes = [view.model.row_at(r).size or 0 for r in range(view.model.rowCount())]
    assert sizes == sorted(sizes, reverse=True)

    # hovering the header shows it
    x = header.sectionViewportPosition(tm.SIZE) + 5
    pos = QPoint(x, header.height() // 2)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, header.viewport().mapToGlobal(pos))
    QApplication.sendEvent(header.viewport(), event)
    assert "largest first" in QToolTip.text()
    QToolTip.hideText()


def test_direction_words() -> None:
    asc, desc = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder
    assert (direction("date", asc), direction("date", desc)) == ("oldest first", "newest first")
    assert (direction("text", asc), direction("text", desc)) == ("A → Z", "Z → A")
    assert direction("size", desc) == "largest first"
