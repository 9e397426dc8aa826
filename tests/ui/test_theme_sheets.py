"""A theme switch re-applies the style sheets of the widgets that have one of their own (set
through theme.set_sheet), so they follow the new palette, and leaves every other widget alone:
it used to set the sheet again on every widget of the application (QApplication.allWidgets).

The application keeps the RegviewStyle all along; only the palette switches (see
test_theme_paint)."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from regview.ui.theme import apply_theme, set_sheet

pytestmark = [pytest.mark.ui]

#: a sheet whose colour comes from the palette: Qt resolves it when the sheet is set
SHEET = "QLabel { background: palette(window); }"


class _Counting(QLabel):
    """A label that counts the style sheets set on it from Python (theme.py sets them so)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("sheet", parent)
        self.sheets = 0

    def setStyleSheet(self, sheet: str) -> None:
        self.sheets += 1
        super().setStyleSheet(sheet)


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


def _lightness(label: QLabel) -> int:
    QApplication.processEvents()
    return label.grab().toImage().pixelColor(QPoint(label.width() - 3, 3)).lightness()


def test_a_theme_switch_restyles_the_widgets_with_own_sheets_and_no_other(qtbot: QtBot) -> None:
    app = _app()
    apply_theme(app, "light")
    try:
        holder = QWidget()
        qtbot.addWidget(holder)
        layout = QVBoxLayout(holder)
        own = _Counting()
        set_sheet(own, SHEET)
        # a sheet set around set_sheet: not registered, so not the theme's to touch
        stranger = _Counting()
        stranger.setStyleSheet(SHEET)
        plain = _Counting()
        for label in (own, stranger, plain):
            label.setMinimumSize(120, 24)
            layout.addWidget(label)
        holder.show()
        assert _lightness(own) > 200
        assert (own.sheets, stranger.sheets, plain.sheets) == (1, 1, 0)

        apply_theme(app, "dark")
        assert (own.sheets, stranger.sheets, plain.sheets) == (2, 1, 0)
        assert own.styleSheet() == SHEET and plain.styleSheet() == ""
        assert _lightness(own) < 60  # its sheet follows the new palette

        apply_theme(app, "light")
        assert (own.sheets, stranger.sheets, plain.sheets) == (3, 1, 0)
        assert _lightness(own) > 200
    finally:
        apply_theme(app, "light")


def test_a_widget_qt_deleted_is_dropped_not_restyled(qtbot: QtBot) -> None:
    """A registered widget deleted on the C++ side while Python still holds it (a closed
    dialog's label kept by a callback) does not break the next switch."""
    app = _app()
    apply_theme(app, "light")
    try:
        gone = _Counting()
        set_sheet(gone, SHEET)
        shiboken6.delete(gone)
        kept = _Counting()
        qtbot.addWidget(kept)
        set_sheet(kept, SHEET)
        apply_theme(app, "dark")  # no "Internal C++ object already deleted"
        assert kept.sheets == 2
    finally:
        apply_theme(app, "light")
