"""Issue 17 in the window on Harbor (its imitation over the embedded registry): a robot account's
profile deletes two tags, one of them immutable. The confirmation shows the immutable tag
refused with Harbor's reason, the project's rules in words and the API that deletes; the other
tag goes through Harbor's API and its immutable sibling stays. Screenshot:
vendor-harbor-confirm."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from delete_support import SCHEMES, shot, theme, until
from harbor_window import harbor_window
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from vendor_seed import tags_now
from vendor_sites import HARBOR_REPO, MAINTAINER, harbor_site

from regview.core.deletion.executor import Status
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog

pytestmark = [pytest.mark.ui, pytest.mark.integration]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_harbor_immutable_tag_refused_in_the_window_and_its_sibling_deleted(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), harbor_site(tmp_path / "harbor") as site:
        window = harbor_window(qtbot, qloop, tmp_path, site)
        flow = window.delete_flow
        shown: list[DeleteDialog] = []
        progress: list[DeleteProgressDialog] = []
        flow.confirmShown.connect(shown.append)
        flow.progressShown.connect(progress.append)
        mark = site.proxy.mark()
        flow.delete_tags("demo", HARBOR_REPO, ["v1.0", "stable"])
        run(qloop, until(lambda: bool(shown)))
        dialog = shown[0]
        plan = dialog.plan
        assert plan is not None
        assert [(a.tag, a.method.value) for a in plan.tag_actions] == [("stable", "vendor-api")]
        assert [r.tag for r in plan.refused] == ["v1.0"]
        assert any("immutable" in w for w in plan.warnings)
        assert site.mutations(mark) == [], "the confirmation is shown before anything is sent"
        dialog.resize(900, 620)
        shot(qloop, dialog, tmp_path, "vendor-harbor-confirm", scheme)
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
        assert progress[0].status_of("tag:stable") == str(Status.DELETED)
        after = tags_now(site.url, MAINTAINER, HARBOR_REPO)
        assert after == {t: d for t, d in site.pushed.items() if t != "stable"}
        digest = site.pushed["stable"]
        assert site.mutations(mark) == [
            (
                "DELETE",
                f"/api/v2.0/projects/team/repositories/app/artifacts/{digest}/tags/stable",
            )
        ]
        progress[0].accept()
        run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
        window.close()
        run(qloop, window.delete_flow.aclose())
