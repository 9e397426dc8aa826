"""Safety of the connection UI: registry text shown literally, one keyring entry per profile,
and loading a profile for *Replace credential* never probes the registry.

The registries are small aiohttp apps on 127.0.0.1 (`fault_servers.serve`), reached by the real
dialogs over loopback sockets through the real client core.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from connect_support import MemoryKeyring, make_accounts, run
from fault_servers import serve
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from regview.core.model import CredentialKind, Endpoint
from regview.services.accounts import Accounts
from regview.services.connect import AccessSummary
from regview.settings.profiles import Profile
from regview.ui.dialogs.connect.cards import access_html
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.tokens_dialog import TokensDialog

pytestmark = [pytest.mark.ui]

EVIL = "<b>x</b><img src='http://127.0.0.1:9/evil.png'><a href='http://127.0.0.1:9/'>click</a>"


def shown(html: str) -> str:
    """What a person reads in a rich-text label showing `html`."""
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


def assert_literal(html: str) -> None:
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<img" not in html and "<a href" not in html
    assert EVIL in shown(html)  # the registry's characters, not rendered markup


def errors_body(message: str, code: str = "UNAUTHORIZED") -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


# -- servers ------------------------------------------------------------------------------------


def refusing_registry() -> web.Application:
    """Asks for Basic auth and refuses every credential with `EVIL` as its error message."""

    async def v2(request: web.Request) -> web.Response:
        return web.Response(
            status=401,
            body=errors_body(EVIL),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Basic realm="evil"'},
        )

    app = web.Application()
    app.router.add_get("/v2/", v2)
    return app


def failing_catalog_registry() -> web.Application:
    """Anonymous /v2/, but the catalog fails with HTTP 400 and `EVIL` as its message."""

    async def v2(request: web.Request) -> web.Response:
        return web.json_response({})

    async def catalog(request: web.Request) -> web.Response:
        return web.Response(
            status=400, body=errors_body(EVIL, "UNKNOWN"), content_type="application/json"
        )

    app = web.Application()
    app.router.add_get("/v2/", v2)
    app.router.add_get("/v2/_catalog", catalog)
    return app


def versioned_registry() -> web.Application:
    """A 'GitLab' registry whose version header is markup."""

    async def v2(request: web.Request) -> web.Response:
        return web.json_response({}, headers={"Gitlab-Container-Registry-Version": EVIL})

    app = web.Application()
    app.router.add_get("/v2/", v2)
    return app


def counting_registry(seen: list[str]) -> Callable[[], web.Application]:
    def make() -> web.Application:
        async def any_path(request: web.Request) -> web.Response:
            seen.append(f"{request.method} {request.path}")
            return web.json_response({})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", any_path)
        return app

    return make


def new_dialog(qtbot: QtBot, accounts: Accounts, **kw: object) -> AddRegistryDialog:
    d = AddRegistryDialog(accounts, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(d)
    return d


def checked_dialog(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, url: str
) -> AddRegistryDialog:
    """A fresh *Add registry* dialog (empty keyring) that has checked the registry at `url`."""
    d = new_dialog(qtbot, make_accounts(tmp_path, MemoryKeyring()))
    d.address.setText(url)
    run(qloop, d.check())
    return d


def password_profile(url: str, name: str, username: str = "alice", **kw: object) -> Profile:
    return Profile.for_endpoint(
        Endpoint(url=url, **kw),  # type: ignore[arg-type]
        name=name,
        username=username,
        credential_kind=CredentialKind.PASSWORD,
    )


def save_pair(qloop: asyncio.AbstractEventLoop, accounts: Accounts) -> Profile:
    """Save profiles "work" and "mirror": the same registry, login alice and secret "s3cret";
    return "work" as saved."""
    url = "https://registry.example.com"
    work = run(qloop, accounts.save(password_profile(url, "work"), "s3cret"))
    run(qloop, accounts.save(password_profile(url, "mirror"), "s3cret"))
    return work


# -- 1. registry text is literal text ----------------------------------------------------------


@pytest.mark.integration
def test_a_refused_credential_shows_the_registry_message_literally(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with serve(refusing_registry) as url:
        d = checked_dialog(qtbot, qloop, tmp_path, url)
        assert d.probe_result is not None and d.probe_result.auth_required
        d.username.setText("alice")
        d.secret.setText("wrong")
        run(qloop, d.test())
        assert d.access is None
        html = d.test_card.label.text()
        assert "The test failed" in shown(html)
        assert_literal(html)
        assert "wrong" not in html


@pytest.mark.integration
def test_a_failed_catalog_note_shows_the_registry_message_literally(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with serve(failing_catalog_registry) as url:
        d = checked_dialog(qtbot, qloop, tmp_path, url)
        run(qloop, d.test())
        assert d.access is not None
        assert any(EVIL in note for note in d.access.notes)  # the note keeps the raw text
        assert_literal(d.test_card.label.text())


@pytest.mark.integration
def test_a_registry_version_header_is_shown_literally(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with serve(versioned_registry) as url:
        d = checked_dialog(qtbot, qloop, tmp_path, url)
        assert d.probe_result is not None and d.probe_result.version == EVIL
        assert_literal(d.probe_card.label.text())


@pytest.mark.integration
def test_token_dialog_test_shows_the_registry_message_literally(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    with serve(refusing_registry) as url:
        run(qloop, accounts.save(password_profile(url, "evil"), "wrong"))
        d = TokensDialog(accounts)
        qtbot.addWidget(d)
        run(qloop, d.refresh())
        d.select("evil")
        run(qloop, d.test())
        assert_literal(d.status.label.text())
        run(qloop, d.tasks.aclose())


def test_access_html_escapes_notes() -> None:
    html = access_html(AccessSummary(notes=(EVIL,)))
    assert_literal(html)


# -- 2. profiles with the same login keep separate keyring entries --------------------------------


def test_two_profiles_with_the_same_login_have_an_entry_each(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    work = save_pair(qloop, accounts)
    assert len(backend.entries) == 2  # one per profile, never one shared silently

    assert run(qloop, accounts.remove("work")) == ()
    mirror = run(qloop, accounts.load()).profiles["mirror"]
    assert mirror.secret_id and mirror.secret_id != work.secret_id
    assert run(qloop, accounts.secret(mirror)) == "s3cret"
    assert run(qloop, accounts.remove("mirror")) == ()
    assert backend.entries == {}


def test_replacing_one_profiles_credential_never_changes_the_others(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    work = save_pair(qloop, accounts)
    run(qloop, accounts.replace_secret(work, "alice", CredentialKind.PASSWORD, "n3w"))
    profiles = run(qloop, accounts.load()).profiles
    assert run(qloop, accounts.secret(profiles["mirror"])) == "s3cret"
    assert run(qloop, accounts.secret(profiles["work"])) == "n3w"
    run(qloop, accounts.replace_secret(profiles["work"], "bob", CredentialKind.PASSWORD, "b0b"))
    profiles = run(qloop, accounts.load()).profiles
    assert run(qloop, accounts.secret(profiles["work"])) == "b0b"
    assert run(qloop, accounts.secret(profiles["mirror"])) == "s3cret"
    assert sorted(backend.entries.values()) == ["b0b", "s3cret"]  # alice's old one went


def test_replacing_a_not_yet_migrated_profiles_secret_leaves_no_shared_entry_behind(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """A profile still on the old shared entry (as the previous version saved it): its new
    secret goes to its own entry and the old entry, used by nobody else, is deleted."""
    backend = MemoryKeyring()
    backend.entries[("regview", "alice@registry.example.com")] = "old"
    accounts = make_accounts(tmp_path, backend)
    old = password_profile("https://registry.example.com", "work")
    accounts.store.update(lambda s: s.put(old))  # written without a secret_id, as before
    updated = run(qloop, accounts.replace_secret(old, "alice", CredentialKind.PASSWORD, "new"))
    assert updated.secret_id
    assert backend.entries == {
        ("regview", f"alice@registry.example.com#{updated.secret_id}"): "new"
    }


def test_tokens_dialog_remove_deletes_only_that_profiles_secret(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    save_pair(qloop, accounts)
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    run(qloop, d.refresh())
    d.select("work")
    asked: list[str] = []
    d.confirm = lambda _title, text: asked.append(text) or False
    d._remove_clicked()
    assert "delete its secret" in asked[0]
    run(qloop, d.remove())
    assert "Removed work and its secret" in shown(d.status.label.text())
    assert list(backend.entries.values()) == ["s3cret"]
    mirror = run(qloop, accounts.load()).profiles["mirror"]
    assert run(qloop, accounts.secret(mirror)) == "s3cret"
    run(qloop, d.tasks.aclose())


# -- 3. loading a profile does not probe ---------------------------------------------------------


@pytest.mark.integration
def test_replace_dialog_for_an_insecure_profile_does_not_probe(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    seen: list[str] = []
    accounts = make_accounts(tmp_path, MemoryKeyring())
    with serve(counting_registry(seen)) as url:
        profile = password_profile(url, "plain", insecure=True)
        run(qloop, accounts.save(profile, "s3cret"))
        d = new_dialog(qtbot, accounts, profile=profile)
        assert d.insecure.isChecked()
        # the address is fixed here: read-only, and no clear (×) button on it
        assert d.address.isReadOnly() and not d.address.isClearButtonEnabled()
        card = d.probe_card.label.text()
        result = d.probe_result
        assert result is not None
        run(qloop, asyncio.sleep(1.5))  # the 0.6-s debounce would have fired by now
        assert seen == []
        assert d.probe_card.label.text() == card
        assert d.probe_result is result
        run(qloop, d.tasks.aclose())


def test_cancel_while_the_typed_address_waits_to_be_checked_sends_nothing(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The address is checked 0.6 s after the last keystroke. Cancelling within those 0.6 s
    ends the dialog: no probe goes to the registry afterwards, and no task outlives it."""
    seen: list[str] = []
    with serve(counting_registry(seen)) as url:
        d = new_dialog(qtbot, make_accounts(tmp_path, MemoryKeyring()))
        d.show()
        qtbot.keyClicks(d.address, url)
        assert d._debounce.isActive()  # the check is waiting for the typing to stop
        d.reject()
        run(qloop, asyncio.sleep(1.0))
        assert seen == []
        assert not d.tasks.running("probe")
        run(qloop, d.tasks.aclose())
