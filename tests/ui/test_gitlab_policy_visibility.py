"""GitLab from the app, against the embedded registry in GitLab mode (`auth="token"`, demo data)
over a loopback socket, with real widgets and a profile holding the confirmed API URL and the demo
user's personal token:

- the policy editor on a GitLab project's repository: typed rules → preview → Save to GitLab →
  the project's `container_expiration_policy` holds exactly those values (asked over HTTP);
  regview-only rules are refused for saving, in words;
- Run with GitLab's bulk API: confirm → GitLab deletes in the background exactly what the preview
  listed (tags listed over HTTP) → a second run within the hour shows GitLab's refusal in words;
- the Registry visibility dialog from the repositories table's context menu: shows the level,
  changes it to `private` (checked over HTTP: an anonymous pull token no longer lists the tags),
  and sets it back.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from connect_support import MemoryKeyring, make_accounts, run
from delete_support import SCHEMES, shot, theme, until
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.server.runner import LocalRegistry
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.ui.dialogs.policy_editor import PolicyEditor
from regview.ui.local_mode import LocalMode
from regview.ui.visibility import VisibilityDialog
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]

#: oss/tools: the demo user is a Maintainer there (policies and visibility need it).
PROJECT = "oss/tools"
REPO = "oss/tools/alpine-tools"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "resources" / "screenshots"


# --- plain HTTP, not through regview's client ----------------------------------------------------
def api(url: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        method, f"{url}/api/v4/{path}", headers={"PRIVATE-TOKEN": token}, timeout=10, **kw
    )


def project_json(url: str, token: str) -> dict[str, Any]:
    r = api(url, token, "GET", f"projects/{PROJECT.replace('/', '%2F')}")
    r.raise_for_status()
    obj = r.json()
    assert isinstance(obj, dict)
    return obj


def _challenge(url: str, repo: str) -> dict[str, str]:
    r = httpx.get(f"{url}/v2/{repo}/tags/list", timeout=10)
    assert r.status_code == 401, r.status_code
    header = r.headers["WWW-Authenticate"]
    assert header.startswith("Bearer ")
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def list_tags(url: str, repo: str, creds: tuple[str, str] | None) -> httpx.Response:
    """`GET /v2/<repo>/tags/list` with a pull token from the realm (anonymous when no creds)."""
    c = _challenge(url, repo)
    t = httpx.get(
        c["realm"],
        params={"service": c["service"], "scope": f"repository:{repo}:pull"},
        auth=creds,
        timeout=10,
    )
    t.raise_for_status()
    body = t.json()
    token = body.get("token") or body.get("access_token")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{url}/v2/{repo}/tags/list", params={"n": 10000}, headers=headers)


def tag_names(url: str, creds: tuple[str, str]) -> set[str]:
    r = list_tags(url, REPO, creds)
    r.raise_for_status()
    return set(r.json().get("tags") or [])


# --- the app --------------------------------------------------------------------------------------
def _retype(qtbot: QtBot, edit: Any, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def _combo(qtbot: QtBot, combo: Any, text: str) -> None:
    edit = combo.lineEdit()
    _retype(qtbot, edit, text)


def open_gitlab_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, url: str, creds: Any
) -> MainWindow:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    window = MainWindow(accounts, SessionManager(accounts), LocalMode(accounts))
    qtbot.addWidget(window)
    window.resize(1300, 800)
    window.show()
    endpoint = Endpoint(url=url, kind=RegistryKind.GITLAB, api_url=f"{url}/api/v4")
    # The catalog is admin-only on GitLab, and the repositories table does not list through the
    # GitLab API yet: the paths are typed in, as the banner asks.
    profile = replace(
        Profile.for_endpoint(
            endpoint, name="gl", username=creds[0], credential_kind=CredentialKind.PERSONAL
        ),
        repositories=("oss/docs", REPO),
    )
    run(qloop, accounts.save(profile, creds[1]))

    async def start() -> None:
        await window.start()
        await until(lambda: not window.tasks.running("repos"))
        window.open_repository("gl", REPO)
        await until(lambda: not window.tasks.running("tags"))

    run(qloop, start(), 60)
    return window


def _open_editor(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> PolicyEditor:
    editors: list[PolicyEditor] = []
    window.delete_flow.policyEditorShown.connect(editors.append)

    async def go() -> None:
        window.open_policy_editor()
        await until(lambda: bool(editors))
        await until(lambda: editors[0].preview is not None)

    run(qloop, go())
    return editors[0]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_gitlab_policy_save_bulk_run_and_visibility(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    qapp: Any,
    tmp_path: Path,
    scheme: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        theme(qapp, scheme),
        LocalRegistry(tmp_path / "gl", demo=True, auth="token") as reg,
    ):
        url = str(reg.url)
        assert reg.demo_credentials is not None
        user, token = reg.demo_credentials
        creds = (user, token)
        window = open_gitlab_window(qtbot, qloop, tmp_path, url, creds)
        before = tag_names(url, creds)
        assert len(before) >= 20

        # --- 1. the editor in GitLab mode: type a policy, preview, Save to GitLab --------------
        editor = _open_editor(qloop, window)
        assert editor.gitlab is not None and editor.gitlab.repository_id is not None
        assert editor.save_button.isVisible() and editor.bulk_button.isVisible()
        assert editor.enabled.isVisible() and editor.cadence.isVisible()  # GitLab's schedule
        assert set(t.tag for t in editor.facts.tags) == before
        # grouped: GitLab anchors as \A<pattern>\z, without a group
        delete_re = r"(?:[0-9a-f]{8}|feature-.*|mr-\d+)"
        keep_re = r"(?:v\d+\.\d+\.\d+|main|feature-cart-.*)"
        _retype(qtbot, editor.delete_regex, delete_re)
        _retype(qtbot, editor.keep_regex, keep_re)
        _combo(qtbot, editor.keep_n, "5")
        _combo(qtbot, editor.older_than, "14d")
        editor.cadence.setCurrentIndex(editor.cadence.findData("7d"))
        assert not editor.enabled.isChecked()  # the project's (default) policy is off
        box = editor.enabled
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
        assert editor.enabled.isChecked()

        def settled() -> bool:
            p = editor.preview
            return (
                p is not None
                and sum("newest" in d.reason for d in p.keep) == 5
                and any("keep pattern" in d.reason for d in p.keep)
            )

        run(qloop, until(settled))
        p = editor.preview
        assert p is not None
        victims = {d.tag for d in p.delete}
        kept = {d.tag for d in p.keep}
        assert victims and kept and victims | kept == before and not victims & kept
        assert "latest" in kept
        assert all(re.fullmatch(delete_re, t) for t in victims)
        assert not any(re.fullmatch(keep_re, t) for t in victims)
        assert editor.delete_model.rowCount() == len(p.delete) + len(p.untagged)

        editor.resize(1120, 700)
        shot(qloop, editor, tmp_path, "policy-editor-gitlab", scheme)

        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: editor.state.text().startswith(("Saved", "Not saved"))))
        assert "Next run" in editor.state.text(), editor.state.text()
        assert editor.state.text().startswith("Saved to GitLab."), editor.state.text()
        saved = project_json(url, token)["container_expiration_policy"]
        assert saved["enabled"] is True, saved
        assert saved["cadence"] == "7d"
        assert saved["name_regex"] == delete_re
        assert saved["name_regex_keep"] == keep_re
        assert saved["keep_n"] == 5
        assert saved["older_than"] == "14d"
        assert saved["next_run_at"]

        # regview-only rules: refused for saving, in words; GitLab's policy is unchanged
        qtbot.keyClicks(editor.protected, "stable")
        run(qloop, until(lambda: editor.preview is not None and editor.policy().protected))
        run(qloop, asyncio.sleep(0.3))  # the preview of the protected rule settled
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
        refusal = editor.state.text()
        assert "protected tags" in refusal and "GitLab" in refusal, refusal
        assert "Saved" not in refusal
        assert project_json(url, token)["container_expiration_policy"] == saved
        _retype(qtbot, editor.protected, "")
        in_use = sorted(victims)[0]
        qtbot.keyClicks(editor.keep_list, f"{REPO}:{in_use}")

        def kept_in_use() -> bool:
            q = editor.preview
            return q is not None and in_use in {d.tag for d in q.keep}

        run(qloop, until(kept_in_use))
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
        assert "keep-list" in editor.state.text(), editor.state.text()
        assert project_json(url, token)["container_expiration_policy"] == saved
        editor.keep_list.setPlainText("")
        run(
            qloop,
            until(
                lambda: (
                    editor.preview is not None
                    and not editor.policy().keep_list.tags
                    and {d.tag for d in editor.preview.delete} == victims
                )
            ),
        )

        # --- 2. Run with GitLab's bulk API: confirm, then GitLab deletes what the preview said ---
        asked: list[str] = []

        def answer_yes(*args: Any, **kw: Any) -> QMessageBox.StandardButton:
            asked.append(str(args[2]))
            return QMessageBox.StandardButton.Yes

        monkeypatch.setattr(QMessageBox, "warning", answer_yes)
        qtbot.mouseClick(editor.bulk_button, Qt.MouseButton.LeftButton)
        assert asked and f"{len(victims):,}" in asked[0]
        run(qloop, until(lambda: editor.state.text().startswith("GitLab")))
        assert editor.state.text().startswith("GitLab accepted"), editor.state.text()

        async def gone() -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + 30
            while True:
                left = await asyncio.to_thread(tag_names, url, creds)
                if left == before - victims:
                    return
                assert loop.time() < end, f"still there: {sorted(left & victims)[:5]}"
                await asyncio.sleep(0.2)

        run(qloop, gone(), 40)
        assert tag_names(url, creds) == kept

        # a second run within the hour: GitLab's refusal, in words
        qtbot.mouseClick(editor.bulk_button, Qt.MouseButton.LeftButton)
        assert len(asked) == 2
        run(qloop, until(lambda: editor.state.text().startswith("GitLab refused")))
        text = editor.state.text()
        assert "once an hour" in text or "one bulk delete per repository per hour" in text, text
        assert tag_names(url, creds) == kept
        editor.reject()

        # --- 3. visibility from the repositories table's context menu ---------------------------
        run(qloop, asyncio.sleep(0.05))
        assert list_tags(url, REPO, None).status_code == 200  # public project, registry enabled

        async def repositories() -> None:
            window.open_profile("gl")
            await until(lambda: not window.tasks.running("repos"))

        run(qloop, repositories())
        model = window.repos_model
        rows = [model.row_at(i).path for i in range(model.rowCount())]
        assert REPO in rows
        row = rows.index(REPO)
        table = window.repos_table
        pos = table.visualRect(window.repos_model.index(row, 0)).center()
        window.deletion.repositories_menu(pos)
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        action = next(a for a in menu.actions() if a.text() == "Registry visibility…")
        menu.close()
        action.trigger()
        dialogs = window.findChildren(VisibilityDialog)
        assert len(dialogs) == 1
        dialog = dialogs[0]
        run(qloop, until(lambda: dialog.level_box.isEnabled()))
        assert dialog.current_level == "enabled"
        assert "= enabled" in dialog.current.text()
        assert dialog.level_box.currentData() == "enabled"
        assert PROJECT in dialog.project.text()
        assert not dialog.apply_button.isEnabled()
        dialog.level_box.setCurrentIndex(dialog.level_box.findData("private"))
        assert dialog.apply_button.isEnabled()
        assert "members" in dialog.detail.text()
        shot(qloop, dialog, tmp_path, "visibility", scheme)
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: dialog.state.text() not in ("", "Saving…")))
        assert dialog.state.text() == "Changed.", dialog.state.text()
        assert "= private" in dialog.current.text()
        assert project_json(url, token)["container_registry_access_level"] == "private"
        refused = list_tags(url, REPO, None)
        assert refused.status_code in (401, 403), refused.status_code
        assert list_tags(url, REPO, creds).status_code == 200  # members still can

        # back to enabled
        dialog.level_box.setCurrentIndex(dialog.level_box.findData("enabled"))
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: dialog.current_level == "enabled"))
        assert project_json(url, token)["container_registry_access_level"] == "enabled"
        assert list_tags(url, REPO, None).status_code == 200
        dialog.reject()

        window.close()
        run(qloop, window.aclose())
        run(qloop, asyncio.sleep(0.05))
