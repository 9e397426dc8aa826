"""The token dialog round trip through a real Secret Service (gnome-keyring on a D-Bus session).

tests/run.sh runs the suite under `dbus-run-session`; without a session bus this test starts its
own `dbus-daemon`. gnome-keyring-daemon runs in the foreground with its own HOME and an empty
password, so the user's real keyring is never touched, and is ended by its process id.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring_support import stop_daemon
from testkit import require_tool

from regview.core.model import CredentialKind, Endpoint
from regview.settings.profiles import Profile, SettingsStore
from regview.settings.secrets import SERVICE, FallbackStore, KeyringStore, entry_name
from regview.ui.registry_session import Accounts

pytestmark = [
    pytest.mark.integration,
    pytest.mark.ui,
    pytest.mark.needs_tool("gnome-keyring-daemon"),
]


def _read_until(proc: subprocess.Popen[bytes], predicate: str, timeout: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode()
        if not line:
            break
        seen += line
        if predicate in line:
            return seen
    raise RuntimeError(f"did not see {predicate!r} in time; output so far: {seen!r}")


def _wait_for_bus_name(name: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until `proc` owns `name`, without asking the bus to activate some other daemon."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    deadline = time.monotonic() + timeout
    with open_dbus_connection(bus="SESSION") as conn:
        while time.monotonic() < deadline:
            reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=5)
            if reply.body[0]:
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError(f"gnome-keyring-daemon did not claim {name} on the session bus")


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fresh, unlocked gnome-keyring on the session bus; yields keyring's SecretService backend."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            require_tool("dbus-daemon")
            bus = subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            procs.append(bus)
            address = _read_until(bus, "unix:", 10).strip().splitlines()[-1]
            monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        home = tmp_path / "keyring-home"
        (home / ".local" / "share").mkdir(parents=True)
        env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"))
        daemon = subprocess.Popen(
            [
                "gnome-keyring-daemon",
                "--foreground",
                "--replace",
                "--unlock",
                "--components=secrets",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        procs.append(daemon)
        assert daemon.stdin is not None
        daemon.stdin.write(b"\n")  # the empty password of the new login keyring
        daemon.stdin.close()
        for line in _read_until(daemon, "GNOME_KEYRING_CONTROL=", 15).splitlines():
            if "=" in line:
                name, value = line.split("=", 1)
                monkeypatch.setenv(name, value)
        _wait_for_bus_name("org.freedesktop.secrets", daemon, 15)
        from keyring.backends.SecretService import Keyring

        yield Keyring()
    finally:
        for proc in reversed(procs):
            stop_daemon(proc)


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, when a dialog opens
def test_token_dialog_round_trip_through_secret_service(
    qtbot: object, tmp_path: Path, secret_service: object
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ui"))
    import qasync
    from pytestqt.qtbot import QtBot

    from regview.ui.connect_dialog import AddRegistryDialog
    from regview.ui.tokens_dialog import TokensDialog

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
        run(add.save())
        run(tokens.refresh())
        item = tokens.tree.topLevelItem(0)
        assert item is not None
        assert [item.text(c) for c in (0, 1, 2, 5)] == [
            "registry.example.com",
            "Personal access token",
            "alice",
            "keyring",
        ]
        name = entry_name("https://registry.example.com", "alice")
        assert secret_service.get_password(SERVICE, name) == "glpat-first-0123456789"  # type: ignore[attr-defined]
        assert "glpat" not in (tmp_path / "settings.json").read_text(encoding="utf-8")

        # Replace it.
        tokens.select("registry.example.com")
        replace = tokens.replace()
        assert replace is not None
        replace.secret.setText("glpat-second-0123456789")
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


def test_profiles_sharing_a_login_share_one_secret_service_entry(
    tmp_path: Path, secret_service: object
) -> None:
    """Two profiles for the same host and username: removing one keeps the other's secret."""
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
        await accounts.save(profile("work"), "pa55-shared")
        await accounts.save(profile("mirror"), "pa55-shared")
        kept_for = await accounts.remove("work")
        name = entry_name(url, "alice")
        assert secret_service.get_password(SERVICE, name) == "pa55-shared"  # type: ignore[attr-defined]
        assert kept_for == ("mirror",)
        assert await accounts.secret(profile("mirror")) == "pa55-shared"
        assert await accounts.remove("mirror") == ()
        assert secret_service.get_password(SERVICE, name) is None  # type: ignore[attr-defined]

    asyncio.run(asyncio.wait_for(scenario(), 30))
