"""The dark scheme reaches every widget: walking the app under X11, View › Theme › Dark left the
toolbar and the sidebar white (their own style sheets kept the palette they were polished with)
and a checkbox in a dark dialog could hardly be seen (Fusion outlines it in a near-black); and a
tool button reached by Tab (the details pane's Copy) showed no focus to speak of.

Here the application keeps the RegviewStyle all along (no fixture swaps styles under live
widgets, which crashed a test process now and then)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QStyle, QStyleOptionButton, QToolBar, QWidget
from pytestqt.qtbot import QtBot
from window_support import close_window, local_window

from regview.ui.theme import apply_theme
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui]


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


def _pixel(window: MainWindow, image: QImage, widget: QWidget, at: QPoint) -> QColor:
    where = widget.mapTo(window, at)
    return image.pixelColor(where)


def _backgrounds(window: MainWindow) -> dict[str, QColor]:
    """The colour of an empty spot of the toolbar (right of its last action) and of the sidebar
    (below the welcome page's empty tree)."""
    QApplication.processEvents()
    image = window.grab().toImage()
    bar = window.findChild(QToolBar, "mainToolbar")
    assert bar is not None
    viewport = window.sidebar.viewport()
    return {
        "toolbar": _pixel(window, image, bar, QPoint(bar.width() - 8, bar.height() // 2)),
        "sidebar": _pixel(
            window, image, viewport, QPoint(viewport.width() // 2, viewport.height() - 8)
        ),
    }


@pytest.mark.parametrize("how", ["switched at run time", "dark at start"])
def test_dark_scheme_paints_the_toolbar_and_the_sidebar_dark(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop, how: str
) -> None:
    app = _app()
    apply_theme(app, "light" if how == "switched at run time" else "dark")
    window = local_window(qtbot, tmp_path)
    try:
        qloop.run_until_complete(window.start())  # the welcome page
        if how == "switched at run time":
            light = _backgrounds(window)
            assert all(c.lightness() > 200 for c in light.values()), light
            window.menus.theme_actions["dark"].trigger()
        dark = _backgrounds(window)
        assert all(c.lightness() < 60 for c in dark.values()), {
            k: c.name() for k, c in dark.items()
        }
        window.menus.theme_actions["light"].trigger()  # and back
        light = _backgrounds(window)
        assert all(c.lightness() > 200 for c in light.values()), {
            k: c.name() for k, c in light.items()
        }
    finally:
        apply_theme(app, "light")
        close_window(qloop, window)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_unchecked_checkbox_stands_out_from_its_background(qtbot: QtBot, scheme: str) -> None:
    app = _app()
    apply_theme(app, scheme)
    try:
        holder = QWidget()
        qtbot.addWidget(holder)
        box = QCheckBox("Also delete manifests left untagged", holder)
        holder.resize(360, 40)
        box.move(10, 10)
        holder.show()
        QApplication.processEvents()
        option = QStyleOptionButton()
        box.initStyleOption(option)
        indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        image = box.grab().toImage()
        behind = holder.palette().color(holder.backgroundRole())
        contrast = max(
            abs(image.pixelColor(x, y).lightness() - behind.lightness())
            for x in range(indicator.left(), indicator.right() + 1)
            for y in range(indicator.top(), indicator.bottom() + 1)
        )
        # the outline of the box differs from the dialog behind it by a visible step
        assert contrast >= 60, (scheme, contrast)
    finally:
        apply_theme(app, "light")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_tool_button_reached_by_tab_is_outlined(qtbot: QtBot, scheme: str) -> None:
    """The details pane's Copy buttons, reached by Tab, showed their focus only by a faint
    raised frame: an outline in the highlight colour now, as on tables."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QToolButton
    from test_details import REFERENCE, _tag

    from regview.ui.pages.details import DetailsPane

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, scheme)
    try:
        pane = DetailsPane()
        qtbot.addWidget(pane)
        pane.resize(520, 400)
        pane.show()
        pane.show_tag(_tag(), REFERENCE)
        with qtbot.waitActive(pane):
            pane.activateWindow()
        pane.tabs.tabBar().setFocus(Qt.FocusReason.TabFocusReason)
        QTest.keyClick(pane.tabs.tabBar(), Qt.Key.Key_Tab)
        button = app.focusWidget()
        assert isinstance(button, QToolButton) and button.text() == "Copy"
        image = button.grab().toImage()
        highlight = button.palette().color(QPalette.ColorRole.Highlight)
        outlined = sum(
            1
            for x in range(image.width())
            for y in range(image.height())
            if _close(image.pixelColor(x, y), highlight)
        )
        assert outlined >= image.width(), (scheme, outlined)  # at least one edge's worth
    finally:
        apply_theme(app, "light")


def _close(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 40
