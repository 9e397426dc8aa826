"""The Storage overview of a GitLab registry (the embedded one in GitLab mode, over loopback):
GitLab's own size of each repository, read from its REST API, stands beside ours; what untagged
manifests hold is said to be unknown, in words."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from frees_trees import image
from pytestqt.qtbot import QtBot
from window_support import local_window, run_in_local_mode, until

from regview.core.model import ArtifactKind, TagInfo
from regview.ui.local_mode import LOCAL_PROFILE
from regview.ui.pages import overview as ov
from regview.util.units import human_size

pytestmark = [pytest.mark.ui, pytest.mark.integration]


def test_overview_shows_gitlabs_size_beside_ours(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window = local_window(qtbot, tmp_path)

    async def scenario() -> None:
        profile = await window.local_mode.start()
        await window.start()
        await until(lambda: not window.tasks.running("repos"))
        repos = {r.path: r for r in window.repos_model.repositories()}
        login = window.local_mode.registry.demo_credentials
        expected: dict[str, int] = {}
        async with httpx.AsyncClient() as http:  # GitLab's answer, asked independently
            for path, repo in repos.items():
                r = await http.get(
                    f"{profile.api_url}/registry/repositories/{repo.gitlab_id}",
                    params={"size": "true"},
                    headers={"PRIVATE-TOKEN": login[1]},
                )
                assert r.status_code == 200, r.text
                if isinstance(r.json().get("size"), int):
                    expected[path] = r.json()["size"]
        assert expected, "the embedded GitLab gives sizes"
        window.show_overview(LOCAL_PROFILE)
        panel = window.overview
        await until(lambda: panel.bars.second == expected, limit=60)
        await until(lambda: not window.tasks.running("measure"), limit=60)
        bars = panel.bars
        assert bars.items, "our sizes are shown too"
        for row, (path, ours) in enumerate(bars.items):
            text = bars.value_text(row)
            assert text == f"{human_size(ours)}  (GitLab {human_size(expected[path])})", text
            assert "untagged manifests too" in bars.tip_text(row)
        assert panel.untagged_note.text() == ov.UNTAGGED_UNKNOWN + ov.UNTAGGED_GITLAB
        ranked = panel.ranking.repo_bars
        await until(lambda: bool(ranked.tips))
        assert any("GitLab says it holds" in tip for tip in ranked.tips)

    run_in_local_mode(qloop, window, scenario)


def test_without_gitlab_untagged_is_unknown_in_words(qtbot: QtBot) -> None:
    panel = ov.OverviewPanel()
    qtbot.addWidget(panel)
    assert panel.untagged_note.text().startswith("Untagged manifests: unknown — ")
    assert "Neither the OCI API nor GitLab's API lists" in panel.untagged_note.toolTip()
    panel.bars.set_items([("team/a", 3 << 20)])
    assert panel.bars.value_text(0) == "3.0 MiB"
    panel.set_gitlab_sizes({"team/a": 4 << 20})
    assert panel.bars.value_text(0) == "3.0 MiB  (GitLab 4.0 MiB)"
    panel.set_gitlab_sizes({})
    assert panel.untagged_note.text() == ov.UNTAGGED_UNKNOWN
    # A repository with an unread tag: its size is a lower bound, and says so.
    broken = TagInfo("team/a", "broken", "", "", ArtifactKind.UNKNOWN, error="unreadable")
    panel.set_tags([image("1", "sha256:A", ("sha256:a", 3 << 20), repository="team/a"), broken])
    assert panel.bars.value_text(0) == "≥ 3.0 MiB"
    assert "At least: some of its tags could not be read" in panel.bars.tip_text(0)
