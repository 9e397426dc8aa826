"""Quay in the window with a robot login and Quay's OAuth token beside it (its imitation over the
embedded registry): the Add-registry dialog asks for the API token only there, its Test uses it
(Replace: an empty field tests with and keeps the stored one),
Save keeps it in the keyring entry the CLI uses (`api-token@<host>#<secret_id>`) and nowhere
else, and the window's listing, deleting and the Tokens dialog's Test use it. Screenshot:
quay-api-token (the dialog after a passing Test)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connect_support import MemoryKeyring, make_accounts, probed_dialog, run
from delete_support import shot
from pytestqt.qtbot import QtBot
from vendor_sites import QUAY_REPO, ROBOT, Site, quay_site

from regview.core.inventory import load_tags
from regview.core.model import CredentialKind, RegistryKind
from regview.core.vendors import API_TOKEN_USER, context_for, open_vendor
from regview.services.sessions import SessionManager
from regview.settings.secrets import SERVICE, entry_name
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.tokens_dialog import TokensDialog

pytestmark = [pytest.mark.ui, pytest.mark.integration]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with quay_site(tmp_path / "quay") as s:
        yield s


def _type(field: Any, text: str) -> None:
    """As typed: the field's text and its textEdited reaction."""
    field.setText(text)
    field.textEdited.emit(text)


def _api_calls(site: Site, mark: int) -> list[tuple[str, str]]:
    return [(m, p) for m, p in site.proxy.since(mark) if p.startswith("/api/v1/")]


def test_quay_robot_login_with_an_api_token_in_the_dialog_and_the_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, site: Site
) -> None:
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    token = site.vendor.oauth_token("alice", {"repo:read", "repo:write"})
    d = probed_dialog(qtbot, qloop, accounts, site.url)
    assert d.probe_result is not None and d.probe_result.kind is RegistryKind.QUAY
    assert d.current_kind() is CredentialKind.PASSWORD

    # shown for a Quay login that is not the OAuth token itself, with what it must allow
    _type(d.username, ROBOT[0])
    _type(d.secret, ROBOT[1])
    assert d.api_token.isVisibleTo(d) and d.api_token_label.isVisibleTo(d)
    hint = d.api_token_hint.text()
    assert "OAuth access token" in hint and "repo:write" in hint and "Quay API" in hint
    _type(d.username, "$oauthtoken")
    assert not d.api_token.isVisibleTo(d), "the $oauthtoken login is the API token itself"
    _type(d.username, ROBOT[0])
    assert d.api_token.isVisibleTo(d)

    d.repository.setText(QUAY_REPO)
    run(qloop, d.test())
    assert d.access is not None and d.access.delete is False, "a robot login alone cannot"

    _type(d.api_token, token)
    mark = site.proxy.mark()
    run(qloop, d.test())
    assert d.access is not None and d.access.delete is True
    assert f"Can delete tags in {QUAY_REPO} through the Quay API" in d.test_card.label.text()
    assert site.mutations(mark) == [], "Test sends nothing that changes anything"
    shot(qloop, d, tmp_path, "quay-api-token", "light")

    d.name.setText("quay")
    run(qloop, d.save())
    profile = run(qloop, accounts.load()).profiles["quay"]
    assert profile.username == ROBOT[0] and profile.secret_id
    host = site.url.split("://", 1)[1]
    assert backend.entries[(SERVICE, entry_name(host, API_TOKEN_USER, profile.secret_id))] == token
    assert backend.entries[(SERVICE, entry_name(host, ROBOT[0], profile.secret_id))] == ROBOT[1]
    assert token not in (tmp_path / "settings.json").read_text(encoding="utf-8")

    # replacing the robot's secret: an empty API token field keeps (and tests with) the stored one
    again = AddRegistryDialog(accounts, profile=profile)
    qtbot.addWidget(again)
    assert again._api_token_need() is not None and "keep" in again.api_token.placeholderText()
    _type(again.secret, ROBOT[1])
    again.repository.setText(QUAY_REPO)
    run(qloop, again.test())
    assert again.access is not None and again.access.delete is True, again.test_card.label.text()
    run(qloop, again.save())
    assert backend.entries[(SERVICE, entry_name(host, API_TOKEN_USER, profile.secret_id))] == token

    # the window's session (listing, details, deleting) carries it: the tags are listed
    # through Quay's API and the deleting port's vendor may delete
    sessions = SessionManager(accounts)
    session = run(qloop, sessions.open("quay"))
    assert session.credentials is not None and session.credentials.api_token == token
    assert token not in repr(session.credentials)
    mark = site.proxy.mark()
    listed = run(qloop, load_tags(session.client, QUAY_REPO))
    assert {t.tag: t.digest for t in listed} == site.pushed
    assert any(m == "GET" and "/tag/" in p for m, p in _api_calls(site, mark)), site.proxy.table(
        mark
    )
    vendor = open_vendor(context_for(session.endpoint, session.credentials, session.client))
    assert vendor is not None
    try:
        assert run(qloop, vendor.access(QUAY_REPO)).can_delete is True
    finally:
        run(qloop, vendor.aclose())
    run(qloop, sessions.close_all())

    # the Tokens dialog's Test reads it from the keyring too
    tokens = TokensDialog(accounts)
    qtbot.addWidget(tokens)
    run(qloop, tokens.refresh())
    tokens.select("quay")
    tokens.repo_box.setText(QUAY_REPO)
    run(qloop, tokens.test())
    assert "through the Quay API" in tokens.status.label.text()
    assert "Can delete tags" in tokens.status.label.text()

    # removing the registry removes its API token too
    run(qloop, accounts.remove("quay"))
    assert not [k for k in backend.entries if API_TOKEN_USER in k[1]]
