"""Hand-added repository paths as a journey through the real window (issue 18), on the embedded
registry in GitLab mode with a deploy token of one project, behind a request-counting proxy:

- the catalog is not asked at all (GitLab refuses it to a deploy token anyway);
- "Add repository path…" refuses `acme/webshop-` naming the bad part, and saves nothing;
- a path the token may not read says "this credential may not read …" with the scope and the
  rights needed — never "Sign-in failed" or "check the username and password";
- the hand-added path can be renamed (to one the token may read: its tags load) and removed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from counting_proxy import CountingProxy
from fault_servers import serve
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from window_support import local_token, local_window, run_in_local_mode, until

from regview.core.model import CredentialKind, RegistryKind
from regview.server.gitlab.perms import TokenKind
from regview.settings.profiles import Profile
from regview.ui.window.main_window import PAGE_TAGS

pytestmark = [pytest.mark.ui, pytest.mark.integration]
FORBIDDEN = "acme/infra/ci-runner"  # another project's image: the deploy token may not read it
ALLOWED = "acme/webshop/frontend"


async def _shot(widget: object, name: str) -> None:
    """Save what the user sees to $REGVIEW_SCREENSHOT_DIR (if set), to look at."""
    out = os.environ.get("REGVIEW_SCREENSHOT_DIR")
    if out:
        await asyncio.sleep(0.25)  # layouts and paints run in the loop
        os.makedirs(out, exist_ok=True)  # noqa: PTH103 - a test's screenshot folder
        assert widget.grab().save(str(Path(out) / f"{name}.png"), "PNG")  # type: ignore[attr-defined]


def _action(window: object, item: object, text: str) -> None:
    menu = window.sidebar.context_menu(item)  # type: ignore[attr-defined]
    (act,) = [a for a in menu.actions() if a.text() == text]
    act.trigger()


def test_hand_added_path_validated_named_error_renamed_removed(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window = local_window(qtbot, tmp_path)
    proxies: list[CountingProxy] = []

    async def scenario() -> None:
        local_profile, token, secret = await local_token(
            window, TokenKind.DEPLOY, scopes={"read_registry"}, project="acme/webshop"
        )
        proxy = CountingProxy(local_profile.url)
        proxies.append(proxy)
        with serve(proxy.app) as url:
            profile = Profile(
                name="deploy",
                url=url,
                kind=RegistryKind.GITLAB,
                username=token.username,
                credential_kind=CredentialKind.DEPLOY,
            )
            await window.accounts.save(profile, secret)
            await window.start()
            await until(lambda: not window.tasks.running("repos"))
            # a deploy token never gets the catalog: not asked at all, the way out is offered
            assert not [p for _m, p in proxy.since() if p.startswith("/v2/_catalog")]
            assert "will not list its repositories" in window.banner.label.text()

            # Add repository path…: the bad part named, OK refused, nothing saved
            window.add_repository_path("deploy")
            dialog = window.hand_paths.dialog
            assert dialog is not None and dialog.isVisible()
            dialog.edit.setText("acme/webshop-")
            assert dialog.error.isVisible()
            assert "'webshop-'" in dialog.error.text() and "trailing hyphen" in dialog.error.text()
            assert not dialog.ok_button.isEnabled()
            await _shot(dialog, "add-path-refused")
            qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)  # Enter does not get past it either
            assert dialog.isVisible()
            assert (await window.accounts.load()).profiles["deploy"].repositories == ()

            # a valid path the token may not read: said in words, not "sign-in failed"
            dialog.edit.setText(FORBIDDEN)
            assert not dialog.error.isVisible() and dialog.ok_button.isEnabled()
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            await until(
                lambda: not window.tasks.running("profiles") and not window.tasks.running("tags")
            )
            await until(lambda: window.banner.isVisible())
            said = " ".join(window.banner.label.text().split())
            await _shot(window, "insufficient-scope-banner")
            assert "may not read the tag list of " + FORBIDDEN in said, said
            assert "read_registry" in said and "Reporter" in said, said
            assert "Sign-in failed" not in said and "password" not in said, said
            saved = (await window.accounts.load()).profiles["deploy"].repositories
            assert saved == (FORBIDDEN,)

            # Rename path… on the hand-added leaf: to the project the token belongs to
            await until(lambda: window.sidebar.repository_item("deploy", FORBIDDEN) is not None)
            _action(window, window.sidebar.repository_item("deploy", FORBIDDEN), "Rename path…")
            rename = window.hand_paths.dialog
            assert rename is not None and rename is not dialog
            assert rename.edit.text() == FORBIDDEN
            rename.edit.setText(ALLOWED)
            qtbot.mouseClick(rename.ok_button, Qt.MouseButton.LeftButton)
            await until(lambda: window.sidebar.repository_item("deploy", ALLOWED) is not None)
            await until(lambda: not window.tasks.running("profiles"))
            assert (await window.accounts.load()).profiles["deploy"].repositories == (ALLOWED,)
            assert window.sidebar.repository_item("deploy", FORBIDDEN) is None
            window.open_repository("deploy", ALLOWED)
            await until(lambda: not window.tasks.running("tags"))
            assert window.pages.currentIndex() == PAGE_TAGS
            assert window.tags_view.model.rowCount() > 0

            # Remove path (after a confirmation that says nothing is deleted from the registry)
            _action(window, window.sidebar.repository_item("deploy", ALLOWED), "Remove path")
            box = window.hand_paths.confirm
            assert box is not None and "Nothing is deleted" in box.text()
            yes = box.button(QMessageBox.StandardButton.Yes)
            assert yes is not None
            qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
            await until(lambda: window.sidebar.repository_item("deploy", ALLOWED) is None)
            await until(lambda: not window.tasks.running("profiles"))
            assert (await window.accounts.load()).profiles["deploy"].repositories == ()
            # not a single DELETE, and the catalog still never asked
            log = proxy.since()
            assert not [p for m, p in log if m == "DELETE"]
            assert not [p for _m, p in log if p.startswith("/v2/_catalog")]
            await window.aclose()

    run_in_local_mode(qloop, window, scenario)
