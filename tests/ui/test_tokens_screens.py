"""Every state of the Add registry, Tokens and Import dialogs, rendered offscreen in light and dark
(`REGVIEW_SCREENSHOT_DIR=dir` keeps the PNGs to look at), against the embedded GitLab instance.
Each state also asserts the words it must show, so a broken state fails here too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from connect_support import MemoryKeyring, make_accounts, only_these_logins, run
from delete_support import shot, theme
from keyring.backends.fail import Keyring as FailKeyring
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from testkit import free_port

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import TokenKind
from regview.server.runner import LocalRegistry
from regview.settings.profiles import Profile, with_updates
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.tokens_dialog import TokensDialog

pytestmark = [pytest.mark.ui, pytest.mark.integration]


def text(card: Any) -> str:
    doc = QTextDocument()
    doc.setHtml(card.label.text())
    return doc.toPlainText()


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[tuple[str, str, str, str]]:
    """(url, demo token, a token expiring in 3 days, an expired token)."""
    with LocalRegistry(tmp_path / "gitlab", auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        store = GitLabStore(tmp_path / "gitlab")
        try:
            soon_day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
            _, soon = store.add_token(
                TokenKind.PERSONAL, username="demo", scopes={"read_registry"}, expires_at=soon_day
            )
            _, dead = store.add_token(
                TokenKind.PERSONAL, username="demo", scopes={"api"}, expires_at="2020-01-01"
            )
        finally:
            store.close()
        yield reg.url, reg.demo_credentials[1], soon, dead


def profile(url: str, name: str, kind: CredentialKind = CredentialKind.PERSONAL) -> Profile:
    return Profile.for_endpoint(
        Endpoint(url=url, kind=RegistryKind.GITLAB, api_url=f"{url}/api/v4"),
        name=name,
        username="demo",
        credential_kind=kind,
    )


async def settle(owner: Any, name: str) -> None:
    task = owner.tasks.task(name)
    if task is not None:
        await asyncio.wait({task})


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_state_of_the_connection_dialogs(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    qapp: Any,
    tmp_path: Path,
    gitlab: tuple[str, str, str, str],
    monkeypatch: pytest.MonkeyPatch,
    scheme: str,
) -> None:
    url, token, soon, dead = gitlab
    host = url.split("://")[1]
    with theme(qapp, scheme):
        behind = QWidget()
        qtbot.addWidget(behind)
        behind.show()
        accounts = make_accounts(tmp_path, MemoryKeyring())

        def add(**kw: Any) -> AddRegistryDialog:
            d = AddRegistryDialog(accounts, parent=behind, **kw)
            d.show()
            return d

        def snap(widget: Any, name: str) -> None:
            shot(qloop, widget, tmp_path, name, scheme)

        # -- Add registry --------------------------------------------------------------------
        d = add()
        snap(d, "add-empty")
        d.address.setText("registry.example.com:50O0")
        d._address_edited()
        assert "letter O" in text(d.probe_card)
        snap(d, "add-bad-port")
        d.address.setText(f"http://127.0.0.1:{free_port()}")
        run(qloop, d.check())
        assert "Nothing answers" in text(d.probe_card) and d.save_button.text() == "Add anyway"
        snap(d, "add-unreachable")
        d.address.setText(url)
        run(qloop, d.check())
        assert "GitLab" in text(d.probe_card)
        assert d.api_url.text() == f"{url}/api/v4"
        d.api_confirm.setChecked(True)  # the user confirms where the token goes
        d.username.setText("demo")
        d.secret.setText("glpat-wrong")
        run(qloop, d.save())
        assert "Not saved" in text(d.test_card)
        snap(d, "add-gitlab-wrong-token")
        d.secret.setText(token)
        d._credential_edited()
        run(qloop, d.test())
        assert "Signed in as demo" in text(d.test_card)
        snap(d, "add-gitlab-tested")
        d.kind.setCurrentIndex(d.kind.findData(CredentialKind.DEPLOY))
        snap(d, "add-deploy-token")
        run(qloop, d.tasks.aclose())
        d.close()

        nokeyring = make_accounts(tmp_path / "nokeyring", FailKeyring())
        d = AddRegistryDialog(nokeyring, parent=behind)
        d.show()
        run(qloop, settle(d, "keyring"))
        assert "No keyring available" in text(d.keyring_card)
        snap(d, "add-no-keyring")
        run(qloop, d.tasks.aclose())
        d.close()

        # -- Tokens --------------------------------------------------------------------------
        run(qloop, accounts.save(profile(url, "GitLab (demo)"), token))
        run(qloop, accounts.save(profile(url, "pull only (expires soon)"), soon))
        stale = with_updates(profile(url, "old token"), expires_at=datetime(2020, 1, 1, tzinfo=UTC))
        run(qloop, accounts.save(stale, dead))
        run(qloop, accounts.save(profile(url, "no secret"), None))
        t = TokensDialog(accounts, parent=behind)
        t.show()
        run(qloop, t.tasks.task("refresh"))  # type: ignore[arg-type]
        snap(t, "tokens-list")
        for name in ("GitLab (demo)", "pull only (expires soon)"):
            t.select(name)
            run(qloop, t.test())
        t.select("GitLab (demo)")
        run(qloop, t.test())
        assert "Signed in as demo" in text(t.status)
        snap(t, "tokens-tested")
        t.select("old token")
        run(qloop, t.test())
        assert "expired on 2020-01-01" in text(t.status) and t.fix_button.isVisible()
        snap(t, "tokens-expired")
        t.select("no secret")
        run(qloop, t.test())
        assert "No secret is stored" in text(t.status)
        snap(t, "tokens-missing-secret")
        t.select("GitLab (demo)")
        r = t.replace()
        assert r is not None
        snap(r, "replace")
        run(qloop, r.tasks.aclose())
        r.close()

        only_these_logins(monkeypatch, tmp_path, {host: f"demo:{token}", "quay.io": "bob:x"})
        preview = t.import_logins()
        run(qloop, preview.tasks.task("load"))  # type: ignore[arg-type]
        snap(preview, "import-preview")
        run(qloop, preview.tasks.aclose())
        preview.close()
        run(qloop, t.tasks.aclose())
        t.close()

        t = TokensDialog(nokeyring, parent=behind)
        t.show()
        run(qloop, t.tasks.task("refresh"))  # type: ignore[arg-type]
        assert "No keyring available" in text(t.keyring_card)
        snap(t, "tokens-no-keyring")
        run(qloop, t.tasks.aclose())
        t.close()
