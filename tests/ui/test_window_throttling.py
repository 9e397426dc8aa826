"""The window's tag load goes through the same adaptive, throttle-aware path as the CLI: a
registry that answers 429s and counts pulls still fills the table, and the status bar says it
was throttled and how many pulls are left. Real window, embedded registry, loopback front."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from delete_support import shot
from fault_servers import push_image, serve
from pytestqt.qtbot import QtBot
from test_failures_gui import close, open_repo, open_window
from throttle_front import Front

from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "team/app"


def test_the_status_bar_says_the_registry_throttled_and_what_is_left(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    tags = [f"v{i}" for i in range(8)]
    with LocalRegistry(tmp_path / "data") as reg:
        for i, tag in enumerate(tags):
            push_image(reg.url, REPO, [tag], created=f"2024-05-01T10:00:{i:02d}Z")
        front = Front(reg.url, refuse_first={f"/v2/{REPO}/manifests/v3": 3}, remaining=40)
        with serve(front.app) as url:
            window = open_window(qtbot, qloop, tmp_path, url)
            open_repo(qloop, window)
            model = window.tags_view.model
            loaded = {model.row_at(r).tag: model.row_at(r) for r in range(model.rowCount())}
            assert sorted(loaded) == tags
            assert not any(t.error for t in loaded.values())
            said = window.statusBar().currentMessage()
            assert "throttled 3 request(s)" in said
            assert "of 100 pulls left (per 6 h)" in said
            shot(qloop, window, tmp_path, "status-throttled", "light")
            close(qloop, window)
