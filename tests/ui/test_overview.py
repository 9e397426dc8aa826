"""Storage overview numbers: "stored" and "older than 90 days" count a shared layer once, so
they agree with each other and with the age histogram."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from regview.core.model import ArtifactKind, TagInfo
from regview.spec.mediatypes import OCI_MANIFEST
from regview.ui.pages.overview import OverviewPanel, age_histogram, bar_label, stored_bytes
from regview.util.units import human_size

MB = 1_000_000
BASE = ("sha256:" + "b" * 64, 100 * MB)  # one base layer under every tag

pytestmark = pytest.mark.ui


def _tag(name: str, days_old: float, own: int, now: float) -> TagInfo:
    layer = ("sha256:" + f"{own:064x}", own * MB)
    config = ("sha256:" + f"{own + 1000:064x}", 1_000)
    blobs = (BASE, layer, config)
    return TagInfo(
        repository="team/app",
        tag=name,
        digest="sha256:" + f"{own + 5000:064x}",
        media_type=OCI_MANIFEST,
        kind=ArtifactKind.IMAGE,
        created=datetime.fromtimestamp(now - days_old * 86400, UTC),
        size=sum(s for _d, s in blobs),
        blobs=blobs,
    )


def _tags(now: float) -> list[TagInfo]:
    return [
        _tag("old-1", 200, 1, now),
        _tag("old-2", 150, 2, now),
        _tag("old-3", 120, 3, now),
        _tag("new", 2, 4, now),
    ]


def test_shared_layers_count_once_in_stored_and_stale(qtbot: Any) -> None:
    now = time.time()
    tags = _tags(now)
    panel = OverviewPanel()
    qtbot.addWidget(panel)
    panel.set_tags(tags, "all repositories")

    expected_stored = BASE[1] + (1 + 2 + 3 + 4) * MB + 4 * 1_000
    expected_stale = BASE[1] + (1 + 2 + 3) * MB + 3 * 1_000
    assert panel.stored == stored_bytes(tags) == expected_stored
    assert panel.stale_count == 3 and panel.stale_stored == expected_stale
    # the naive sum would count the base layer three times and exceed everything stored
    assert sum(t.size or 0 for t in tags[:3]) > panel.stored > panel.stale_stored
    assert panel._number_labels["size"].text() == human_size(expected_stored)
    assert panel._number_labels["stale"].text() == f"3 tags ({human_size(expected_stale)})"
    captions = [
        panel.numbers.itemAtPosition(1, c).widget().text()  # type: ignore[union-attr]
        for c in range(4)
    ]
    assert "Stored by the tags listed" in captions
    assert "Tags older than 90 days, what they store" in captions
    assert "counted once" in panel._number_labels["stale"].toolTip()

    # all tags old: the two figures are the same number
    all_old = [replace(t, created=tags[0].created) for t in tags]
    panel.set_tags(all_old)
    assert panel.stale_stored == panel.stored == expected_stored


def test_histogram_buckets_are_stored_bytes_too() -> None:
    now = time.time()
    tags = _tags(now)
    buckets = {label: (n, size) for label, n, size in age_histogram(tags, now)}
    assert buckets["< 1 week"] == (1, stored_bytes([tags[3]]))
    assert buckets["3–6 months"] == (2, stored_bytes(tags[1:3]))  # 150 and 120 days
    assert buckets["6–12 months"] == (1, stored_bytes(tags[:1]))
    assert buckets["3–6 months"][1] == BASE[1] + (2 + 3) * MB + 2_000  # base once


def test_tags_without_blob_details_count_each_manifest_once() -> None:
    now = datetime.now(UTC) - timedelta(days=1)
    a = TagInfo("r", "a", "sha256:" + "1" * 64, OCI_MANIFEST, ArtifactKind.IMAGE, 50, now)
    twin = replace(a, tag="twin")
    other = replace(a, tag="other", digest="sha256:" + "2" * 64, size=7)
    assert stored_bytes([a, twin, other]) == 57


def test_a_cut_bar_label_keeps_the_end_that_tells_rows_apart(qapp: Any) -> None:
    """At 1024 px the ranking's labels are cut; what is kept is the tag (or the repository's
    last part), not the shared beginning: "…runner:mr-403", not "team/ci-r…er:mr-403"."""
    from PySide6.QtGui import QFont, QFontMetrics

    fm = QFontMetrics(QFont())
    for name, end in (("team/ci-runner:mr-403", ":mr-403"), ("acme/webshop/frontend", "frontend")):
        width = fm.horizontalAdvance(name) * 2 // 3
        shown = bar_label(fm, name, width)
        assert shown != name and shown.startswith("…") and shown.endswith(end), shown
        assert fm.horizontalAdvance(shown) <= width
        assert bar_label(fm, name, fm.horizontalAdvance(name) + 2) == name  # room: not cut
