"""A session the manager retired cannot build a client nobody would close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from regview.core.model import Endpoint
from regview.services.sessions import RegistrySession
from regview.settings.profiles import Profile


class _Accounts:
    async def credentials(self, profile: Profile) -> None:
        return None


class _Client:
    closed = False

    async def aclose(self) -> None:
        self.closed = True


async def test_a_closed_session_cancels_stale_work_instead_of_reopening() -> None:
    made: list[_Client] = []

    def factory(endpoint: Endpoint, credentials: Any) -> _Client:
        made.append(_Client())
        return made[-1]

    profile = Profile.for_endpoint(Endpoint(url="http://127.0.0.1:5000"), name="local")
    session = RegistrySession(profile, _Accounts(), factory)  # type: ignore[arg-type]
    await session.open()
    await session.close()
    assert made[0].closed
    with pytest.raises(asyncio.CancelledError):
        await session.open()
    with pytest.raises(asyncio.CancelledError):
        _ = session.client
    assert len(made) == 1, "a retired session built another client"
