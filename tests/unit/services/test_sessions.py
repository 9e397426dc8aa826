"""One session per profile, however many tasks ask for it at once: the window's listing and a
delete plan opening the same profile together made two sessions, and the first one's client was
never closed (an aiohttp pool left behind, reported by the collector in an unrelated test)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend

from regview.core.model import Credentials, Endpoint
from regview.services.accounts import Accounts
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile, SettingsStore
from regview.settings.secrets import FallbackStore, KeyringStore


class _Memory(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


class _Client:
    def __init__(self) -> None:
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_concurrent_opens_share_one_session_and_close_all_closes_every_client(
    tmp_path: Path,
) -> None:
    backend = _Memory()
    accounts = Accounts(
        SettingsStore(tmp_path / "settings.json"), FallbackStore(KeyringStore(backend))
    )
    await accounts.save(Profile(name="reg", url="http://127.0.0.1:5000"))
    made: list[_Client] = []

    def factory(_endpoint: Endpoint, _credentials: Credentials | None) -> Any:
        made.append(_Client())
        return made[-1]

    sessions = SessionManager(accounts, factory)
    first, second, third = await asyncio.gather(*(sessions.open("reg") for _ in range(3)))
    assert first is second is third
    assert len(made) == 1
    await sessions.close_all()
    assert all(c.closed for c in made)
