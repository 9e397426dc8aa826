"""One session per profile, however many tasks ask for it at once: the window's listing and a
delete plan opening the same profile together made two sessions, and the first one's client was
never closed (an aiohttp pool left behind, reported by the collector in an unrelated test)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from regview.core.model import Credentials, Endpoint
from regview.services.accounts import Accounts
from regview.services.io_loop import IoLoop, LoopBound
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


class _ThreadedClient:
    """Records on which thread it was made, used and closed."""

    def __init__(self) -> None:
        self.threads = {"made": threading.current_thread().name}

    async def list_tags(self, repository: str) -> list[str]:
        self.threads["used"] = threading.current_thread().name
        return [f"{repository}:latest"]

    async def aclose(self) -> None:
        self.threads["closed"] = threading.current_thread().name


async def test_the_sessions_client_lives_on_the_io_loop_and_closes_there(tmp_path: Path) -> None:
    """The UI awaits `session.client` on its own loop; the client is made, used and closed on the
    I/O loop, where the tag listings use the same object (`io_client`): one client per profile."""
    accounts = Accounts(
        SettingsStore(tmp_path / "settings.json"), FallbackStore(KeyringStore(_Memory()))
    )
    await accounts.save(Profile(name="reg", url="http://127.0.0.1:5000"))
    made: list[_ThreadedClient] = []

    def factory(_endpoint: Endpoint, _credentials: Credentials | None) -> Any:
        made.append(_ThreadedClient())
        return made[-1]

    io = IoLoop.shared()
    sessions = SessionManager(accounts, factory, io)
    session = await sessions.open("reg")
    assert session.io is io
    assert await session.client.list_tags("app") == ["app:latest"]
    assert session.io_client is made[0]
    await sessions.discard("reg")
    assert len(made) == 1
    assert made[0].threads == {"made": "regview-io", "used": "regview-io", "closed": "regview-io"}


async def test_a_real_client_is_closed_with_its_session(tmp_path: Path) -> None:
    """Against the embedded registry: the session's client reads over a real connection; after
    the session closes, its pool is closed (an open one fails the test as a ResourceWarning)."""
    from regview.server.runner import LocalRegistry

    accounts = Accounts(
        SettingsStore(tmp_path / "settings.json"), FallbackStore(KeyringStore(_Memory()))
    )
    with LocalRegistry(tmp_path / "reg", demo=True) as reg:
        await accounts.save(Profile(name="reg", url=reg.url))
        sessions = SessionManager(accounts, cache_factory(tmp_path / "cache"))
        session = await sessions.open("reg")
        tags = await session.client.list_tags("acme/infra/ci-runner")
        assert len(tags) > 20
        client = session.io_client
        assert client.requests >= 1 and not client._closed
        await sessions.close_all()
        assert client._closed
        with pytest.raises(asyncio.CancelledError):
            _ = session.client  # a closed session hands out nothing


def cache_factory(cache: Path) -> Any:
    from regview.core.client.client import RegistryClient

    return lambda endpoint, credentials: RegistryClient(endpoint, credentials, cache_dir=cache)


async def test_one_gitlab_api_client_per_session_on_the_io_loop_closed_with_it(
    tmp_path: Path,
) -> None:
    """The GitLab tree, its sizes and a delete flow asking the session get the same API client
    (made on the I/O loop); closing the session closes its connections."""
    accounts = Accounts(
        SettingsStore(tmp_path / "settings.json"), FallbackStore(KeyringStore(_Memory()))
    )
    await accounts.save(
        Profile(name="gl", url="http://127.0.0.1:5000", api_url="http://127.0.0.1:5000/api/v4")
    )
    sessions = SessionManager(accounts, lambda _e, _c: _Client())
    session = await sessions.open("gl")
    first, second = await session.gitlab_api(), await session.gitlab_api()
    assert isinstance(first, LoopBound) and isinstance(second, LoopBound)
    assert first.target is second.target
    assert first.api_url == "http://127.0.0.1:5000/api/v4"
    http = first.target.http
    assert not http.is_closed
    await sessions.close_all()
    assert http.is_closed
