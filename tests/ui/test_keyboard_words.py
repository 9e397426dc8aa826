"""Keyboard and words in the main window (issue 10 item 7), through the real window on the
embedded registry's demo data: Escape clears a filter box and then leaves it for the table, a bad
regular expression is explained under the box in words (it only turned red), Tab leaves a table
for the next pane (it walked cell by cell), and counts are in words ("1 other tag shares",
never "tag(s)")."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import SCHEMES, open_repo, open_window, shot, theme, until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from tagdata import make_tags

from regview.ui.models import tags_model as tm
from regview.ui.models.tags_model import TagsModel
from regview.ui.words import plural

pytestmark = [pytest.mark.ui, pytest.mark.integration]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_escape_bad_regex_and_tab(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        try:
            open_repo(qloop, window, "acme/webshop")
            view, bar = window.tags_view, window.tags_view.filter_bar
            total = view.model.rowCount()

            async def escape_twice() -> None:
                window.activateWindow()
                bar.text.setFocus()
                await until(bar.text.hasFocus, 5)
                qtbot.keyClicks(bar.text, "v1")
                await until(lambda: view.model.rowCount() < total)
                qtbot.keyClick(bar.text, Qt.Key.Key_Escape)
                await until(lambda: view.model.rowCount() == total)
                assert bar.text.text() == "" and bar.text.hasFocus()
                qtbot.keyClick(bar.text, Qt.Key.Key_Escape)  # empty: leave for the table
                await until(view.table.hasFocus, 5)

            run(qloop, escape_twice())

            async def bad_regex() -> None:
                bar.regex.setChecked(True)
                bar.text.setFocus()
                qtbot.keyClicks(bar.text, "v(1")
                await until(bar.error.isVisible, 5)

            run(qloop, bad_regex())
            assert "Not a usable regular expression" in bar.error.text()
            assert "switch off .*" in bar.error.text()
            shot(qloop, window, tmp_path, "bad-regex", scheme)

            async def fix_it_and_tab() -> None:
                qtbot.keyClick(bar.text, Qt.Key.Key_Escape)
                await until(lambda: not bar.error.isVisible())
                bar.regex.setChecked(False)
                view.table.setFocus()
                await until(view.table.hasFocus, 5)
                before = view.table.currentIndex()
                qtbot.keyClick(view.table, Qt.Key.Key_Tab)
                await asyncio.sleep(0.05)
                focus = QApplication.focusWidget()
                assert focus is not view.table, "Tab moved to the next cell, not the next pane"
                assert view.table.currentIndex() == before

            run(qloop, fix_it_and_tab())

            async def repositories_filter() -> None:
                window.open_profile("demo")
                await until(lambda: not window.tasks.running("repos"))
                window.repo_filter.setFocus()
                await until(window.repo_filter.hasFocus, 5)
                qtbot.keyClicks(window.repo_filter, "oss")
                qtbot.keyClick(window.repo_filter, Qt.Key.Key_Escape)
                assert window.repo_filter.text() == ""
                qtbot.keyClick(window.repo_filter, Qt.Key.Key_Escape)
                await until(window.repos_table.hasFocus, 5)

            run(qloop, repositories_filter())
        finally:
            window.close()
            run(qloop, window.aclose())


def test_counts_are_words() -> None:
    assert plural(1, "other tag") == "1 other tag"
    assert plural(3, "other tag") == "3 other tags"
    assert plural(2, "entry", "entries") == "2 entries"
    tags = make_tags(3)
    tags[1] = replace(tags[1], digest=tags[0].digest)
    model = TagsModel()
    model.set_tags("group/app", tags)
    row = model.visible.index(0)
    text = model.tooltip_text(row, tm.SHARED)
    assert text is not None and text.startswith("Same manifest as 1 other tag:"), text
