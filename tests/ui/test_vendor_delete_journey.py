"""Issue 17 in the window: a GHCR profile (its imitation, over the embedded registry) deletes one
tag of several through the same confirmation and progress dialogs as any registry — the plan
names GitHub's packages API, the tags sharing the digest stay — and Docker Hub's tags table is
filled from its API without a manifest GET (no pull spent). Screenshot: vendor-delete-confirm."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from connect_support import run
from delete_support import SCHEMES, open_window, shot, theme, until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from regview.core.deletion.executor import Status
from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.server.runner import LocalRegistry
from regview.settings.profiles import Profile
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "vendors"))
from ghcr_imitation import GhcrImitation
from hub_imitation import HubImitation
from imitation import Token, serve_asgi
from seed import push_image, push_index, tags_now

pytestmark = [pytest.mark.ui, pytest.mark.integration]


def _profile(url: str, kind: RegistryKind) -> Profile:
    return Profile.for_endpoint(
        Endpoint(url=url, kind=kind, vendor_api=url),
        name="demo",
        username="alice",
        credential_kind=CredentialKind.PASSWORD,
    )


@pytest.mark.parametrize("scheme", SCHEMES)
def test_ghcr_tag_deleted_in_the_window_spares_its_siblings(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    repo = "acme/app"
    tokens = {"ghp_full": Token("alice", ("delete:packages", "read:packages", "write:packages"))}
    with theme(qapp, scheme), LocalRegistry(tmp_path / "reg") as reg:
        push_image(reg.url, repo, ["v1", "v1.0", "stable"], salt="a")
        push_index(reg.url, repo, ["multi"], salt="m")
        before = tags_now(reg.url, repo)
        front = GhcrImitation(reg.url, tokens, orgs={"acme": {"alice"}})
        with serve_asgi(front.app()) as url:
            httpx.get(
                f"{url}/orgs/acme/packages/container/app/versions",
                headers={"Authorization": "Bearer ghp_full"},
            ).raise_for_status()
            window = open_window(
                qtbot,
                qloop,
                tmp_path,
                url,
                profile=_profile(url, RegistryKind.GHCR),
                secret="ghp_full",
            )
            flow = window.delete_flow
            shown: list[DeleteDialog] = []
            progress: list[DeleteProgressDialog] = []
            flow.confirmShown.connect(shown.append)
            flow.progressShown.connect(progress.append)
            mark = front.mark()
            flow.delete_tags("demo", repo, ["v1"])
            run(qloop, until(lambda: bool(shown)))
            dialog = shown[0]
            assert dialog.plan is not None
            assert [a.method.value for a in dialog.plan.tag_actions] == ["vendor-api"]
            dialog.resize(900, 600)
            shot(qloop, dialog, tmp_path, "vendor-delete-confirm", scheme)
            qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
            run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
            assert progress[0].status_of("tag:v1") == str(Status.DELETED)
            after = tags_now(reg.url, repo)
            assert after == {t: d for t, d in before.items() if t != "v1"}
            sent = front.mutations(mark)
            assert [m for m, _ in sent] == ["PUT", "DELETE"], sent
            progress[0].accept()
            run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
            window.close()
            run(qloop, window.delete_flow.aclose())


def test_docker_hub_tags_table_fills_from_the_api_without_a_pull(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    repo = "alice/app"
    with LocalRegistry(tmp_path / "reg") as reg:
        push_image(reg.url, repo, ["v1", "v2"], salt="a")
        push_index(reg.url, repo, ["multi"], salt="m")
        front = HubImitation(reg.url, {"dckr_pat": Token("alice", ("repo:admin",))})
        with serve_asgi(front.app()) as url:
            profile = replace(_profile(url, RegistryKind.DOCKER_HUB), repositories=(repo,))
            window = open_window(qtbot, qloop, tmp_path, url, profile=profile, secret="dckr_pat")
            mark = front.mark()

            async def go() -> None:
                window.open_repository("demo", repo)
                await until(lambda: not window.tasks.running("tags"))

            run(qloop, go())
            seen = front.since(mark)
            assert not [p for m, p in seen if m == "GET" and "/manifests/" in p], seen
            assert any("/v2/namespaces/alice/repositories/app/tags" in p for _m, p in seen)
            run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
            window.close()
