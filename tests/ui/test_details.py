"""The details pane with a long GitLab image reference: elided in the middle, the full text in
the tooltip, Copy copies all of it; rendered to a PNG (tmp dir, plus $REGVIEW_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from regview.core.model import ArtifactKind, PlatformInfo, TagInfo
from regview.spec.mediatypes import OCI_MANIFEST
from regview.ui.pages.details import DetailsPane

REFERENCE = (
    "registry.gitlab.example.com:5050/group/subgroup/project/some-long-image-name:v1.2.3-build.4567"
)
DIGEST = "sha256:" + "3f9a1c0e7b2d4a6f8c1e3b5d7f9a0c2e4b6d8f0a1c3e5b7d9f1a2c4e6b8d0f2a"
CONFIG = "sha256:" + "8d0f2a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f"

pytestmark = pytest.mark.ui


def _tag() -> TagInfo:
    return TagInfo(
        repository="group/subgroup/project/some-long-image-name",
        tag="v1.2.3-build.4567",
        digest=DIGEST,
        media_type=OCI_MANIFEST,
        kind=ArtifactKind.IMAGE,
        size=187_654_321,
        created=datetime(2025, 5, 28, 9, 30, tzinfo=UTC),
        config_digest=CONFIG,
        platforms=(PlatformInfo("linux", "amd64", "", DIGEST, 187_654_321),),
    )


def test_long_reference_is_elided_in_the_middle_and_copied_in_full(
    qtbot: Any, tmp_path: Path
) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(420, 560)
    pane.show()
    qtbot.waitExposed(pane)
    pane.show_tag(_tag(), REFERENCE)
    qtbot.wait(50)

    for field, full in ((pane.reference, REFERENCE), (pane.pull, f"docker pull {REFERENCE}")):
        shown = field.label.text()
        assert field.label.is_elided() and "…" in shown, shown
        head, tail = shown.split("…")
        assert full.startswith(head) and full.endswith(tail)
        assert head.startswith(full[:12]) and tail.endswith("build.4567")  # both ends visible
        assert field.label.toolTip() == full
        # it fits: never wider than the space it has
        assert field.label.fontMetrics().horizontalAdvance(shown) <= field.label.width()
        field.button.click()
        assert QGuiApplication.clipboard().text() == full
        assert field.button.text() == "Copied"
        qtbot.waitUntil(lambda f=field: f.button.text() == "Copy", timeout=3000)
        QGuiApplication.clipboard().clear()
        field.label.copy()  # the label's own Copy (context menu) copies the full text too
        assert QGuiApplication.clipboard().text() == full

    # wide enough: shown in full
    pane.resize(1400, 560)
    qtbot.wait(50)
    assert pane.reference.label.text() == REFERENCE and not pane.reference.label.is_elided()
    pane.resize(420, 560)
    qtbot.wait(50)
    assert pane.reference.label.is_elided()

    target = tmp_path / "details-long-reference.png"
    assert pane.grab().save(str(target), "PNG")
    out = os.environ.get("REGVIEW_SCREENSHOT_DIR")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        assert pane.grab().save(str(Path(out) / target.name), "PNG")


def test_a_shown_placeholder_is_not_what_copy_copies(qtbot: Any) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.show_tag(_tag(), REFERENCE)
    pane.config_digest.set_value("", "—")
    assert pane.config_digest.label.text() in ("—", "")
    assert not pane.config_digest.button.isEnabled()
    QGuiApplication.clipboard().setText("before")
    pane.config_digest.label.copy()
    assert QGuiApplication.clipboard().text() == "before"


def test_empty_referrers_say_so_and_the_shared_manifest_note_stays(qtbot: Any) -> None:
    from regview.ui.pages.details import TagDetails

    pane = DetailsPane()
    qtbot.addWidget(pane)
    tag = _tag()
    pane.show_tag(tag, REFERENCE, ["latest"])
    pane.show_loading()
    pane.show_details(TagDetails(tag=tag.tag, manifest_json=b"{}", layers=(), config=None))
    texts = [
        pane.referrers.topLevelItem(i).text(0) for i in range(pane.referrers.topLevelItemCount())
    ]
    assert texts and texts[0].startswith("No referrers")
    assert pane.status.text() == "Same manifest as: latest"  # not "Reading manifest…", not gone
    assert not pane.status.isHidden()


def test_referrers_name_their_kind_and_every_tab_shows_whole(qtbot: Any) -> None:
    """Walking the app: the Type column read "application/v…" and "application/s…", so a
    signature could not be told from an SBOM; and the tab "Referrers" was cut to "Re" behind
    the tab bar's scroll arrows at the window's default size."""
    from clipping_support import clipped_text

    from regview.core.model import ReferrerInfo
    from regview.ui.pages.details import TagDetails

    cosign = "application/vnd.dev.cosign.artifact.sig.v1+json"
    spdx = "application/spdx+json"
    other = "application/vnd.example.thing"
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.resize(200, 500)  # narrower than it may be: the pane claims the width of its tabs
    pane.show()
    tag = _tag()
    pane.show_tag(tag, REFERENCE)
    refs = tuple(
        ReferrerInfo(f"sha256:{n:064x}", kind, OCI_MANIFEST, 700)
        for n, kind in enumerate((cosign, spdx, other), 1)
    )
    pane.show_details(TagDetails(tag=tag.tag, manifest_json=b"{}", referrers=refs))
    rows = [pane.referrers.topLevelItem(i) for i in range(pane.referrers.topLevelItemCount())]
    assert [r.text(1) for r in rows if r is not None] == ["signature", "SBOM", other]
    tips = [r.toolTip(1) for r in rows if r is not None]
    assert cosign in tips[0] and "cosign signature" in tips[0]
    assert spdx in tips[1] and other in tips[2]
    pane.resize(pane.minimumSizeHint().width(), 500)
    pane.tabs.setCurrentWidget(pane.referrers)
    QGuiApplication.processEvents()
    bar = pane.tabs.tabBar()
    assert all(bar.rect().contains(bar.tabRect(i)) for i in range(bar.count())), [
        (bar.tabText(i), bar.tabRect(i)) for i in range(bar.count())
    ]
    assert [p for p in clipped_text(pane) if "QTabBar" in p] == []
