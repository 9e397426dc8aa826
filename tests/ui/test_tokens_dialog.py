"""Token management: list, test, rename, remove, import — against the embedded registry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import (
    PASSWORD,
    USER,
    MemoryKeyring,
    local_registry,
    make_accounts,
    only_these_logins,
    run,
)
from keyring.backends.fail import Keyring as FailKeyring
from pytestqt.qtbot import QtBot

from regview.core.model import CredentialKind, Endpoint
from regview.services.sessions import Accounts
from regview.settings.profiles import Profile
from regview.ui.dialogs.tokens_dialog import TokensDialog

pytestmark = [pytest.mark.ui]


def save(qloop: asyncio.AbstractEventLoop, accounts: Accounts, url: str, name: str) -> Profile:
    profile = Profile.for_endpoint(
        Endpoint(url=url), name=name, username=USER, credential_kind=CredentialKind.PASSWORD
    )
    return run(qloop, accounts.save(profile, PASSWORD))


def names(d: TokensDialog) -> list[str]:
    return [d.tree.topLevelItem(i).text(0) for i in range(d.tree.topLevelItemCount())]  # type: ignore[union-attr]


@pytest.mark.integration
def test_list_test_rename_remove(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    with local_registry(tmp_path / "reg", basic=True) as url:
        save(qloop, accounts, url, "local")
        d = TokensDialog(accounts)
        qtbot.addWidget(d)
        run(qloop, d.refresh())
        assert names(d) == ["local"]
        row = d.tree.topLevelItem(0)
        assert row is not None
        assert [row.text(c) for c in (1, 2, 3, 5)] == [
            "Username and password",
            USER,
            "not tested",
            "keyring",
        ]
        d.select("local")
        run(qloop, d.test())
        assert "list every repository" in d.status.label.text()
        row = d.tree.topLevelItem(0)
        assert row is not None and row.text(3).startswith("catalog")

        run(qloop, d.rename("my registry"))
        assert names(d) == ["my registry"]
        profiles = run(qloop, accounts.load()).profiles
        assert list(profiles) == ["my registry"]
        assert run(qloop, accounts.secret(profiles["my registry"])) == PASSWORD

        d.select("my registry")
        run(qloop, d.remove())
        assert names(d) == []
        assert backend.entries == {}
        run(qloop, d.tasks.aclose())
        assert not d.tasks.running("refresh") and not d.tasks.running("action")


def test_test_with_a_missing_secret_says_what_to_do(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    save(qloop, accounts, "https://registry.example.com", "remote")
    backend.entries.clear()
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    run(qloop, d.refresh())
    row = d.tree.topLevelItem(0)
    assert row is not None and row.text(5) == "missing"
    d.select("remote")
    run(qloop, d.test())
    assert "Replace" in d.status.label.text()


def test_rename_to_an_existing_name_is_refused(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    save(qloop, accounts, "https://a.example.com", "a")
    save(qloop, accounts, "https://b.example.com", "b")
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    run(qloop, d.refresh())
    d.select("a")
    run(qloop, d.rename("b"))
    assert "already a registry called 'b'" in d.status.label.text()
    assert sorted(names(d)) == ["a", "b"]


def test_import_docker_logins(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only_these_logins(monkeypatch, tmp_path, {"registry.example.com": "bob:hunter2-token"})
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    preview = d.import_logins()
    run(qloop, preview.tasks.task("load"))  # type: ignore[arg-type]
    assert [(c.registry, c.username, t) for c, t in preview.rows()] == [
        ("registry.example.com", "bob", True)
    ]
    assert backend.entries == {}  # nothing stored before Import
    run(qloop, preview.import_selected())
    run(qloop, d.tasks.task("refresh"))  # type: ignore[arg-type]
    assert "Imported 1: registry.example.com" in d.status.label.text()
    assert names(d) == ["registry.example.com"]
    assert list(backend.entries.values()) == ["hunter2-token"]
    assert "hunter2" not in (tmp_path / "settings.json").read_text(encoding="utf-8")
    again = d.import_logins()
    run(qloop, again.tasks.task("load"))  # type: ignore[arg-type]
    assert [(c.status, t) for c, t in again.rows()] == [("already here", False)]
    assert not again.import_button.isEnabled()  # nothing is imported twice
    run(qloop, again.tasks.aclose())
    assert names(d) == ["registry.example.com"]


def test_without_a_keyring_secrets_stay_in_memory_and_the_user_is_told(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    accounts = make_accounts(tmp_path, FailKeyring())
    save(qloop, accounts, "https://registry.example.com", "remote")
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    run(qloop, d.refresh())
    assert "No keyring available" in d.keyring_card.label.text()
    assert not d.keyring_card.isHidden()
    row = d.tree.topLevelItem(0)
    assert row is not None and row.text(5) == "this session only"
    assert PASSWORD not in (tmp_path / "settings.json").read_text(encoding="utf-8")
    assert run(qloop, accounts.secret(run(qloop, accounts.profiles())[0])) == PASSWORD


def test_removing_asks_about_the_secret_only_when_there_is_one(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Walking the app: removing an anonymous profile asked to "delete its secret from the
    keyring" though its Secret column said "not needed"."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    anonymous = Profile.for_endpoint(
        Endpoint(url="https://open.example.com"),
        name="open",
        credential_kind=CredentialKind.ANONYMOUS,
    )
    run(qloop, accounts.save(anonymous, None))
    save(qloop, accounts, "https://b.example.com", "signed")
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    run(qloop, d.refresh())
    asked: list[str] = []

    def answer(_title: str, text: str) -> bool:
        asked.append(text)
        return False  # nothing is removed here

    d.confirm = answer
    d.select("open")
    row = d.tree.currentItem()
    assert row is not None and row.text(5) == "not needed"
    d.remove_button.click()
    assert "secret" in asked[-1] and "keyring" not in asked[-1], asked[-1]
    assert "no secret to delete" in asked[-1], asked[-1]
    d.select("signed")
    d.remove_button.click()
    assert "delete its secret from the keyring" in asked[-1], asked[-1]
    assert sorted(names(d)) == ["open", "signed"]
    run(qloop, d.tasks.aclose())
