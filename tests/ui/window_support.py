"""Helpers for the main-window tests: a shown window over local mode (the embedded registry in
GitLab mode), a scenario run in it and the window closed and local mode stopped whatever
happened, the texts of a tree item's children, and an OCI image manifest put by hand."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from connect_support import MemoryKeyring, make_accounts
from delete_support import until
from pytestqt.qtbot import QtBot

from regview.paths import default_paths
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import TokenKind
from regview.server.gitlab.records import Token
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.ui.local_mode import LOCAL_PROFILE, LocalMode
from regview.ui.window.main_window import MainWindow

__all__ = [
    "child_texts",
    "close_window",
    "local_token",
    "local_window",
    "put_oci_manifest",
    "remove_in_tokens",
    "run_in_local_mode",
    "until",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def local_window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    """A shown main window whose local mode keeps its registry under `tmp_path / "base"`."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    local = LocalMode(accounts, default_paths(tmp_path / "base"))
    window = MainWindow(accounts, SessionManager(accounts), local)
    qtbot.addWidget(window)
    window.resize(1300, 800)
    window.show()
    return window


async def local_token(
    window: MainWindow, kind: TokenKind, **token: Any
) -> tuple[Profile, Token, str]:
    """Start local mode, make a token of `kind` in its GitLab (`token`: add_token's keywords) and
    drop the local profile: (the local profile as it was, the token, its secret), for a test
    that saves a profile of its own."""
    local_profile = await window.local_mode.start()
    store = GitLabStore(window.local_mode.paths.local_registry_dir)
    try:
        made, secret = store.add_token(kind, **token)
    finally:
        store.close()
    await window.accounts.remove(LOCAL_PROFILE)
    return local_profile, made, secret


def run_in_local_mode(
    qloop: asyncio.AbstractEventLoop,
    window: MainWindow,
    scenario: Callable[[], Awaitable[None]],
    limit: float = 120,
) -> None:
    """Run `scenario` on the qasync loop, then close `window` and stop its local mode (also when
    the scenario failed); all of it within `limit` seconds."""

    async def run_then_close() -> None:
        try:
            await scenario()
        finally:
            await window.aclose()
            await window.local_mode.stop()

    qloop.run_until_complete(asyncio.wait_for(run_then_close(), limit))


def close_window(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    """Close `window` (awaiting its tasks) and stop its local mode."""

    async def nothing() -> None:
        return None

    run_in_local_mode(qloop, window, nothing)


async def remove_in_tokens(window: MainWindow, name: str) -> None:
    """Tokens › select profile `name` › Remove, as the user does; the window has reloaded its
    profiles when this returns."""
    from regview.ui.dialogs.tokens_dialog import TokensDialog

    window.manage_tokens()
    (dialog,) = window.findChildren(TokensDialog)
    await dialog.refresh()
    dialog.select(name)
    await dialog.remove()
    await until(lambda: not window.tasks.running("profiles"))
    dialog.close()


def child_texts(item: object) -> list[str]:
    return [item.child(i).text(0) for i in range(item.childCount())]  # type: ignore[attr-defined]


def put_oci_manifest(
    http: httpx.Client, repo: str, tag: str, config: tuple[str, int], layer: tuple[str, int]
) -> None:
    """PUT an OCI image manifest of `config` and one `layer` (each: digest, size) as `repo:tag`;
    the blobs must be there already."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config[0],
            "size": config[1],
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer[0],
                "size": layer[1],
            }
        ],
    }
    http.put(
        f"/v2/{repo}/manifests/{tag}",
        content=json.dumps(manifest).encode(),
        headers={"Content-Type": OCI_MANIFEST},
    ).raise_for_status()
