"""Helpers for the connection UI tests: an in-memory keyring, accounts in a temp folder, and the
embedded registry over a real loopback socket (anonymous, or Basic auth with an htpasswd file)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Awaitable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import bcrypt
import pytest
from keyring_support import MemoryKeyring

from regview.server.runner import LocalRegistry
from regview.services.sessions import Accounts
from regview.settings.profiles import SettingsStore
from regview.settings.secrets import FallbackStore, KeyringStore

if TYPE_CHECKING:
    from regview.ui.dialogs.connect.dialog import AddRegistryDialog

T = TypeVar("T")
USER, PASSWORD = "alice", "s3cret-Pa55word"
__all__ = ["MemoryKeyring", "make_accounts"]  # the UI tests import the keyring from here


def make_accounts(base: Path, backend: Any) -> Accounts:
    return Accounts(SettingsStore(base / "settings.json"), FallbackStore(KeyringStore(backend)))


@contextlib.contextmanager
def local_registry(data: Path, *, basic: bool = False, demo: bool = False) -> Iterator[str]:
    htpasswd = None
    if basic:
        htpasswd = data.parent / f"{data.name}.htpasswd"
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        htpasswd.write_text(f"{USER}:{hashed}\n", encoding="utf-8")
    reg = LocalRegistry(data, demo=demo, auth="basic" if basic else "none", htpasswd=htpasswd)
    url = reg.start()
    try:
        yield url
    finally:
        reg.stop()


def run(loop: asyncio.AbstractEventLoop, aw: Awaitable[T], timeout: float = 30) -> T:
    """Drive the qasync loop until `aw` is done (bounded in time)."""
    return loop.run_until_complete(asyncio.wait_for(aw, timeout))


def only_these_logins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, auths: Mapping[str, str] | None = None
) -> None:
    """Make `auths` (registry host → "user:secret") the only Docker/podman logins an import can
    find: a docker config in `tmp_path / "docker"` (no folder at all when there are none), and no
    podman auth file, home folder or CI registry to fall back on."""
    docker = tmp_path / "docker"
    if auths:
        docker.mkdir()
        entries = {
            host: {"auth": base64.b64encode(cred.encode()).decode()} for host, cred in auths.items()
        }
        (docker / "config.json").write_text(json.dumps({"auths": entries}), encoding="utf-8")
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    for var in ("REGISTRY_AUTH_FILE", "CI_REGISTRY"):
        monkeypatch.delenv(var, raising=False)


def probed_dialog(
    qtbot: Any, loop: asyncio.AbstractEventLoop, accounts: Accounts, url: str
) -> AddRegistryDialog:
    """An Add-registry dialog shown with `url` typed in and checked (its probe answered)."""
    from regview.ui.dialogs.connect.dialog import AddRegistryDialog

    d = AddRegistryDialog(accounts)
    qtbot.addWidget(d)
    d.show()
    d.address.setText(url)
    run(loop, d.check())
    return d
