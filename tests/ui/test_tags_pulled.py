"""Last pull times in the window (issue 17: Harbor and Docker Hub say when a tag was last
pulled): a "Last pulled" column shown where the rows have them and hidden where the registry
says nothing, sortable (never pulled first, then the oldest pull: what a cleanup looks for),
a user's own choice from the header menu kept, and the details pane's "Last pulled" row.
Screenshot: tags-last-pulled."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from delete_support import shot
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from tagdata import make_tags

from regview.core.model import TagInfo
from regview.ui.models import tags_model as tm
from regview.ui.pages.details import DetailsPane
from regview.ui.pages.tags_view import TagsView

pytestmark = pytest.mark.ui

NOW = datetime.now(UTC)


def _pulled_rows() -> list[TagInfo]:
    rows = make_tags(6)
    days = {0: 40, 1: None, 2: 2, 3: 300, 4: None, 5: 0.01}
    return [
        replace(r, pulled=None if days[i] is None else NOW - timedelta(days=days[i]))
        for i, r in enumerate(rows)
    ]


def _shown_tags(view: TagsView) -> list[str]:
    m = view.model
    return [m.rows[m.visible[i]].tag for i in range(len(m.visible))]


def test_last_pulled_column_follows_the_rows_and_sorts_for_a_cleanup(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path
) -> None:
    view = TagsView()
    qtbot.addWidget(view)
    view.resize(1100, 320)
    view.show()
    hh = view.table.horizontalHeader()
    assert tm.HEADERS[tm.PULLED] == "Last pulled"

    view.set_tags("group/app", make_tags(6))
    assert hh.isSectionHidden(tm.PULLED), "no registry said when: no empty column"

    rows = _pulled_rows()
    view.set_tags("team/app", rows)
    assert not hh.isSectionHidden(tm.PULLED)
    assert hh.visualIndex(tm.PULLED) == hh.visualIndex(tm.CREATED) + 1

    view.sort_by(tm.PULLED)
    by_age = sorted(
        (r for r in rows if r.pulled is not None),
        key=lambda r: r.pulled or NOW,
    )
    never = sorted(r.tag for r in rows if r.pulled is None)
    shown = _shown_tags(view)
    assert sorted(shown[:2]) == never, "never pulled first"
    assert shown[2:] == [r.tag for r in by_age], "then the oldest pull first"
    m = view.model
    assert m.data(m.index(0, tm.PULLED)) == tm.NEVER
    oldest = m.data(m.index(2, tm.PULLED))
    assert oldest.endswith(" ago") and "10 months" in oldest, oldest
    assert "Last pulled" in m.data(m.index(2, tm.PULLED), Qt.ItemDataRole.ToolTipRole)
    shot(qloop, view, tmp_path, "tags-last-pulled", "light")

    # rows arriving in batches: the column appears with the first batch that has a pull time
    view.set_tags("group/app", [])
    assert hh.isSectionHidden(tm.PULLED)
    view.append_tags(make_tags(3))
    assert hh.isSectionHidden(tm.PULLED)
    view.append_tags(rows[:1])
    assert not hh.isSectionHidden(tm.PULLED)

    # shown by hand from the header menu: it stays, whatever the rows say
    view._choose_column(tm.PULLED, True)
    view.set_tags("group/app", make_tags(6))
    assert not hh.isSectionHidden(tm.PULLED)


def test_details_pane_says_when_the_tag_was_last_pulled(qtbot: QtBot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.show()
    row = _pulled_rows()[2]
    assert row.pulled is not None
    pane.show_tag(row, "127.0.0.1:5000/team/app:" + row.tag)
    assert pane.pulled.isVisibleTo(pane)
    assert pane.pulled.text().endswith("(2 days ago)"), pane.pulled.text()
    assert f"{row.pulled.astimezone():%Y-%m-%d}" in pane.pulled.text()
    pane.show_tag(make_tags(1)[0], "127.0.0.1:5000/group/app:x")
    assert not pane.pulled.isVisibleTo(pane), "no pull time: no row saying nothing"
