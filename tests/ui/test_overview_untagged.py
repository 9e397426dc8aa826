"""The Storage overview of a Harbor registry (its imitation over the embedded registry): Harbor's
API lists an artifact left without a tag (dev-2 pushed again), and the note under 'Size per
repository' says what it holds that no tag keeps, instead of "unknown". The expected bytes come
from the images as pushed. Screenshot: overview-untagged."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from delete_support import shot, theme, until
from harbor_untagged_seed import held_only_by_old_dev_2, rebuild_dev_2
from harbor_window import harbor_window
from pytestqt.qtbot import QtBot
from vendor_sites import HARBOR_REPO, harbor_site

from regview.core.untagged import Untagged
from regview.ui.pages import overview as ov
from regview.util.units import human_size

pytestmark = [pytest.mark.ui, pytest.mark.integration]


def test_overview_shows_what_harbors_untagged_artifacts_hold(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path
) -> None:
    with theme(qapp, "light"), harbor_site(tmp_path / "harbor") as site:
        expected = held_only_by_old_dev_2(rebuild_dev_2(site))
        window = harbor_window(qtbot, qloop, tmp_path, site, height=900)
        run(qloop, until(lambda: not window.tasks.running("repos"), limit=30))
        mark = site.proxy.mark()
        window.show_overview("demo")
        panel = window.overview
        run(qloop, until(lambda: HARBOR_REPO in panel.untagged, limit=60))
        assert panel.untagged == {HARBOR_REPO: Untagged(expected, 1, upper_bound=False)}
        note = panel.untagged_note.text()
        assert note.startswith("Untagged artifacts: 1 in 1 repository, holding ")
        assert human_size(expected) in note and "unknown" not in note
        assert panel.untagged_note.toolTip() == ov.UNTAGGED_LISTED_TIP
        assert site.mutations(mark) == []
        shot(qloop, window, tmp_path, "overview-untagged", "light")
        run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
        window.close()
        run(qloop, window.delete_flow.aclose())


def test_untagged_words() -> None:
    assert ov.untagged_words({}) == (ov.UNTAGGED_UNKNOWN, ov.UNTAGGED_TIP)
    assert ov.untagged_words({}, gitlab=True)[0] == ov.UNTAGGED_UNKNOWN + ov.UNTAGGED_GITLAB
    none = ov.untagged_words({"a": Untagged(0, 0, False), "b": Untagged(0, 0, False)})
    assert (
        none[0]
        == "Untagged artifacts: none in the 2 repositories measured (the registry lists them)."
    )
    some, tip = ov.untagged_words(
        {
            "a": Untagged(3 << 20, 2, False),
            "b": Untagged(1 << 20, 1, True),
            "c": Untagged(0, 0, False),
        }
    )
    assert some.startswith(
        "Untagged artifacts: 3 in 2 repositories, holding ≤ 4.0 MiB no tag keeps"
    )
    assert tip == ov.UNTAGGED_LISTED_TIP and "≤ marks an upper bound" in tip
