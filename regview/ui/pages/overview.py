"""Storage overview: size per repository and tag ages, drawn with QPainter (no QtCharts).

OverviewPanel(parent=None, generation=None)
    binding: PageBinding             the registry on show (generation(profile): its session's)
    set_repositories(repos)          bar chart of size per repository (largest first)
    set_gitlab_sizes(sizes)          GitLab's own size of each repository, beside ours
    set_untagged(figures)            what untagged artifacts hold, where the registry lists them
    set_tags(tags, scope)            age histogram and headline numbers for these tags
stored_bytes(tags) -> int            bytes these tags keep stored, each blob counted once

"Stored" and "Older than 90 days" are both `stored_bytes` figures: a layer shared by several
tags counts once (a tag without blob details counts its manifest digest's size once).
    repositoryActivated(str)         a bar was clicked
    tagActivated(str, str)           a tag of the ranking was clicked (repository, tag)

The ranking section (`pages.overview_ranking`) ranks repositories and tags by the bytes they hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import RepositoryInfo, TagInfo
from regview.core.untagged import Untagged
from regview.ui.theme import accent, is_dark, mute, muted
from regview.ui.window.binding import PAGE_OVERVIEW, PageBinding
from regview.util.units import human_size

DAY = 86400.0
#: the headline's "older than 90 days"; the histogram's bars past it are drawn as old
STALE_DAYS = 90
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 week", 7),
    ("1–4 weeks", 28),
    ("1–3 months", STALE_DAYS),
    ("3–6 months", 182),
    ("6–12 months", 365),
    ("1–2 years", 730),
    ("> 2 years", float("inf")),
)


def old_bucket(index: int, label: str) -> bool:
    """Is bucket `index` of `age_histogram` drawn in the "old" colour? Those past
    STALE_DAYS: the tags the headline counts as older than 90 days (from six months, as it
    was, the colour and the headline named different tags)."""
    if label == "unknown" or index == 0:
        return False
    return AGE_BUCKETS[index - 1][1] >= STALE_DAYS  # the bucket starts where "old" does


def age_histogram(tags: Iterable[TagInfo], now: float | None = None) -> list[tuple[str, int, int]]:
    """(bucket label, tag count, stored bytes) per age bucket, plus "unknown" when any date is
    missing; the bytes are `stored_bytes` of the bucket's tags (shared layers counted once)."""
    now = time.time() if now is None else now
    buckets: list[list[TagInfo]] = [[] for _ in range(len(AGE_BUCKETS) + 1)]
    for t in tags:
        if t.created is None:
            i = len(AGE_BUCKETS)
        else:
            days = (now - t.created.timestamp()) / DAY
            i = next(k for k, (_l, limit) in enumerate(AGE_BUCKETS) if days < limit)
        buckets[i].append(t)
    out = [
        (label, len(buckets[i]), stored_bytes(buckets[i]))
        for i, (label, _) in enumerate(AGE_BUCKETS)
    ]
    if buckets[-1]:
        out.append(("unknown", len(buckets[-1]), stored_bytes(buckets[-1])))
    return out


def stored_bytes(tags: Iterable[TagInfo]) -> int:
    """The bytes these tags keep stored, each blob (or, without blob details, each manifest
    digest) counted once — the figure a registry holds for them, not the sum of tag sizes."""
    unique: dict[str, int] = {}
    for t in tags:
        if t.blobs:
            unique.update(t.blobs)
        elif t.size:
            unique[t.digest or f"tag:{t.repository}:{t.tag}"] = t.size
    return sum(unique.values())


def _series_colours(palette: QPalette) -> tuple[QColor, QColor, QColor]:
    """(bar, bar hover/old, grid) colours readable on this palette."""
    bar = accent(palette)
    old = QColor("#e8833a") if not is_dark(palette) else QColor("#f0a05a")
    grid = palette.color(QPalette.ColorRole.Mid)
    return bar, old, grid


def bar_label(fm: QFontMetrics, name: str, width: int) -> str:
    """A bar's label cut to `width` from the left: the end of a name tells the rows apart — the
    tag of `team/ci-runner:mr-403`, the last part of `acme/webshop/frontend` — where a cut in
    the middle ("team/ci-r…er:mr-403") kept the part they share."""
    return fm.elidedText(name, Qt.TextElideMode.ElideLeft, width)


