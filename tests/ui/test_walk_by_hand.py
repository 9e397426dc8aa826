"""Defects seen walking the app by hand under Xvfb and openbox (xdotool only; the screenshots
named are in the walk's report), each through the real window against a real embedded registry:

- after the storage overview had been shown once, the window could no longer be made 1024×700
  on any page (the overview's minimum height held the whole page stack; 59-dark-1024x700);
- a registry never listed said "0 repositories" while its first listing was still running
  (14-switch-local-then-dead-fast);
- a disabled field (Username and Token with "Anonymous") looked like an enabled one, so typing
  into it went nowhere without a sign why (08-add-dead-filled);
- the details pane changed its width with what it showed (a tag, none, several), moving the
  splitter and the filter row's buttons under the pointer (25-filter-mr, 34-drag-select-3);
- the storage overview's histogram drew as "old" only the tags past six months, beside a
  headline counting those older than 90 days (54-storage-overview).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import demo_repository, open_window, theme, until
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = "acme/infra/ci-runner"  # in the demo data, several tags
DEAD = "http://127.0.0.1:1"


def _idle(window: MainWindow) -> bool:
    return not any(
        window.tasks.running(s) for s in ("repos", "tags", "measure", "details", "sizes")
    )


def _settle(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    async def wait() -> None:
        await asyncio.sleep(0.3)  # the pane's read starts 80 ms after the selection stops
        await until(lambda: _idle(window), 60)

    run(qloop, wait(), 90)


def _close(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    window.close()
    run(qloop, window.aclose())


def test_the_window_fits_1024x700_after_the_storage_overview_was_shown(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path
) -> None:
    with demo_repository(qtbot, qloop, qapp, tmp_path, "light", REPO) as (_url, window):
        window.show_overview("demo")
        _settle(qloop, window)
        assert window.overview.ranking.isVisible()  # the overview has its bars in
        # where its sections fit at their smallest it does not scroll (the scroll area gave
        # them their preferred heights, so a 1300×900 window cut off the histogram)
        window.resize(1300, 900)
        run(qloop, asyncio.sleep(0.2))
        histogram = window.overview.histogram
        assert histogram.visibleRegion().boundingRect().height() == histogram.height()
        window.resize(1024, 700)
        run(qloop, asyncio.sleep(0.2))
        assert (window.width(), window.height()) == (1024, 700)  # the overview scrolls

        window.open_repository("demo", REPO)
        _settle(qloop, window)
        window.resize(1024, 700)
        run(qloop, asyncio.sleep(0.2))
        assert (window.width(), window.height()) == (1024, 700)
        _close(qloop, window)


def test_a_registry_never_listed_has_no_repository_count_while_it_is_read(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "alpha", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, {"alpha": url, "dead": DEAD})
        assert window.counts.text().endswith(" repositories")  # alpha's, listed
        window.open_profile("dead")
        # nothing was ever listed there: no count yet, not "0 repositories"
        assert "0 repositories" not in window.counts.text()
        assert window.counts.text() == "Listing repositories…"
        _settle(qloop, window)
        assert "repositories" not in window.counts.text()  # it failed: the banner says why
        assert window.banner.isVisible()

        window.open_profile("alpha")  # a registry listed before: its own count at once
        assert window.counts.text().endswith(" repositories")
        assert window.counts.text() != "0 repositories"
        _settle(qloop, window)
        _close(qloop, window)


def _field_colour(field: QLineEdit) -> int:
    image: QImage = field.grab().toImage()
    return image.pixel(image.width() // 2, image.height() // 2)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_disabled_field_does_not_look_like_an_enabled_one(
    qtbot: QtBot, qapp: Any, scheme: str
) -> None:
    with theme(qapp, scheme):
        box = QWidget()
        qtbot.addWidget(box)
        layout = QVBoxLayout(box)
        enabled, disabled = QLineEdit(), QLineEdit()
        disabled.setEnabled(False)
        layout.addWidget(enabled)
        layout.addWidget(disabled)
        box.resize(300, 80)
        box.show()
        QApplication.processEvents()
        assert _field_colour(enabled) != _field_colour(disabled)


def test_the_details_pane_keeps_its_width_whatever_it_shows(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path
) -> None:
    with demo_repository(qtbot, qloop, qapp, tmp_path, "light", REPO) as (_url, window):
        window.resize(1360, 820)  # the pane beside the table, at its narrowest
        _settle(qloop, window)
        view = window.tags_view
        table = view.table
        first = view.model.row_at(0).tag
        view.select_tags([first], current=first)
        _settle(qloop, window)
        assert window.details.current is not None and window.details.current.tag == first
        width = window.details.width()

        table.clearSelection()  # none: "No tag selected"
        _settle(qloop, window)
        assert window.details.current is None
        assert window.details.width() == width

        selection = table.selectionModel()
        for row in range(3):  # several: "3 tags selected"
            index = table.model().index(row, 0)
            selection.select(
                index,
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
        _settle(qloop, window)
        assert window.details.counted == 3
        assert window.details.width() == width
        _close(qloop, window)


def test_the_histograms_old_bars_are_the_tags_older_than_90_days(qtbot: QtBot) -> None:
    """The headline says "8 tags older than 90 days"; the bars drawn in the "old" colour held
    only the 4 past six months (54-storage-overview): the two must be the same tags."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from regview.core.model import ArtifactKind, TagInfo
    from regview.spec.mediatypes import OCI_MANIFEST
    from regview.ui.pages.overview import OverviewPanel, old_bucket

    now = time.time()

    def aged(name: str, days: float) -> TagInfo:
        tag = TagInfo(
            "team/app", name, f"sha256:{len(name):064x}", OCI_MANIFEST, ArtifactKind.IMAGE
        )
        return replace(tag, created=datetime.fromtimestamp(now - days * 86400, UTC), size=1)

    tags = [aged("a", 2), aged("bb", 60), aged("ccc", 100), aged("dddd", 200), aged("eeeee", 400)]
    panel = OverviewPanel()
    qtbot.addWidget(panel)
    panel.set_tags(tags, "all repositories")
    drawn_old = sum(
        count
        for i, (label, count, _size) in enumerate(panel.histogram.buckets)
        if old_bucket(i, label)
    )
    assert panel.stale_count == 3
    assert drawn_old == panel.stale_count
