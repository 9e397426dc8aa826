"""The tags view: selection (click, Ctrl, Shift, drag), filter/sort keep selection and scroll,
copy, the Delete action's contract, status summary."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from tagdata import make_tags

from regview.core.model import TagInfo
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterSpec
from regview.ui.pages.tags_view import TagsView, contiguous

pytestmark = pytest.mark.ui


@pytest.fixture
def view(qtbot: QtBot) -> TagsView:
    v = TagsView()
    qtbot.addWidget(v)
    v.registry_host = "127.0.0.1:5000"
    v.set_tags("group/app", make_tags(500))
    v.resize(1100, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


def _row_point(view: TagsView, row: int) -> QPoint:
    return view.table.visualRect(view.model.index(row, tm.TAG)).center()


def test_contiguous_runs() -> None:
    assert contiguous([1, 2, 3, 7, 9, 10]) == [(1, 3), (7, 7), (9, 10)]


def test_click_ctrl_shift_and_drag_select(view: TagsView, qtbot: QtBot) -> None:
    vp = view.table.viewport()
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=_row_point(view, 1))
    qtbot.mouseClick(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, _row_point(view, 3)
    )
    assert view.selected_rows() == [1, 3]
    qtbot.mouseClick(
        vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, _row_point(view, 6)
    )
    assert view.selected_rows() == [1, 3, 4, 5, 6]  # Qt: Shift extends from the anchor
    # Drag from row 8 to row 12 with the button held.
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=_row_point(view, 8))
    for r in range(9, 13):
        qtbot.mouseMove(vp, _row_point(view, r))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=_row_point(view, 12))
    assert view.selected_rows() == list(range(8, 13))
    assert "5 selected" in view.summary()


def test_filter_and_sort_keep_selection_and_anchor_position(view: TagsView, qtbot: QtBot) -> None:
    view.table.scrollToBottom()
    qtbot.wait(10)
    top = view.table.rowAt(0)
    wanted = [view.model.row_at(r).tag for r in (top + 1, top + 2)]
    view.select_tags(wanted, current=wanted[0])
    y_before = view.table.visualRect(view.model.index(top + 1, 0)).top()
    view.sort_by(tm.SIZE, descending=True)
    assert sorted(t.tag for t in view.selected_tags()) == sorted(wanted)
    row = view.model.visible.index(view.model.backing_row(wanted[0]))
    assert view.table.visualRect(view.model.index(row, 0)).top() == y_before
    assert view.table.horizontalHeader().sortIndicatorSection() == tm.SIZE
    # Typing a filter that still matches the selected tags keeps them selected.
    prefix = wanted[0][:4]
    view.filter_bar.text.setText(prefix)
    assert wanted[0] in [t.tag for t in view.selected_tags()]
    assert all(
        prefix in view.model.row_at(r).tag or prefix in view.model.row_at(r).digest
        for r in range(view.model.rowCount())
    )
    view.filter_bar.text.clear()
    assert view.model.rowCount() == 500
    assert sorted(t.tag for t in view.selected_tags()) == sorted(wanted)


def test_bad_regex_is_shown_on_the_filter_box_not_raised(view: TagsView) -> None:
    view.filter_bar.regex.setChecked(True)
    view.filter_bar.text.setText("(v1")
    assert "regular expression" in view.filter_bar.text.toolTip()
    assert view.model.rowCount() == 500  # the last good filter stays
    view.filter_bar.text.setText("^v0\\.1\\.")
    assert view.model.rowCount() == sum(1 for t in make_tags(500) if t.tag.startswith("v0.1."))


def test_copy_reference_and_pull(view: TagsView, qtbot: QtBot) -> None:
    view.select_tags([view.model.row_at(0).tag, view.model.row_at(1).tag])
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text().splitlines()
    assert text == [f"127.0.0.1:5000/group/app:{view.model.row_at(r).tag}" for r in (0, 1)]
    view.copy_pull_commands()
    assert QGuiApplication.clipboard().text().startswith("docker pull 127.0.0.1:5000/group/app:")


def test_delete_is_disabled_until_a_handler_is_attached(view: TagsView, qtbot: QtBot) -> None:
    got: list[list[TagInfo]] = []
    view.select_tags([view.model.row_at(2).tag])
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert got == [] and not view.delete.isEnabled()
    view.attach_delete_handler(got.append)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert [t.tag for t in got[0]] == [view.model.row_at(2).tag]


def test_rows_appear_as_they_load_then_sort(qtbot: QtBot) -> None:
    view = TagsView()
    qtbot.addWidget(view)
    view.set_tags("r", [])
    view.sort_by(tm.TAG)
    tags = make_tags(300)
    view.show_progress(0, 300)
    for i in range(0, 300, 100):
        view.append_tags(tags[i : i + 100])
        view.show_progress(i + 100, 300)
        assert view.model.rowCount() == i + 100
    assert view.progress.format() == "Reading tags… 300 of 300"
    view.finish_loading()
    names = [view.model.row_at(r).tag for r in range(300)]
    assert names == sorted(names, key=str.lower)
    assert view.progress_row.isHidden()
    view.model.apply(FilterSpec(platform="linux/arm64/v8"))
    assert view.filter_bar.platform.findData("linux/arm64/v8") > 0


def test_relative_times_move_on_without_a_reset(qtbot: QtBot) -> None:
    from datetime import UTC, datetime, timedelta

    from regview.core.model import ArtifactKind

    view = TagsView()
    qtbot.addWidget(view)
    made = datetime.now(UTC) - timedelta(minutes=5)
    view.set_tags(
        "r", [TagInfo("r", "a", "sha256:" + "1" * 64, "", ArtifactKind.IMAGE, created=made)]
    )
    index = view.model.index(0, tm.CREATED)
    assert view.model.data(index) == "5 minutes ago"
    resets: list[bool] = []
    view.model.modelReset.connect(lambda: resets.append(True))
    view.model.layoutChanged.connect(lambda: resets.append(True))
    view.model.refresh_relative_times(now=made.timestamp() + 3 * 3600)
    assert view.model.data(index) == "3 hours ago"
    view.tick()  # the minute timer's slot: back to the real clock
    assert view.model.data(index) == "5 minutes ago"
    assert resets == [] and view._clock.interval() == 60_000 and view._clock.isActive()


def test_widening_filter_keeps_anchor_and_reselects_hidden_selection(
    view: TagsView, qtbot: QtBot
) -> None:
    def y_of(tag: str) -> int:
        row = view.model.visible.index(view.model.backing_row(tag))
        return view.table.rowViewportPosition(row)

    anchor, other = view.model.row_at(255).tag, view.model.row_at(100).tag
    view.select_tags([anchor, other], current=anchor)
    bar = view.table.verticalScrollBar()
    bar.setValue(y_of(anchor) + bar.value() - 200)  # the anchor mid-view
    assert y_of(anchor) == 200
    # A narrow filter: the list is too short to keep the anchor at y=200 — it moves up.
    view.filter_bar.text.setText(anchor[:7])  # "v0.25.5"-like: one decade of tags
    qtbot.wait(1)
    assert [t.tag for t in view.selected_tags()] == [anchor]  # `other` is hidden
    y_narrow = y_of(anchor)
    assert 0 <= y_narrow < 200
    # Widening again: the anchor stays where it was just before (the scroll range now allows
    # it; it used to be clamped to the short list's range), the hidden selection comes back.
    view.filter_bar.text.clear()
    assert y_of(anchor) == y_narrow
    qtbot.wait(1)  # after the view's own delayed layout pass too
    assert y_of(anchor) == y_narrow
    assert sorted(t.tag for t in view.selected_tags()) == sorted([anchor, other])
    assert view.current_tag() is not None and view.current_tag().tag == anchor
    # A selection the user makes anew forgets what a filter hid.
    view.filter_bar.text.setText(anchor[:7])
    view.select_tags([anchor], current=anchor)
    view.filter_bar.text.clear()
    assert [t.tag for t in view.selected_tags()] == [anchor]


def test_progress_updates_are_throttled_and_never_paint_synchronously(qtbot: QtBot) -> None:
    from PySide6.QtCore import QEvent, QObject

    view = TagsView()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    paints: list[int] = []

    class Count(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                paints.append(1)
            return False

    counter = Count(view)
    view.progress.installEventFilter(counter)
    view.show_progress(0, 1000)
    qtbot.waitUntil(lambda: len(paints) > 0, timeout=2000)
    view._progress_at = 0.0  # as if 250 ms had passed
    before = len(paints)
    view.show_progress(500, 1000)
    assert len(paints) == before  # only scheduled …
    assert view.progress.value() == 500 and view.progress.format().endswith("500 of 1,000")
    qtbot.waitUntil(lambda: len(paints) > before, timeout=2000)  # … and painted by the loop
    view.show_progress(600, 1000)  # within 250 ms of the last one: skipped
    assert view.progress.value() == 500
    view.show_progress(1000, 1000)  # the end is always shown
    assert view.progress.value() == 1000
