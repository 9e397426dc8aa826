"""The Storage overview's ranking: where the space goes, by repository and by tag.

    RankingSection(parent=None)
        set_tags(tags)                  every tag read so far (any repositories); ranked on the
                                        frees worker thread (`regview.core.frees.rank_space`)
        set_gitlab_sizes(sizes)         GitLab's own size per repository, in the tooltips
        ranking: SpaceRanking | None    what is shown
        signals: repositoryActivated(str), tagActivated(str, str)   a bar was clicked
        computed()                      a new ranking is shown

Left: the repositories holding the most bytes no other repository read uses (what deleting the
whole repository would give back), with what each stores (every blob once) in the tooltip. Right: the tags whose deletion frees the most. "≥" marks a
lower bound (tags of that repository could not be read), "≤" an upper one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from regview.core.frees import SpaceRanking, rank_space
from regview.core.model import TagInfo
from regview.ui.models.frees_column import Trackers
from regview.ui.offthread import OffThread
from regview.ui.pages.overview import BarChart
from regview.ui.theme import mute
from regview.util.units import human_size

#: repositories whose trackers the ranking keeps (beyond that, the least recently ranked start
#: over next time)
RANKED_TRACKERS = 500

#: Under the two rankings: what their numbers are, short enough for a small screen with a large
#: font (the page does not scroll); the rest is in its tooltip.
NOTE = (
    "Only here: what deleting the whole repository gives back (layers no other repository uses). "
    "“Size per repository” counts a layer several repositories use in each of them."
)
NOTE_DETAILS = (
    "Only here: layers and configs no other repository read so far uses — what deleting the "
    "whole repository gives back. “Size per repository” counts a layer several repositories "
    "use in each of them, so those bars add up to more than the registry holds. ≥: some tags of "
    "that repository could not be read, so it holds at least this much. Frees: what deleting "
    "only that tag gives back after garbage collection (≤: at most, unread tags may share its "
    "layers)."
)


class RankedBars(BarChart):
    """Bars in the given order; each row carries what a click opens, its text and tooltip."""

    picked = Signal(object)

    def __init__(self, parent: QWidget | None = None, limit: int = 12) -> None:
        super().__init__(parent, limit)
        self.keys: list[Any] = []
        self.texts: list[str] = []
        self.tips: list[str] = []

    def set_ranked(self, rows: Sequence[tuple[str, int, Any, str, str]]) -> None:
        """(label, value, key, value text, tooltip) per row, already ranked."""
        rows = list(rows)[: self.limit]
        self.items = [(label, value) for label, value, *_ in rows]
        self.keys = [r[2] for r in rows]
        self.texts = [r[3] for r in rows]
        self.tips = [r[4] for r in rows]
        self.updateGeometry()
        self.update()

    def value_text(self, row: int) -> str:
        return self.texts[row]

    def tip_text(self, row: int) -> str:
        return self.tips[row]

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        row = self._row_at(event.position().y())
        if row >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.picked.emit(self.keys[row])


def repository_rows(
    ranking: SpaceRanking, gitlab_sizes: Mapping[str, int] | None = None
) -> list[tuple[str, int, Any, str, str]]:
    rows = []
    for r in ranking.repositories:
        bound = "" if r.complete else "≥ "
        gitlab = (gitlab_sizes or {}).get(r.repository)
        tip = (
            f"{r.repository}: {bound}{human_size(r.alone)} ({r.alone:,} bytes) no other "
            "repository read so far uses.\n"
            f"Its {r.tags:,} tags store {bound}{human_size(r.stored)}, each layer once."
            + (
                ""
                if gitlab is None
                else f"\nGitLab says it holds {human_size(gitlab)} ({gitlab:,} bytes), "
                "untagged manifests included."
            )
            + ("" if r.complete else "\nSome of its tags could not be read: at least this much.")
            + "\nClick to open it."
        )
        rows.append((r.repository, r.alone, r.repository, bound + human_size(r.alone), tip))
    return rows


def tag_rows(ranking: SpaceRanking) -> list[tuple[str, int, Any, str, str]]:
    rows = []
    for t in ranking.tags:
        bound = "" if t.complete else "≤ "
        tip = (
            f"Deleting {t.repository}:{t.tag} alone frees {bound}{human_size(t.frees)} "
            f"({t.frees:,} bytes) after garbage collection: the layers and configs no other tag "
            "of its repository uses."
            + ("" if t.complete else "\nAt most: some tags of the repository could not be read.")
            + "\nClick to open the repository with this tag selected."
        )
        rows.append(
            (
                f"{t.repository}:{t.tag}",
                t.frees,
                (t.repository, t.tag),
                bound + human_size(t.frees),
                tip,
            )
        )
    return rows


class RankingSection(QWidget):
    repositoryActivated = Signal(str)
    tagActivated = Signal(str, str)
    computed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ranking: SpaceRanking | None = None
        self.gitlab_sizes: dict[str, int] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        self.repo_title = _title("Repositories: bytes only they hold")
        self.tag_title = _title("Tags that free the most")
        self.repo_bars = RankedBars(limit=8)
        self.repo_bars.empty_text = "Working out what each repository stores…"
        self.tag_bars = RankedBars(limit=8)
        self.tag_bars.empty_text = "Working out what each tag frees…"
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.note.setToolTip(NOTE_DETAILS)
        mute(self.note)
        grid.addWidget(self.repo_title, 0, 0)
        grid.addWidget(self.tag_title, 0, 1)
        grid.addWidget(self.repo_bars, 1, 0)
        grid.addWidget(self.tag_bars, 1, 1)
        grid.addWidget(self.note, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.repo_bars.picked.connect(lambda path: self.repositoryActivated.emit(str(path)))
        self.tag_bars.picked.connect(lambda key: self.tagActivated.emit(*key))
        self._worker = OffThread(self)
        self._worker.done.connect(self._show)
        # per repository, touched by the worker only: a ranking again after one more
        # repository was read redoes only that one's ledger
        self._trackers = Trackers(kept=RANKED_TRACKERS)

    def set_tags(self, tags: Sequence[TagInfo]) -> None:
        self._worker.run(rank_space, list(tags), self.repo_bars.limit, self._trackers.get)

    def _show(self, token: int, ranking: SpaceRanking | None) -> None:
        if ranking is None or token != self._worker.latest:
            return
        self.ranking = ranking
        self.repo_bars.set_ranked(repository_rows(ranking, self.gitlab_sizes))
        self.tag_bars.set_ranked(tag_rows(ranking))
        # worked out: "Working out…" would stay on an empty chart for good (a registry that
        # cannot be reached lists nothing)
        if not ranking.repositories:
            self.repo_bars.empty_text = self.tag_bars.empty_text = "No tags read yet"
        elif not ranking.tags:
            self.tag_bars.empty_text = "No tag frees anything on its own"
        self.computed.emit()

    def set_gitlab_sizes(self, sizes: Mapping[str, int]) -> None:
        self.gitlab_sizes = dict(sizes)
        if self.ranking is not None:
            self.repo_bars.set_ranked(repository_rows(self.ranking, self.gitlab_sizes))

    def wait(self, timeout: float = 10.0) -> None:
        self._worker.wait(timeout)


def _title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
