"""The sidebar's GitLab tree against the embedded registry in GitLab mode, over loopback: groups →
projects → repositories from the REST API, tags of a picked repository, a repository whose deletion
was requested shown with its status, and a deploy token falling back to hand-added paths."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from window_support import child_texts, local_token, local_window, run_in_local_mode, until

from regview.core.model import CredentialKind, RegistryKind
from regview.server.gitlab.app import GitLabInstance
from regview.server.gitlab.perms import TokenKind
from regview.settings.profiles import Profile
from regview.ui.local_mode import LOCAL_PROFILE
from regview.ui.models import repos_model as rm
from regview.ui.window import sidebar as sb
from regview.ui.window.main_window import PAGE_REPOS, PAGE_TAGS

pytestmark = [pytest.mark.ui, pytest.mark.integration]

DELETE_DELAY = 4.0  # seconds the server's "worker" waits before removing a repository


def test_tree_tags_and_deletion_status(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GitLab deletes a repository in a background worker, minutes later; here a few seconds.
    monkeypatch.setitem(GitLabInstance.__init__.__kwdefaults__, "async_delay", DELETE_DELAY)
    window = local_window(qtbot, tmp_path)

    async def scenario() -> None:
        profile = await window.local_mode.start()
        assert profile.kind == RegistryKind.GITLAB
        assert profile.api_url == f"{window.local_mode.url}/api/v4"
        assert profile.credential_kind == CredentialKind.PERSONAL
        await window.start()
        await until(lambda: not window.tasks.running("repos"))
        bar = window.sidebar
        root = bar.topLevelItem(0)
        assert root is not None and root.text(0) == LOCAL_PROFILE
        # groups → projects → repositories (the demo user is no member of oss/docs)
        assert child_texts(root) == ["Storage overview", "acme", "oss", "Add repository path…"]
        acme, oss = root.child(1), root.child(2)
        assert acme.data(0, sb.KIND_ROLE) == sb.GROUP
        assert child_texts(acme) == ["infra", "webshop"] and child_texts(oss) == ["tools"]
        infra = acme.child(0)
        assert infra.data(0, sb.KIND_ROLE) == sb.PROJECT
        assert infra.data(0, sb.PATH_ROLE) == "acme/infra"
        assert "ci-runner" in child_texts(infra)
        leaf = bar.repository_item(LOCAL_PROFILE, "acme/infra/ci-runner")
        assert leaf is not None and leaf.parent() is infra
        backend = bar.repository_item(LOCAL_PROFILE, "acme/webshop/backend")
        assert backend is not None and backend.parent() is acme.child(1)
        # the registry's table lists every repository of every project, with tag counts
        repos = {r.path: r for r in window.repos_model.repositories()}
        assert {
            "acme/infra/ci-runner",
            "acme/webshop/backend",
            "oss/tools/alpine-tools",
        } <= set(repos)
        assert all(r.tag_count is not None and r.gitlab_id for r in repos.values())

        # picking a repository in the tree loads its tags
        bar.setCurrentItem(leaf)
        assert window.pages.currentIndex() == PAGE_TAGS
        await until(lambda: not window.tasks.running("tags"))
        assert window.tags_view.model.repository == "acme/infra/ci-runner"
        assert window.tags_view.model.rowCount() == repos["acme/infra/ci-runner"].tag_count

        # ask GitLab to delete acme/webshop/backend; the project's table shows the status
        login = window.local_mode.registry.demo_credentials
        target = repos["acme/webshop/backend"]
        async with httpx.AsyncClient() as http:
            r = await http.delete(
                f"{profile.api_url}/projects/{target.gitlab_project_id}"
                f"/registry/repositories/{target.gitlab_id}",
                headers={"PRIVATE-TOKEN": login[1]},
            )
        assert r.status_code == 202, r.text
        webshop = bar.project_item(LOCAL_PROFILE, "acme/webshop")
        assert webshop is not None
        bar.setCurrentItem(webshop)
        assert window.pages.currentIndex() == PAGE_REPOS
        await until(lambda: not window.tasks.running("project"))
        rows = {r.path: r for r in window.repos_model.repositories()}
        assert set(rows) == {"acme/webshop", "acme/webshop/backend", "acme/webshop/frontend"}
        assert rows["acme/webshop/backend"].status == "delete_scheduled"
        row = window.repos_model.repositories().index(rows["acme/webshop/backend"])
        shown = window.repos_model.index(row, rm.STATUS).data(Qt.ItemDataRole.DisplayRole)
        assert shown == "delete scheduled"
        assert rows["acme/webshop/frontend"].status == ""
        leaf2 = bar.repository_item(LOCAL_PROFILE, "acme/webshop/backend")
        assert leaf2 is not None and leaf2.text(0) == "backend (delete scheduled)"
        assert bar.currentItem() is webshop  # refreshing the project kept the selection

        # once the worker ran, reading the project again no longer lists it
        async def gone() -> None:
            while True:
                window.refresh()
                await until(lambda: not window.tasks.running("project"))
                paths = [r.path for r in window.repos_model.repositories()]
                if "acme/webshop/backend" not in paths:
                    return
                await asyncio.sleep(0.5)

        await asyncio.wait_for(gone(), DELETE_DELAY + 20)
        assert bar.repository_item(LOCAL_PROFILE, "acme/webshop/backend") is None

        # a group shows the repositories under it, from the last listing
        bar.setCurrentItem(oss)
        assert window.heading.text().endswith("oss")
        assert [r.path for r in window.repos_model.repositories()] == ["oss/tools/alpine-tools"]
        window.refresh()  # F5 on a group reads the registry again and stays on the group
        await until(lambda: not window.tasks.running("repos"))
        assert window.heading.text().endswith("oss")
        current = bar.currentItem()
        assert current is not None and current.text(0) == "oss"
        assert [r.path for r in window.repos_model.repositories()] == ["oss/tools/alpine-tools"]

    run_in_local_mode(qloop, window, scenario)


def test_deploy_token_falls_back_to_hand_added_paths(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window = local_window(qtbot, tmp_path)

    async def scenario() -> None:
        local_profile, token, secret = await local_token(
            window, TokenKind.DEPLOY, scopes={"read_registry"}, project="acme/webshop"
        )
        profile = Profile(
            name="deploy",
            url=local_profile.url,
            kind=RegistryKind.GITLAB,
            api_url=local_profile.api_url,  # confirmed, but a deploy token cannot call it
            username=token.username,
            credential_kind=CredentialKind.DEPLOY,
        )
        await window.accounts.save(profile, secret)
        await window.start()
        await until(lambda: not window.tasks.running("repos"))
        bar = window.sidebar
        root = bar.topLevelItem(0)
        assert root is not None and root.text(0) == "deploy"
        # no API tree: the catalog is refused, and the way out is offered
        kinds = [root.child(i).data(0, sb.KIND_ROLE) for i in range(root.childCount())]
        assert sb.PROJECT not in kinds and sb.GROUP not in kinds
        assert sb.ADD_PATH in kinds
        assert window.banner.isVisible()
        assert "will not list its repositories" in window.banner.label.text()
        assert window.banner.button.text() == "Add repository path…"

        # adding the path by hand lists it and loads its tags with the deploy token
        window.tasks.start(
            "profiles", window.hand_paths.add_path("deploy", "acme/webshop/frontend")
        )
        await until(
            lambda: (
                window.tags_view.model.repository == "acme/webshop/frontend"
                and not window.tasks.running("tags")
                and not window.tasks.running("profiles")
            )
        )
        await until(lambda: not window.tasks.running("repos"))
        assert window.pages.currentIndex() == PAGE_TAGS
        assert window.tags_view.model.rowCount() > 0
        leaf = bar.repository_item("deploy", "acme/webshop/frontend")
        assert leaf is not None
        saved = (await window.accounts.load()).profiles["deploy"]
        assert saved.repositories == ("acme/webshop/frontend",)

    run_in_local_mode(qloop, window, scenario)
