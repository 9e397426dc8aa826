"""Helpers for the deletion UI tests: a main window on the embedded registry (demo_repository: the
demo registry with a repository's tags shown; confirm_with_del: Del on the selection, to the
confirmation dialog), HTTP checks that do not go through regview's client, and screenshots (tmp
dir, plus $REGVIEW_SCREENSHOT_DIR)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from connect_support import MemoryKeyring, local_registry, make_accounts, run
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from regview.core.deletion.plan import Capabilities, DeleteSupport, RepositoryFacts
from regview.core.model import ArtifactKind, Endpoint, TagInfo
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.spec import mediatypes as mt
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.policy_editor import PolicyEditor
from regview.ui.local_mode import LocalMode
from regview.ui.window.main_window import MainWindow

#: One palette per process (screenshots: run again with REGVIEW_TEST_SCHEME=dark).
SCHEMES = [os.environ.get("REGVIEW_TEST_SCHEME", "light")]


async def until(predicate: Callable[[], object], limit: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


def open_window(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    url: str | Mapping[str, str],
    *,
    profile: Profile | None = None,
    secret: str | None = None,
) -> MainWindow:
    """A shown, started main window with one registry called "demo" at `url`, or the
    registries `url` maps by name (the first one opened), or `profile` with its `secret`."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    window = MainWindow(accounts, SessionManager(accounts), LocalMode(accounts))
    qtbot.addWidget(window)
    window.resize(1300, 800)
    window.show()

    async def save() -> None:
        if profile is not None:
            await accounts.save(profile, secret)
            return
        for name, address in ({"demo": url} if isinstance(url, str) else url).items():
            await accounts.save(Profile.for_endpoint(Endpoint(url=address), name=name))

    run(qloop, save())

    async def start() -> None:
        # One run of the loop for both: a task step left queued when run_until_complete
        # returns may be run by qasync with no running loop (the fast transport then fails).
        await window.start()
        await until(lambda: not window.tasks.running("repos"))
        # the Size column's background read too: a test that then works outside the loop
        # would otherwise leave that task to step with no running loop
        await until(lambda: not window.tasks.running("sizes"), 60)

    run(qloop, start())
    return window


def open_repo(qloop: asyncio.AbstractEventLoop, window: MainWindow, path: str) -> None:
    async def go() -> None:
        window.open_repository("demo", path)
        await until(lambda: not window.tasks.running("tags"))

    run(qloop, go())


@contextlib.contextmanager
def demo_repository(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    qapp: Any,
    tmp_path: Path,
    scheme: str,
    repository: str,
) -> Iterator[tuple[str, MainWindow]]:
    """The demo registry over loopback and a main window showing `repository`'s tags, in
    `scheme`: (the registry's url, the window). The window is the test's to close."""
    with theme(qapp, scheme), local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        open_repo(qloop, window, repository)
        yield url, window


@contextlib.contextmanager
def demo_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, repository: str
) -> Iterator[MainWindow]:
    """The demo registry over loopback and a main window showing `repository`'s tags, closed
    (its tasks awaited) at the end."""
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        try:
            open_repo(qloop, window, repository)
            yield window
        finally:
            window.close()
            run(qloop, window.aclose())


def confirm_with_del(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow
) -> DeleteDialog:
    """Press Del on the tags table, focused as a user leaves it, and wait for the
    confirmation dialog with the plan of the tags selected."""
    view = window.tags_view
    shown: list[DeleteDialog] = []
    window.delete_flow.confirmShown.connect(shown.append)
    window.activateWindow()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus, timeout=5000)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    run(qloop, until(lambda: bool(shown)))
    return shown[0]


def open_policy_editor(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> PolicyEditor:
    """The cleanup policy editor of the repository shown, once its first preview is in."""
    editors: list[PolicyEditor] = []
    window.delete_flow.policyEditorShown.connect(editors.append)
    window.open_policy_editor()
    run(qloop, until(lambda: bool(editors)))
    editor = editors[0]
    run(qloop, until(lambda: editor.preview is not None))
    return editor


def head_digest(url: str, repository: str, reference: str) -> str | None:
    """The digest a reference resolves to, asked over plain HTTP (None: 404)."""
    r = httpx.head(
        f"{url}/v2/{repository}/manifests/{reference}",
        headers={"Accept": mt.ACCEPT_MANIFESTS},
    )
    if r.status_code == 404:
        return None
    r.raise_for_status()
    return r.headers["Docker-Content-Digest"]


def shot(
    qloop: asyncio.AbstractEventLoop, widget: Any, tmp_path: Path, name: str, scheme: str
) -> Path:
    # Let layouts and paints run inside the loop (processEvents outside it would step tasks
    # with no running loop).
    run(qloop, asyncio.sleep(0.25))
    suffix = "-dark" if scheme == "dark" else ""
    target = tmp_path / f"{name}{suffix}.png"
    assert widget.grab().save(str(target), "PNG")
    out = os.environ.get("REGVIEW_SCREENSHOT_DIR")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(out) / f"{name}{suffix}.png"), "PNG")
    return target


@contextlib.contextmanager
def theme(qapp: Any, scheme: str) -> Iterator[None]:
    from regview.ui.theme import apply_theme

    palette = qapp.palette()
    apply_theme(qapp, scheme)
    try:
        yield
    finally:
        # The palette goes back; the style stays regview's. Setting the application style
        # back and forth deletes the old one under widgets that may still paint with it: a
        # later test crashed (SIGSEGV in Qt's event processing) after these swaps.
        qapp.setPalette(palette)


def three_tag_facts() -> RepositoryFacts:
    """Facts of `team/app` with tags t0..t2 (distinct digests, 9 bytes each) on a registry that
    deletes by digest and by tag: enough to build a dialog without a registry behind it."""
    return RepositoryFacts(
        "reg.example",
        "team/app",
        tuple(
            TagInfo(
                "team/app", f"t{i}", f"sha256:{i:064x}", mt.OCI_MANIFEST, ArtifactKind.IMAGE, size=9
            )
            for i in range(3)
        ),
        Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True),
    )
