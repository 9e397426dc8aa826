"""The Storage overview's ranking: repositories and tags by the bytes they hold, computed off the
UI thread, bounds marked, and a click opens what was clicked."""

from __future__ import annotations

from typing import Any

import pytest
from frees_trees import image
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from regview.core.frees import BlobLedger
from regview.core.model import ArtifactKind, TagInfo
from regview.ui.pages.overview import OverviewPanel

pytestmark = pytest.mark.ui

MiB = 1 << 20
BASE = ("sha256:debian", 30 * MiB)


def tags() -> list[TagInfo]:
    return [
        image("1", "sha256:A1", BASE, ("sha256:a1", 5 * MiB), repository="team/a"),
        image("2", "sha256:A2", BASE, ("sha256:a2", 1 * MiB), repository="team/a"),
        image("x", "sha256:B1", BASE, ("sha256:b1", 2 * MiB), repository="team/b"),
        TagInfo("team/b", "broken", "", "", ArtifactKind.UNKNOWN, error="unreadable"),
        image("c", "sha256:C1", ("sha256:c1", 80 * MiB), repository="team/c"),
    ]


@pytest.fixture
def panel(qtbot: QtBot) -> OverviewPanel:
    p = OverviewPanel()
    qtbot.addWidget(p)
    p.resize(1000, 800)
    p.show()
    qtbot.waitExposed(p)
    with qtbot.waitSignal(p.ranking.computed, timeout=10_000):
        p.set_tags(tags(), "all repositories")
    return p


def _click(qtbot: QtBot, widget: object, row: int) -> None:
    bars = widget
    y = int(4 + (row + 0.5) * bars._row_height())  # type: ignore[attr-defined]
    qtbot.mouseClick(bars, Qt.MouseButton.LeftButton, pos=QPoint(40, y))  # type: ignore[arg-type]


def test_repositories_and_tags_ranked_with_bounds(panel: OverviewPanel) -> None:
    repos = panel.ranking.repo_bars
    assert [label for label, _ in repos.items] == ["team/c", "team/a", "team/b"]
    # The Debian base is in team/a and team/b: neither holds it alone. team/b has an unread tag.
    assert repos.texts == ["80.0 MiB", "6.0 MiB", "≥ 2.0 MiB"]
    assert "Its 2 tags store 36.0 MiB, each layer once" in repos.tips[1]
    assert "at least" in repos.tips[2]
    tag_bars = panel.ranking.tag_bars
    assert [label for label, _ in tag_bars.items] == [
        "team/c:c",
        "team/b:x",
        "team/a:1",
        "team/a:2",
    ]
    assert tag_bars.texts[1] == "≤ 32.0 MiB"
    assert "counts a layer several repositories use in each" in panel.ranking.note.text()


def test_clicking_a_bar_opens_the_repository_or_the_tag(panel: OverviewPanel, qtbot: QtBot) -> None:
    with qtbot.waitSignal(panel.repositoryActivated) as repo:
        _click(qtbot, panel.ranking.repo_bars, 1)
    assert repo.args == ["team/a"]
    with qtbot.waitSignal(panel.tagActivated) as tag:
        _click(qtbot, panel.ranking.tag_bars, 2)
    assert tag.args == ["team/a", "1"]


def test_a_newer_request_wins(panel: OverviewPanel, qtbot: QtBot) -> None:
    with qtbot.waitSignal(panel.ranking.computed, timeout=10_000):
        panel.set_tags(tags()[:2], "team/a")
        panel.set_tags(tags()[4:], "team/c")
    panel.ranking.wait()
    qtbot.wait(50)
    assert [label for label, _ in panel.ranking.repo_bars.items] == ["team/c"]


def test_ranking_again_redoes_only_the_repository_that_changed(
    panel: OverviewPanel, qtbot: QtBot
) -> None:
    trackers = panel.ranking._trackers
    added: list[str] = []

    class Counting(BlobLedger):
        __slots__ = ()

        def add(self, root: str, tree: Any) -> None:
            added.append(root)
            super().add(root, tree)

    for repo in ("team/a", "team/b", "team/c"):
        trackers.get(repo).ledger.__class__ = Counting
    more = [*tags(), image("c2", "sha256:C2", ("sha256:c2", 1 * MiB), repository="team/c")]
    with qtbot.waitSignal(panel.ranking.computed, timeout=10_000):
        panel.set_tags(more, "all repositories")
    assert added == ["sha256:C2"]  # team/a and team/b: nothing worked out again
    ranking = panel.ranking.ranking
    assert ranking is not None and ranking.repositories[0].stored == 81 * MiB


def test_a_ranking_of_nothing_does_not_stay_working_out(panel: OverviewPanel, qtbot: QtBot) -> None:
    """The walk by hand: the Storage overview of a registry that cannot be reached kept saying
    "Working out what each repository stores…" under an empty chart for good."""
    with qtbot.waitSignal(panel.ranking.computed, timeout=10_000):
        panel.set_tags([], "all repositories")
    ranking = panel.ranking
    assert ranking.repo_bars.items == [] and ranking.tag_bars.items == []
    assert ranking.repo_bars.empty_text == ranking.tag_bars.empty_text == "No tags read yet"
