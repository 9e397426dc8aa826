"""On a narrow window the details pane goes under the tags table instead of beside it: at
1024×700 the pane beside the table (as wide as its tabs) left the table three columns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from window_support import local_window

from regview.ui.window.binding import PAGE_TAGS

pytestmark = [pytest.mark.ui]


def _settle(window_size: tuple[int, int], window: object) -> None:
    window.resize(*window_size)  # type: ignore[attr-defined]
    for _ in range(5):
        QApplication.processEvents()


def test_the_details_pane_moves_under_the_table_on_a_narrow_window(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = local_window(qtbot, tmp_path)
    window.pages.setCurrentIndex(PAGE_TAGS)
    page = window.tags

    _settle((1024, 700), window)
    assert page.orientation() == Qt.Orientation.Vertical
    # the table has (nearly) the page's whole width; the pane is below it
    assert window.tags_view.width() >= page.width() - 10
    assert window.details.geometry().top() > window.tags_view.geometry().bottom()

    _settle((1600, 1000), window)
    assert page.orientation() == Qt.Orientation.Horizontal
    assert window.details.geometry().left() > window.tags_view.geometry().right()
    assert window.tags_view.width() > window.details.width()

    _settle((1024, 700), window)  # and back
    assert page.orientation() == Qt.Orientation.Vertical
    qloop.run_until_complete(window.aclose())
    window.close()
