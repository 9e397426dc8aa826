"""A credential that signs in but may not delete through the registry's management API (a Harbor
robot without Tag: Delete) is a partial result: the Add-registry dialog's and the Tokens
dialog's Test cards show it as a warning — not green — saying that deleting will be refused and
which permission is missing; a robot that may delete stays green. Screenshots:
vendor-refused-delete (the Add-registry dialog's card), vendor-refused-delete-tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts, probed_dialog, run
from delete_support import shot
from pytestqt.qtbot import QtBot
from vendor_sites import CLEANER, HARBOR_REPO, READER, Site, harbor_site

from regview.core.model import RegistryKind
from regview.ui.dialogs.connect.cards import tone_colour
from regview.ui.dialogs.tokens_dialog import TokensDialog

pytestmark = [pytest.mark.ui, pytest.mark.integration]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with harbor_site(tmp_path / "harbor") as s:
        yield s


def test_a_refused_delete_is_a_warning_in_both_test_cards(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, site: Site
) -> None:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    d = probed_dialog(qtbot, qloop, accounts, site.url)
    assert d.probe_result is not None and d.probe_result.kind is RegistryKind.HARBOR
    d.repository.setText(HARBOR_REPO)

    d.username.setText(CLEANER[0])
    d.secret.setText(CLEANER[1])
    run(qloop, d.test())
    assert d.access is not None and d.access.delete is True
    good, warn = (tone_colour(t, d.palette()) for t in ("good", "warn"))
    assert d.test_card.tone == "good" and good in d.test_card.styleSheet()

    d.username.setText(READER[0])
    d.secret.setText(READER[1])
    run(qloop, d.test())
    assert d.access is not None and d.access.passed and d.access.delete is False
    card = d.test_card.label.text()
    assert d.test_card.tone == "warn", card
    assert warn in d.test_card.styleSheet() and good not in d.test_card.styleSheet()
    assert f"deleting in {HARBOR_REPO} through the Harbor API will be refused" in card
    assert "Tag: Delete" in card, "the missing permission, named"
    assert d.failure == "", "a partial result is not a failure: Add stays Add"
    assert d.save_button.text() == "Add registry"
    shot(qloop, d, tmp_path, "vendor-refused-delete", "light")

    d.name.setText("harbor")
    run(qloop, d.save())
    assert "harbor" in run(qloop, accounts.load()).profiles

    tokens = TokensDialog(accounts)
    qtbot.addWidget(tokens)
    run(qloop, tokens.refresh())
    tokens.select("harbor")
    tokens.repo_box.setText(HARBOR_REPO)
    run(qloop, tokens.test())
    status = tokens.status.label.text()
    assert tokens.status.tone == "warn", status
    assert "will be refused" in status and "Tag: Delete" in status
    assert tokens.fix_button.isVisibleTo(tokens), "Replace… offered for a token with the scope"
    tokens.show()
    shot(qloop, tokens, tmp_path, "vendor-refused-delete-tokens", "light")
