"""The details pane follows the tags table (issue 10 item 4), through the real main window on the
embedded registry: after Refresh the selected tag's details are shown again (it said "No tag
selected" while the row stayed highlighted), after a deletion elsewhere in the table the tag that
stays selected is shown, and a filter that hides the selected tag empties the pane."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import SCHEMES, open_repo, open_window, shot, theme, until
from pytestqt.qtbot import QtBot

from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.models.filtering import FilterSpec
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/webshop"


def shows(window: MainWindow, tag: str) -> bool:
    current = window.details.current
    return current is not None and current.tag == tag and window.details.tabs.isEnabled()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_details_pane_follows_refresh_deletion_and_filter(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        view = window.tags_view
        try:
            open_repo(qloop, window, REPO)
            names = [view.model.row_at(r).tag for r in range(view.model.rowCount())]
            chosen, other = names[1], names[2]

            async def select_then_refresh() -> None:
                view.select_tags([chosen], current=chosen)
                await until(lambda: shows(window, chosen) and window.details.manifest.toPlainText())
                window.refresh_action.trigger()
                await until(lambda: not window.tasks.running("tags"))
                await until(lambda: not window.tasks.running("details"))

            run(qloop, select_then_refresh(), 60)
            assert [t.tag for t in view.selected_tags()] == [chosen]
            assert "1 selected" in window.counts.text()
            assert shows(window, chosen), "the row stays selected, the pane said No tag selected"
            assert window.details.manifest.toPlainText()  # read again, not only the header

            # a deletion of another tag (what a policy run does): the selected tag stays shown
            shown: list[DeleteDialog] = []
            window.delete_flow.confirmShown.connect(shown.append)

            async def delete_other() -> None:
                window.delete_flow.delete_tags("demo", REPO, [other])
                await until(lambda: bool(shown), 30)
                shown[0].delete_button.click()
                await until(lambda: other not in {t.tag for t in view.model.rows}, 60)
                await until(lambda: not window.tasks.running("details"))

            run(qloop, delete_other(), 90)
            assert [t.tag for t in view.selected_tags()] == [chosen]
            assert shows(window, chosen), "the row stays selected, the pane said No tag selected"

            async def close_dialogs() -> None:
                for w in qapp.topLevelWidgets():
                    if w is not window and w.isVisible():
                        w.close()
                await asyncio.sleep(0.1)

            run(qloop, close_dialogs())

            # a filter that hides the selected tag: the pane no longer shows it
            async def filter_it_away() -> None:
                view.set_spec(FilterSpec(text="no-tag-is-called-like-this"))
                await asyncio.sleep(0.1)

            run(qloop, filter_it_away())
            assert view.model.rowCount() == 0
            assert window.details.current is None
            assert window.details.title.text() == "No tag selected"
            shot(qloop, window, tmp_path, "details-filtered-away", scheme)

            async def filter_back() -> None:
                view.set_spec(FilterSpec())
                await until(lambda: shows(window, chosen))
                await until(lambda: not window.tasks.running("details"))

            run(qloop, filter_back())
            shot(qloop, window, tmp_path, "details-after-refresh", scheme)
        finally:
            window.close()
            run(qloop, window.aclose())
