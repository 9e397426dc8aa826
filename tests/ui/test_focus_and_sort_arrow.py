"""Keyboard focus is visible on a table in both schemes (Fusion marked it only by a faint
rectangle around the current cell, lost inside the selected row), and the sort arrow points the
Windows/macOS way: ▼ for a newest-first list (Fusion drew ▲ there)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QPushButton,
    QStyle,
    QStyleOptionHeader,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot
from window_support import local_window, run_in_local_mode, until

from regview.core.model import Endpoint
from regview.settings.profiles import Profile
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.theme import apply_theme

pytestmark = [pytest.mark.ui]


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[str]:
    palette = qapp.palette()
    apply_theme(qapp, request.param)
    try:
        yield request.param
    finally:
        # the palette goes back; the style stays regview's (see delete_support.theme)
        qapp.setPalette(palette)


def _window(qtbot: QtBot) -> tuple[QWidget, QTableView, QPushButton]:
    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    button = QPushButton("Before")
    model = QStandardItemModel(4, 3, root)
    model.setHorizontalHeaderLabels(["Tag", "Created", "Size"])
    for row in range(4):
        for col in range(3):
            model.setItem(row, col, QStandardItem(f"r{row}c{col}"))
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.selectRow(1)
    layout.addWidget(button)
    layout.addWidget(table)
    root.resize(360, 300)
    root.show()
    root.activateWindow()
    qtbot.waitUntil(root.isActiveWindow)
    return root, table, button


def _edge_highlight(table: QTableView) -> int:
    """Pixels in the highlight colour down the table's left and right edges."""
    image = table.grab().toImage()
    want = table.palette().color(QPalette.ColorRole.Highlight)
    rows = range(table.height() // 3, table.height() * 2 // 3)  # clear of header and rows
    return sum(_near(QColor(image.pixel(x, y)), want) for y in rows for x in (0, table.width() - 1))


def _near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 40


def test_a_focused_table_is_outlined(qtbot: QtBot, scheme: str) -> None:
    _root, table, button = _window(qtbot)
    button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(button.hasFocus)
    assert _edge_highlight(table) == 0
    table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(table.hasFocus)
    rows = table.height() // 3
    assert _edge_highlight(table) >= rows  # both edges, most of their height


def _arrow_points_down(table: QTableView, column: int) -> bool:
    """The sort arrow's widest row is at its top (▼) rather than at its bottom (▲)."""
    header = table.horizontalHeader()
    image: QImage = header.grab().toImage()
    left = header.sectionViewportPosition(column)
    right = left + header.sectionSize(column)
    background = QColor(image.pixel(QPoint(right - 4, header.height() // 2)))
    widths = []
    for y in range(3, header.height() - 3):  # clear of the header's border lines
        dark = [
            x
            for x in range(right - 20, right - 4)  # the arrow sits at the section's right end
            if not _near(QColor(image.pixel(QPoint(x, y))), background)
        ]
        if dark:
            widths.append(len(dark))
    assert len(widths) >= 2, "no sort arrow drawn"
    return widths[0] > widths[-1]


def test_the_sort_arrow_points_down_for_newest_first(qtbot: QtBot, scheme: str) -> None:
    _root, table, _button = _window(qtbot)
    table.setSortingEnabled(True)
    table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # "newest first" on a date column
    assert _arrow_points_down(table, 1)
    table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert not _arrow_points_down(table, 1)


def _header(text: str, sort: QStyleOptionHeader.SortIndicator, width: int) -> QImage:
    """One horizontal header section painted by the app's style: label right-aligned."""
    style = QApplication.style()
    option = QStyleOptionHeader()
    option.rect = QRect(0, 0, width, 20)
    option.state = QStyle.StateFlag.State_Horizontal | QStyle.StateFlag.State_Enabled
    option.palette = QApplication.palette()
    option.text = text
    option.textAlignment = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    option.sortIndicator = sort
    image = QImage(width, 20, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    style.drawControl(QStyle.ControlElement.CE_Header, option, painter, None)
    painter.end()
    return image


@pytest.mark.parametrize("sort", ["SortUp", "SortDown"])
def test_a_right_aligned_header_label_ends_before_the_sort_arrow(
    qtbot: QtBot, scheme: str, sort: str
) -> None:
    # the walk by hand (L1): "Frees▲" — the arrow sat on the final "s" of Size and Frees
    indicator = getattr(QStyleOptionHeader.SortIndicator, sort)
    with_text, arrow_only = _header("Frees", indicator, 92), _header("", indicator, 92)
    text_ink = [
        x
        for x in range(92)
        if any(with_text.pixel(x, y) != arrow_only.pixel(x, y) for y in range(20))
    ]
    bare = _header("", QStyleOptionHeader.SortIndicator.None_, 92)
    arrow_ink = [
        x for x in range(92) if any(arrow_only.pixel(x, y) != bare.pixel(x, y) for y in range(20))
    ]
    assert text_ink and arrow_ink
    assert max(text_ink) < min(arrow_ink) - 1, (max(text_ink), min(arrow_ink))


def test_add_registry_opens_with_the_cursor_in_the_address(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    """Walking the app under Xvfb: typing right after File › Add registry… went nowhere (the
    focus was not in the Address field, the first thing the dialog asks for)."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    dialog = AddRegistryDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClicks(QApplication.focusWidget(), "reg.example")
    assert dialog.address.text() == "reg.example"
    qloop.run_until_complete(dialog.tasks.aclose())


def test_a_registry_just_added_is_the_current_sidebar_node(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    """Walking the app: after Add registry the view showed the new registry but the sidebar
    kept the old one current, so clicking the old one did nothing."""
    window = local_window(qtbot, tmp_path)

    async def scenario() -> None:
        first = await window.local_mode.start()
        await window.start()
        window.open_profile(first.name)
        window.sidebar.select_registry(first.name)
        await until(lambda: not window.tasks.running("repos"), 60)
        await window.accounts.save(
            Profile.for_endpoint(Endpoint(url="http://127.0.0.1:1"), name="unreachable")
        )
        window.commands.profile_added("unreachable")
        await until(
            lambda: window.profile == "unreachable" and not window.tasks.running("profiles")
        )
        current = window.sidebar.currentItem()
        assert current is not None and current.text(0) == "unreachable"

    run_in_local_mode(qloop, window, scenario)


def test_every_tab_stop_of_the_details_pane_shows_its_focus(qtbot: QtBot) -> None:
    """Walking the app: after the details tabs, Tab stopped once on nothing visible (the
    Summary tab's scroll area, which draws no focus) before the Copy buttons."""
    from PySide6.QtWidgets import QAbstractButton, QLineEdit, QPlainTextEdit, QTabBar
    from test_details import REFERENCE, _tag

    from regview.ui.pages.details import DetailsPane

    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(520, 600)
    pane.show()
    pane.show_tag(_tag(), REFERENCE)
    QApplication.processEvents()
    stops: list[QWidget] = []
    widget: QWidget = pane.tabs.tabBar()
    for _ in range(200):
        widget = widget.nextInFocusChain()
        if widget is pane.tabs.tabBar():
            break
        if (
            widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and widget.isVisibleTo(pane)
            and widget.isEnabled()
            and widget.focusProxy() is None
        ):
            stops.append(widget)
    assert stops, "no Tab stop after the tabs"
    # each stop is a control that draws its focus; a bare scroll area (a container) draws none
    controls = (QAbstractButton, QLineEdit, QPlainTextEdit, QAbstractItemView, QTabBar)
    assert [type(s).__name__ for s in stops if not isinstance(s, controls)] == []