class BarChart(QWidget):
    """Horizontal bars: label, bar, value. Largest first, top `limit`."""

    activated = Signal(str)

    def __init__(self, parent: QWidget | None = None, limit: int = 12) -> None:
        super().__init__(parent)
        self.limit = limit
        self.items: list[tuple[str, int]] = []
        #: another figure per label, shown after the bar's own (GitLab's size of a repository)
        self.second: dict[str, int] = {}
        self.second_name = "GitLab"
        #: labels whose figure is a lower bound (some of the repository's tags unread): "≥"
        self.lower_bounds: set[str] = set()
        self.empty_text = "No sizes known yet"
        self.setMouseTracking(True)
        self._hover = -1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_items(self, items: Sequence[tuple[str, int]]) -> None:
        self.items = sorted(items, key=lambda kv: kv[1], reverse=True)[: self.limit]
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, 40 + 26 * max(3, len(self.items)))

    def minimumSizeHint(self) -> QSize:
        # every bar readable (20 px a row) however many sections share the page's height
        return QSize(200, 8 + 20 * max(1, len(self.items)))

    def _row_height(self) -> float:
        return max(20.0, min(30.0, (self.height() - 8) / max(1, len(self.items))))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        bar_colour, _old, _grid = _series_colours(pal)
        text = pal.color(QPalette.ColorRole.WindowText)
        if not self.items:
            p.setPen(muted(pal))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        fm = QFontMetrics(self.font())
        label_w = min(self.width() * 0.38, max(fm.horizontalAdvance(n) for n, _ in self.items) + 12)
        widest = max(
            fm.horizontalAdvance("≥ 1023.9 GiB"),
            *(fm.horizontalAdvance(self.value_text(i)) for i in range(len(self.items))),
        )
        value_w = min(widest, self.width() * 0.4) + 12
        bar_w = max(10.0, self.width() - label_w - value_w - 8)
        top = max(v for _, v in self.items) or 1
        rh = self._row_height()
        for i, (name, value) in enumerate(self.items):
            y = 4 + i * rh
            p.setPen(text)
            label = bar_label(fm, name, int(label_w - 10))
            p.drawText(
                QRectF(0, y, label_w - 10, rh),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            w = max(2.0, bar_w * value / top)
            colour = QColor(bar_colour)
            if i == self._hover:
                colour = colour.lighter(125) if is_dark(pal) else colour.darker(115)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(label_w, y + rh * 0.18, w, rh * 0.64), 3, 3)
            p.setPen(text)
            p.drawText(
                QRectF(label_w + w + 6, y, value_w, rh),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self.value_text(i),
            )

    def value_text(self, row: int) -> str:
        label, value = self.items[row]
        other = self.second.get(label)
        bound = "≥ " if label in self.lower_bounds else ""
        second = "" if other is None else f"  ({self.second_name} {human_size(other)})"
        return bound + human_size(value) + second

    def tip_text(self, row: int) -> str:
        label, value = self.items[row]
        other = self.second.get(label)
        extra = (
            ""
            if other is None
            else f"\n{self.second_name} says the repository holds {human_size(other)} "
            f"({other:,} bytes): its figure counts untagged manifests too."
        )
        bound = (
            "\nAt least: some of its tags could not be read, their layers are not counted."
            if label in self.lower_bounds
            else ""
        )
        return f"{label}: {human_size(value)} ({value:,} bytes) — click to open{bound}{extra}"

    def _row_at(self, y: float) -> int:
        i = int((y - 4) // self._row_height())
        return i if 0 <= i < len(self.items) else -1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        row = self._row_at(event.position().y())
        if row != self._hover:
            self._hover = row
            self.setToolTip(self.tip_text(row) if row >= 0 else "")
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        row = self._row_at(event.position().y())
        if row >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(self.items[row][0])


class AgeHistogram(QWidget):
    """Vertical bars of tag counts per age bucket; older buckets in a warm colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buckets: list[tuple[str, int, int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(180)

    def set_buckets(self, buckets: list[tuple[str, int, int]]) -> None:
        self.buckets = buckets
        self.setToolTip(
            "\n".join(f"{label}: {n:,} tags, {human_size(size)}" for label, n, size in buckets)
            + "\n(bytes each age group stores; a layer shared by several tags counted once)"
        )
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(480, 220)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        bar_colour, old_colour, grid = _series_colours(pal)
        text = pal.color(QPalette.ColorRole.WindowText)
        fm = QFontMetrics(self.font())
        if not self.buckets or not any(n for _, n, _ in self.buckets):
            p.setPen(muted(pal))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No tags loaded yet")
            return
        top_pad, bottom_pad = fm.height() + 6, 2 * fm.height() + 10
        h = self.height() - top_pad - bottom_pad
        n = len(self.buckets)
        slot = self.width() / n
        most = max(c for _, c, _ in self.buckets) or 1
        p.setPen(grid)
        base_y = top_pad + h
        p.drawLine(QPointF(0, base_y + 0.5), QPointF(self.width(), base_y + 0.5))
        for i, (label, count, size) in enumerate(self.buckets):
            x = i * slot
            bh = h * count / most
            colour = old_colour if old_bucket(i, label) else bar_colour
            if label == "unknown":
                colour = muted(pal)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(x + slot * 0.15, base_y - bh, slot * 0.7, bh), 3, 3)
            p.setPen(text)
            p.drawText(
                QRectF(x, base_y - bh - fm.height() - 2, slot, fm.height()),
                Qt.AlignmentFlag.AlignCenter,
                f"{count:,}",
            )
            p.drawText(
                QRectF(x, base_y + 4, slot, fm.height()),
                Qt.AlignmentFlag.AlignCenter,
                fm.elidedText(label, Qt.TextElideMode.ElideRight, int(slot)),
            )
            p.setPen(muted(pal))
            p.drawText(
                QRectF(x, base_y + 4 + fm.height(), slot, fm.height()),
                Qt.AlignmentFlag.AlignCenter,
                human_size(size) if count else "",
            )


_SHARED = "A layer shared by several tags is counted once."
_CAPTION_TIPS = {
    "size": "Bytes the registry stores for the tags listed so far. " + _SHARED,
    "stale": "Tags created more than 90 days ago and the bytes they keep stored. "
    + _SHARED
    + " Layers that newer tags also use stay stored when these tags go, so deleting them "
    "frees at most this much.",
}


UNTAGGED_UNKNOWN = (
    "Untagged manifests: unknown — the registry's API lists tags only, so what manifests "
    "without a tag hold is not in these figures."
)
UNTAGGED_GITLAB = " GitLab's own size (in brackets) counts them."
UNTAGGED_TIP = (
    "A manifest left without a tag (an old push of a moved tag, a deleted tag's image) keeps "
    "its layers stored until garbage collection removes it (docker-registry: garbage-collect "
    "--delete-untagged; GitLab: a cleanup policy or its online GC). Neither the OCI API nor "
    "GitLab's API lists such manifests, so regview cannot count them. GitLab's own repository "
    "size counts everything the repository stores: the difference to ours is about what "
    "untagged manifests (and the manifests themselves) hold."
)
UNTAGGED_LISTED_TIP = (
    "The registry's API lists artifacts no tag points at (Harbor). Counted here: the bytes of "
    "the blobs only they hold — layers they share with tagged images stay when they go — read "
    "from their manifests. ≤ marks an upper bound: the registry's own sizes summed, shared "
    "layers included (too many untagged artifacts to read, or some tags not read). Garbage "
    "collection that deletes untagged artifacts gives these bytes back (Harbor: Clean Up with "
    "'Allow garbage collection on untagged artifacts')."
)


def untagged_words(figures: Mapping[str, Untagged], gitlab: bool = False) -> tuple[str, str]:
    """(note, tooltip) under 'Size per repository': the figures where the registry listed
    untagged artifacts, else that they are unknown."""
    if not figures:
        return UNTAGGED_UNKNOWN + (UNTAGGED_GITLAB if gitlab else ""), UNTAGGED_TIP
    count = sum(f.artifacts for f in figures.values())
    if not count:
        return (
            f"Untagged artifacts: none in the {len(figures):,} repositor"
            + ("y" if len(figures) == 1 else "ies")
            + " measured (the registry lists them).",
            UNTAGGED_LISTED_TIP,
        )
    repos = sum(1 for f in figures.values() if f.artifacts)
    bound = "≤ " if any(f.upper_bound for f in figures.values()) else ""
    held = human_size(sum(f.bytes for f in figures.values())) or "0 B"
    return (
        f"Untagged artifacts: {count:,} in {repos:,} repositor"
        + ("y" if repos == 1 else "ies")
        + f", holding {bound}{held} no tag keeps (the registry lists them; garbage collection "
        "of untagged artifacts gives it back).",
        UNTAGGED_LISTED_TIP,
    )


class _FitScroll(QScrollArea):
    """Its page as large as the viewport, scrolled only below the page's minimum height.

    QScrollArea's own resizing gives a page with word-wrapped labels its preferred height for
    the width, so the overview scrolled (the histogram cut off) in windows it fitted."""

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(False)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)  # new bars change its minimum: fit it again

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        page = self.widget()
        if page is None:
            return
        # never narrower than its sections need (large fonts): it scrolls sideways then
        hint = page.minimumSizeHint()
        width = max(self.viewport().width(), hint.width())
        least = hint.height()
        layout = page.layout()
        if layout is not None and layout.hasHeightForWidth():
            least = max(least, layout.minimumHeightForWidth(width))
        page.resize(width, max(self.viewport().height(), least))


class OverviewPanel(QWidget):
    repositoryActivated = Signal(str)
    tagActivated = Signal(str, str)

    def __init__(
        self, parent: QWidget | None = None, generation: Callable[[str], int] | None = None
    ) -> None:
        super().__init__(parent)
        self.binding = PageBinding(PAGE_OVERVIEW, generation or (lambda _name: 0))
        # Its sections keep every bar readable, which can ask for more height than a small
        # screen has; the page scrolls then. Without the scroll area that height became the
        # minimum of the whole page stack, so once shown the window could not be 1024×700
        # on any page.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = _FitScroll()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        self.numbers = QGridLayout()
        self.numbers.setHorizontalSpacing(28)
        self._number_labels: dict[str, QLabel] = {}
        for col, (key, caption) in enumerate(
            [
                ("repos", "Repositories"),
                ("tags", "Tags"),
                ("size", "Stored by the tags listed"),
                ("stale", "Tags older than 90 days, what they store"),
            ]
        ):
            value = QLabel("—")
            font = value.font()
            font.setPointSizeF(font.pointSizeF() * 1.8)
            font.setBold(True)
            value.setFont(font)
            cap = QLabel(caption)
            mute(cap)
            if key in _CAPTION_TIPS:
                value.setToolTip(_CAPTION_TIPS[key])
                cap.setToolTip(_CAPTION_TIPS[key])
            self.numbers.addWidget(value, 0, col)
            self.numbers.addWidget(cap, 1, col)
            self._number_labels[key] = value
        self.stored = self.stale_stored = self.stale_count = 0
        self.numbers.setColumnStretch(4, 1)
        layout.addLayout(self.numbers)
        self.bar_title = self._title("Size per repository")
        layout.addWidget(self.bar_title)
        self.bars = BarChart()
        self.bars.activated.connect(self.repositoryActivated)
        layout.addWidget(self.bars, 3)
        self._gitlab_known = False
        self.untagged: dict[str, Untagged] = {}
        self.untagged_note = QLabel(UNTAGGED_UNKNOWN)
        self.untagged_note.setWordWrap(True)
        self.untagged_note.setToolTip(UNTAGGED_TIP)
        mute(self.untagged_note)
        layout.addWidget(self.untagged_note)
        from regview.ui.pages.overview_ranking import RankingSection  # it builds on BarChart above

        self.ranking = RankingSection()
        self.ranking.repositoryActivated.connect(self.repositoryActivated)
        self.ranking.tagActivated.connect(self.tagActivated)
        layout.addWidget(self.ranking, 3)
        self.hist_title = self._title("Tag ages")
        layout.addWidget(self.hist_title)
        self.histogram = AgeHistogram()
        layout.addWidget(self.histogram, 2)

    def _title(self, text: str) -> QLabel:
        label = QLabel(text)
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        label.setFont(font)
        return label

    def set_repositories(self, repos: Sequence[RepositoryInfo]) -> None:
        sized = [(r.path, r.size) for r in repos if r.size is not None]
        self.bars.set_items([(p, s) for p, s in sized if s is not None])
        self._number_labels["repos"].setText(f"{len(repos):,}")
        unknown = len(repos) - len(sized)
        self.bar_title.setText(
            "Size per repository" + (f"  ({unknown} not measured yet)" if unknown else "")
        )

    def set_gitlab_sizes(self, sizes: Mapping[str, int]) -> None:
        """GitLab's own figure per repository path (its API's `size`), shown beside ours."""
        self.bars.second = dict(sizes)
        self.ranking.set_gitlab_sizes(sizes)
        self._gitlab_known = bool(sizes)
        self._show_untagged()
        self.bars.updateGeometry()
        self.bars.update()

    def set_untagged(self, figures: Mapping[str, Untagged]) -> None:
        """Per repository path, what its untagged artifacts hold ({}: not listed, unknown)."""
        self.untagged = dict(figures)
        self._show_untagged()

    def _show_untagged(self) -> None:
        text, tip = untagged_words(self.untagged, self._gitlab_known)
        self.untagged_note.setText(text)
        self.untagged_note.setToolTip(tip)

    def set_tags(self, tags: Sequence[TagInfo], scope: str = "") -> None:
        now = time.time()
        # a tag read neither whole nor sized adds nothing to its repository's size
        self.bars.lower_bounds = {t.repository for t in tags if not t.blobs and not t.size}
        self.bars.update()
        self.histogram.set_buckets(age_histogram(tags, now))
        self._number_labels["tags"].setText(f"{len(tags):,}")
        self.stored = stored_bytes(tags)
        self._number_labels["size"].setText(human_size(self.stored))
        stale = [t for t in tags if t.created and now - t.created.timestamp() > STALE_DAYS * DAY]
        self.stale_count, self.stale_stored = len(stale), stored_bytes(stale)
        self._number_labels["stale"].setText(
            f"{self.stale_count:,} tags ({human_size(self.stale_stored) or '0 B'})"
        )
        self.hist_title.setText(f"Tag ages — {scope}" if scope else "Tag ages")
        self.ranking.set_tags(tags)
