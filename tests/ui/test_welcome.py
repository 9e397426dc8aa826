"""The welcome view: one click starts the local test registry and connects to it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts, only_these_logins, run
from pytestqt.qtbot import QtBot

from regview.paths import default_paths
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.local_mode import LOCAL_PROFILE, LocalMode
from regview.ui.pages.welcome import WelcomeView

pytestmark = [pytest.mark.ui]


def new_view(qtbot: QtBot, tmp_path: Path) -> WelcomeView:
    """A welcome view over accounts with an empty keyring and its own local registry folder."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    view = WelcomeView(accounts, LocalMode(accounts, default_paths(tmp_path / "base")))
    qtbot.addWidget(view)
    return view


@pytest.mark.integration
def test_try_local_registry_in_one_click(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    view = new_view(qtbot, tmp_path)
    mode = view.local_mode
    connected: list[str] = []
    view.connected.connect(connected.append)
    try:
        view.local_button.click()
        task = view.tasks.task("local")
        assert task is not None
        assert not view.add_button.isEnabled()  # busy while the registry starts
        run(qloop, task, timeout=60)
        assert connected == [LOCAL_PROFILE]
        assert mode.running and mode.url in view.status.label.text()
        assert view.add_button.isEnabled()
    finally:
        run(qloop, mode.stop())


def test_add_registry_opens_the_dialog_and_forwards_its_result(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    view = new_view(qtbot, tmp_path)
    connected: list[str] = []
    view.connected.connect(connected.append)
    dialog = view.add_registry()
    assert isinstance(dialog, AddRegistryDialog)
    dialog.registryAdded.emit("x")
    assert connected == ["x"]
    dialog.reject()


def test_import_with_nothing_to_import_says_so(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only_these_logins(monkeypatch, tmp_path)
    view = new_view(qtbot, tmp_path)
    connected: list[str] = []
    view.connected.connect(connected.append)
    preview = view.import_logins()
    run(qloop, preview.tasks.task("load"))  # type: ignore[arg-type]
    assert "No Docker or podman logins were found" in preview.status.label.text()
    assert not preview.import_button.isEnabled()
    assert connected == []
    run(qloop, preview.tasks.aclose())


def test_imported_names_are_shown_as_text(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A docker config is somebody's file: what it names is text in the preview, never markup."""
    only_these_logins(monkeypatch, tmp_path, {"<b>evil</b>.example": "dev:secret"})
    view = new_view(qtbot, tmp_path)
    preview = view.import_logins()
    run(qloop, preview.tasks.task("load"))  # type: ignore[arg-type]
    row = preview.tree.topLevelItem(0)
    assert row is not None
    # plain item text (a QTreeWidgetItem never renders markup); not a host, so not tickable
    assert row.text(0) == "<b>evil<" and row.text(4) == "not a registry address"
    assert [t for _c, t in preview.rows()] == [False]
    run(qloop, preview.tasks.aclose())
