"""Local test registry mode: the embedded registry with demo data, connected through a profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts

from regview.core.client.client import RegistryClient
from regview.core.model import CredentialKind
from regview.paths import default_paths
from regview.services.sessions import SessionManager
from regview.ui.local_mode import LOCAL_PROFILE, LocalMode

pytestmark = [pytest.mark.integration]


async def test_start_connect_browse_stop_and_restart(tmp_path: Path) -> None:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    paths = default_paths(tmp_path / "base")
    mode = LocalMode(accounts, paths, auth="none")
    sessions = SessionManager(accounts, lambda e, c: RegistryClient(e, c))
    try:
        profile = await mode.start()
        assert profile.name == LOCAL_PROFILE and profile.url == mode.url
        assert profile.credential_kind == CredentialKind.ANONYMOUS
        assert paths.local_registry_dir.is_dir()

        session = await sessions.open(LOCAL_PROFILE)
        repos = [r async for page in session.client.iter_repositories() for r in page]
        assert len(repos) >= 3  # the demo data
        tags = await session.client.list_tags(repos[0])
        assert tags
        assert (await sessions.open(LOCAL_PROFILE)) is session  # one session per registry
    finally:
        await sessions.close_all()
        await mode.stop()
    assert not mode.running

    # Second start: same data, the profile follows the new port.
    again = LocalMode(accounts, paths, auth="none")
    try:
        profile2 = await again.start()
        assert profile2.url == again.url
        assert list((await accounts.load()).profiles) == [LOCAL_PROFILE]
        async with RegistryClient(profile2.endpoint) as client:
            repos2 = [r async for page in client.iter_repositories() for r in page]
        assert repos2 == repos
    finally:
        await again.stop()


async def test_a_second_regview_uses_the_local_registry_the_first_one_serves(
    tmp_path: Path,
) -> None:
    """regview opened twice on local mode: the data directory is locked by the first one's
    server, so the second used to crash ("regview hit a bug": DataDirBusy); it now connects to
    the registry the first one serves, at the address that one saved."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    paths = default_paths(tmp_path / "base")
    first = LocalMode(accounts, paths, auth="none")
    second = LocalMode(accounts, paths, auth="none")
    try:
        served = await first.start()
        used = await second.start()
        assert not second.running  # it serves nothing itself
        assert used.url == served.url == first.url
        async with RegistryClient(used.endpoint) as client:
            repos = [r async for page in client.iter_repositories() for r in page]
        assert len(repos) >= 3
    finally:
        await second.stop()
        await first.stop()
