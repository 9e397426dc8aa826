"""The token dialog round trip through a real Secret Service (gnome-keyring on a D-Bus session).

gnome-keyring-daemon runs in the foreground on its own `dbus-daemon` with its own HOME
(`keyring_support.gnome_keyring`), so the user's real keyring is never touched; both are ended by
process id.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring_support import gnome_keyring

from regview.core.model import CredentialKind, Endpoint
from regview.services.sessions import Accounts
from regview.settings.profiles import Profile, SettingsStore
from regview.settings.secrets import SERVICE, FallbackStore, KeyringStore, entry_name

pytestmark = [
    pytest.mark.integration,
    pytest.mark.ui,
    pytest.mark.needs_tool("gnome-keyring-daemon"),
]


@pytest.fixture(autouse=True)
def _collected_on_the_ui_thread(qapp: Any) -> Iterator[None]:
    """The app's collector regime, as tests/ui/conftest.py sets it: this module opens real
    dialogs outside tests/ui, and a run without tests/ui (unit, integration, vendors) left them
    to a later test's server thread to collect — "Timers cannot be stopped from another
    thread" failed a vendors test, and Qt crashed (SIGSEGV) a few tests later."""
    from regview.ui import gc_guard

    gc_guard.install()
    yield
    gc.collect()


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh, unlocked gnome-keyring on its own session bus; keyring's SecretService backend."""
    with gnome_keyring(tmp_path / "keyring-home", monkeypatch, b"\n") as backend:
        yield backend


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, when a dialog opens
def test_token_dialog_round_trip_through_secret_service(
    qtbot: object, tmp_path: Path, secret_service: object
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ui"))
    import qasync
    from pytestqt.qtbot import QtBot

    from regview.ui.dialogs.connect.dialog import AddRegistryDialog
    from regview.ui.dialogs.tokens_dialog import TokensDialog

    assert isinstance(qtbot, QtBot)
    keyring_store = KeyringStore(secret_service)  # type: ignore[arg-type]
    accounts = Accounts(SettingsStore(tmp_path / "settings.json"), FallbackStore(keyring_store))
    loop = qasync.QEventLoop(qtbot._request.getfixturevalue("qapp"))  # type: ignore[attr-defined]
    errors: list[object] = []
    loop.set_exception_handler(lambda _l, ctx: errors.append(ctx))
    asyncio.set_event_loop(loop)

    def run(aw: object) -> object:
        return loop.run_until_complete(asyncio.wait_for(aw, 30))  # type: ignore[arg-type]

    try:
        tokens = TokensDialog(accounts)
        qtbot.addWidget(tokens)
        run(tokens.refresh())
        assert tokens.keyring_card.isHidden()  # a working keyring: no warning
        assert tokens.tree.topLevelItemCount() == 0

        # Add a token through the dialog.
        add = tokens.add()
        assert isinstance(add, AddRegistryDialog)
        add.address.setText("https://registry.example.com")
        add.kind.setCurrentIndex(add.kind.findData(CredentialKind.PERSONAL))
        add.username.setText("alice")
        add.secret.setText("glpat-first-0123456789")
        run(add.save())  # the test fails (nothing answers there): not saved, and it says so
        assert add.save_button.text() == "Add anyway"
        assert "Not saved" in add.test_card.label.text()
        assert accounts.store.load().profiles == {}
        run(add.save())  # the explicit second click
        run(tokens.refresh())
        item = tokens.tree.topLevelItem(0)
        assert item is not None
        assert [item.text(c) for c in (0, 1, 2, 5)] == [
            "registry.example.com",
            "Personal access token",
            "alice",
            "keyring",
        ]
        saved = accounts.store.load().profiles["registry.example.com"]
        name = entry_name("https://registry.example.com", "alice", saved.secret_id)
        assert secret_service.get_password(SERVICE, name) == "glpat-first-0123456789"  # type: ignore[attr-defined]
        assert "glpat" not in (tmp_path / "settings.json").read_text(encoding="utf-8")

        # Replace it.
        tokens.select("registry.example.com")
        replace = tokens.replace()
        assert replace is not None
        replace.secret.setText("glpat-second-0123456789")
        run(replace.save())
        assert replace.save_button.text() == "Save anyway"
        run(replace.save())
        run(tokens.refresh())
        assert secret_service.get_password(SERVICE, name) == "glpat-second-0123456789"  # type: ignore[attr-defined]
        assert tokens.tree.topLevelItemCount() == 1

        # Remove it: gone from the list and from the Secret Service.
        tokens.select("registry.example.com")
        run(tokens.remove())
        assert tokens.tree.topLevelItemCount() == 0
        assert secret_service.get_password(SERVICE, name) is None  # type: ignore[attr-defined]
        profile = Profile.for_endpoint(Endpoint(url="https://registry.example.com"))
        assert run(accounts.secret(profile)) is None
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()
    assert errors == []


def test_profiles_with_one_login_have_their_own_secret_service_entries(
    tmp_path: Path, secret_service: object
) -> None:
    """Two profiles for the same host and username: each has its own entry; removing one
    leaves the other's untouched."""
    accounts = Accounts(
        SettingsStore(tmp_path / "settings.json"),
        FallbackStore(KeyringStore(secret_service)),  # type: ignore[arg-type]
    )
    url = "https://registry.example.com"

    def profile(name: str) -> Profile:
        return Profile.for_endpoint(
            Endpoint(url=url),
            name=name,
            username="alice",
            credential_kind=CredentialKind.PASSWORD,
        )

    async def scenario() -> None:
        work = await accounts.save(profile("work"), "pa55-work")
        mirror = await accounts.save(profile("mirror"), "pa55-mirror")
        assert await accounts.remove("work") == ()
        assert (
            secret_service.get_password(SERVICE, entry_name(url, "alice", work.secret_id)) is None
        )  # type: ignore[attr-defined]
        assert await accounts.secret(mirror) == "pa55-mirror"
        assert await accounts.remove("mirror") == ()
        assert (
            secret_service.get_password(SERVICE, entry_name(url, "alice", mirror.secret_id)) is None
        )  # type: ignore[attr-defined]

    asyncio.run(asyncio.wait_for(scenario(), 30))
