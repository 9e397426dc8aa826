"""The main window with one profile on a Harbor site (its imitation), logged in as a robot
account, started: what the Harbor window tests share.

    window = harbor_window(qtbot, qloop, tmp_path, site)
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from connect_support import MemoryKeyring, make_accounts, run
from pytestqt.qtbot import QtBot
from vendor_sites import CLEANER, Site

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.ui.local_mode import LocalMode
from regview.ui.window.main_window import MainWindow


def harbor_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, site: Site, height: int = 800
) -> MainWindow:
    """Profile "demo" on `site`, the robot CLEANER's secret in a memory keyring."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    window = MainWindow(accounts, SessionManager(accounts), LocalMode(accounts))
    qtbot.addWidget(window)
    window.resize(1300, height)
    window.show()
    profile = Profile.for_endpoint(
        Endpoint(url=site.url, kind=RegistryKind.HARBOR),
        name="demo",
        username=CLEANER[0],
        credential_kind=CredentialKind.PASSWORD,
    )
    run(qloop, accounts.save(profile, CLEANER[1]))
    run(qloop, window.start())
    return window
