"""The menu bar over the window's own actions, the shortcut map, the shortcuts dialog, About,
the theme menu and the tinted fallback icons."""

from __future__ import annotations

import asyncio
import platform
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts
from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QSize, qVersion
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QToolBar
from pytestqt.qtbot import QtBot
from window_support import close_window, local_window, run_in_local_mode, until

from regview.paths import default_paths
from regview.services.sessions import SessionManager
from regview.ui.action_icons import bundled_icon
from regview.ui.dialogs.shortcuts_dialog import ShortcutsDialog
from regview.ui.local_mode import LocalMode
from regview.ui.theme import apply_theme
from regview.ui.window.main_window import PAGE_TAGS, MainWindow
from regview.ui.window.menus import shortcut_text

ROLE = QAction.MenuRole


def _started(qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop) -> MainWindow:
    window = local_window(qtbot, tmp_path)
    qloop.run_until_complete(window.start())  # no registry yet: the welcome page, deletion wired
    return window


def _keys(action: QAction) -> list[str]:
    return [k.toString() for k in action.shortcuts() if not k.isEmpty()]


def test_menu_bar_reuses_the_toolbar_actions_and_claims_each_key_once(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = _started(qtbot, tmp_path, qloop)
    try:
        menus = window.menus
        titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
        assert titles == ["File", "Edit", "View", "Tools", "Help"]
        listed = menus.actions()
        by_menu: dict[str, list[str]] = {}
        for where, action in listed:
            by_menu.setdefault(where, []).append(action.text().replace("&", ""))
        assert by_menu["File"] == ["Add registry…", "Tokens…", "Import logins…", "Quit"]
        assert by_menu["Edit"][0] == "Copy reference" and "Select all shown" in by_menu["Edit"]
        assert "Filter" in by_menu["Edit"]
        assert by_menu["View"][:3] == ["Refresh", "Storage overview", "Recycle bin…"]
        assert by_menu["View › Theme"] == ["Light", "Dark", "Follow the system"]
        assert by_menu["Tools"] == [
            "Cleanup policy…",
            "Start local test registry",
            "Stop local test registry",
        ]
        assert by_menu["Help"] == ["Keyboard shortcuts", "Open log folder", "About regview"]

        # the toolbar's actions are the menus' actions (the same objects, not copies)
        in_menus = {id(a) for _w, a in listed}
        bar = window.findChild(QToolBar, "mainToolbar")
        assert bar is not None
        toolbar_actions = [a for a in bar.actions() if not a.isSeparator()]
        assert toolbar_actions and all(id(a) in in_menus for a in toolbar_actions)
        assert {id(window.tags_view.copy_reference), id(window.tags_view.focus_filter)} <= in_menus

        assert _keys(menus.quit_action) == ["Ctrl+Q"]
        assert _keys(window.tags_view.focus_filter) == ["Ctrl+F"]
        assert _keys(window.refresh_action) == ["F5"]
        assert _keys(window.tags_view.select_all_tags) == ["Ctrl+A"]
        help_key = QKeySequence(QKeySequence.StandardKey.HelpContents).toString()
        # F1 (Linux, Windows), Ctrl+? (macOS); and Ctrl+? everywhere, as GNOME and KDE apps do
        assert _keys(menus.shortcuts_action) == list(dict.fromkeys([help_key, "Ctrl+?"]))

        # no key twice in the menu bar
        keys = [k for _w, a in listed for k in _keys(a)]
        assert len(keys) == len(set(keys)), keys
        # the keys the menus brought are claimed by one action in the whole window
        every = [a for a in window.findChildren(QAction) if not a.isSeparator()]
        for added in (menus.quit_action, menus.shortcuts_action, window.tags_view.select_all_tags):
            for key in _keys(added):
                owners = {id(a) for a in every if key in _keys(a)}
                assert owners == {id(added)}, f"{key} claimed by {len(owners)} actions"

        # macOS application-menu roles; nothing else left to Qt's text heuristics
        assert menus.about_action.menuRole() == ROLE.AboutRole
        assert menus.quit_action.menuRole() == ROLE.QuitRole
        assert window.tokens_action.menuRole() == ROLE.PreferencesRole
        special = {id(menus.about_action), id(menus.quit_action), id(window.tokens_action)}
        for _where, action in listed:
            if id(action) not in special:
                assert action.menuRole() == ROLE.NoRole, action.text()

        # every command's tooltip says its key; every toolbar action has an icon
        for _where, action in [*listed, *((w, a) for w, a in [("", x) for x in every])]:
            text = shortcut_text(action)
            if text and action.text():
                assert action.toolTip().endswith(f"({text})"), action.toolTip()
        assert "(F5)" in window.refresh_action.toolTip()
        assert window.refresh_action.toolTip().count("F5") == 1
        window.refresh_action.setShortcut(QKeySequence("Ctrl+R"))  # a later change shows too
        assert window.refresh_action.toolTip() == "Read again (Ctrl+R)"
        window.refresh_action.setToolTip("Read the registry again")
        assert window.refresh_action.toolTip() == "Read the registry again (Ctrl+R)"
        window.refresh_action.setShortcut(QKeySequence("F5"))
        for action in toolbar_actions:
            assert not action.icon().isNull(), action.text()
            assert not action.icon().pixmap(16, 16).isNull()
        assert menus.local_start_action.isEnabled() and not menus.local_stop_action.isEnabled()
        # the welcome page shows: the tags view's Edit commands have nothing to act on
        assert not window.tags_view.copy_reference.isEnabled()
        assert not window.tags_view.focus_filter.isEnabled()
        window.pages.setCurrentIndex(PAGE_TAGS)
        assert window.tags_view.copy_reference.isEnabled()
        assert window.tags_view.select_all_tags.isEnabled()
        # the repositories table says its sort in words too
        description = window.repos_table.horizontalHeader().accessibleDescription()
        assert description == "Sorted by Repository, A → Z"
    finally:
        close_window(qloop, window)


def test_shortcuts_dialog_lists_every_command_with_its_key(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = _started(qtbot, tmp_path, qloop)
    try:
        dialog = window.menus.show_shortcuts()
        assert isinstance(dialog, ShortcutsDialog)
        qtbot.addWidget(dialog)
        rows = dialog.rows()
        shown = {(cmd, keys) for _where, cmd, keys in rows}
        for _where, action in window.menus.actions():
            assert (action.text().replace("&", ""), shortcut_text(action)) in shown
        assert ("Quit", shortcut_text(window.menus.quit_action)) in shown
        assert ("Refresh", shortcut_text(window.refresh_action)) in shown
        # actions outside the menus are listed too: the tags table's Delete key
        assert ("Tags table", "Delete…", "Del") in rows
        # generated, not hand-kept: a new action with a key appears
        extra = QAction("Frobnicate", window)
        extra.setShortcut(QKeySequence("Ctrl+Shift+F12"))
        window.addAction(extra)
        again = ShortcutsDialog(window.menus, window)
        qtbot.addWidget(again)
        assert ("Window", "Frobnicate", "Ctrl+Shift+F12") in again.rows()
        dialog.close()
    finally:
        close_window(qloop, window)


def test_about_names_the_versions_and_theme_menu_switches_the_palette_and_icons(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    window = _started(qtbot, tmp_path, qloop)
    try:
        box = window.menus.show_about()
        qtbot.addWidget(box)
        text = box.informativeText()
        for needle in (qVersion(), PYSIDE_VERSION, platform.python_version(), "regview 0."):
            assert needle in text or needle in box.text()
        box.close()

        icon = bundled_icon("view-refresh")
        light = _ink(icon)
        window.menus.theme_actions["dark"].trigger()
        assert app.property("regviewScheme") == "dark"
        assert window.menus.theme_actions["dark"].isChecked()
        dark = _ink(icon)
        text_colour = QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
        assert dark.lightness() > 150 and light.lightness() < 100  # light ink on dark and back
        assert abs(dark.lightness() - text_colour.lightness()) < 30
        window.menus.theme_actions["system"].trigger()
        assert app.property("regviewChoice") == "system"
    finally:
        apply_theme(app, "light")
        close_window(qloop, window)


def _ink(icon: QIcon) -> QColor:
    """The colour of the most opaque pixel of the icon at 32 px."""
    image = icon.pixmap(QSize(32, 32)).toImage()
    best = QColor(0, 0, 0, 0)
    for y in range(image.height()):
        for x in range(image.width()):
            c = image.pixelColor(x, y)
            if c.alpha() > best.alpha():
                best = c
    assert best.alpha() > 200
    return best


def test_tools_menu_starts_and_stops_the_local_test_registry(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = _started(qtbot, tmp_path, qloop)
    menus = window.menus

    async def scenario() -> None:
        menus.tools_menu.aboutToShow.emit()
        assert menus.local_start_action.isEnabled() and not menus.local_stop_action.isEnabled()
        menus.local_start_action.trigger()
        assert not menus.local_start_action.isEnabled()  # at once: no second registry
        await until(lambda: window.profile == "Local test registry", 120)
        assert window.local_mode.running and menus.local_stop_action.isEnabled()
        url = window.local_mode.url
        assert url in window.statusBar().currentMessage()
        await until(lambda: not window.tasks.running("local"))
        menus.local_stop_action.trigger()
        await until(lambda: not window.tasks.running("local"), 60)
        assert not window.local_mode.running
        assert menus.local_start_action.isEnabled() and not menus.local_stop_action.isEnabled()
        assert window.statusBar().currentMessage() == "The local test registry stopped"

    run_in_local_mode(qloop, window, scenario)


def test_the_chosen_theme_is_saved_and_comes_back(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGVIEW_THEME", raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    first = _started(qtbot, tmp_path / "one", qloop)
    try:
        assert first.ui_state()["theme"] == "light"
        first.menus.theme_actions["dark"].trigger()
        saved = first.ui_state()
        assert saved["theme"] == "dark"
    finally:
        close_window(qloop, first)
    apply_theme(app, "light")
    accounts = make_accounts(tmp_path / "two", MemoryKeyring())
    local = LocalMode(accounts, default_paths(tmp_path / "two" / "base"))
    second = MainWindow(accounts, SessionManager(accounts), local, ui_state={"theme": "dark"})
    qtbot.addWidget(second)
    try:
        assert app.property("regviewScheme") == "dark"
        assert second.menus.theme_actions["dark"].isChecked()
        assert second.menus.theme_choice() == "dark"
    finally:
        apply_theme(app, "light")
        close_window(qloop, second)


def test_open_log_folder_creates_it_and_says_where_when_no_file_manager_opens(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = _started(qtbot, tmp_path, qloop)
    try:
        folder = window.menus.log_folder()
        assert folder == tmp_path / "base" / "log" and not folder.exists()
        box = window.menus.open_log_folder()
        assert folder.is_dir()
        if box is not None:  # the offscreen platform opens no file manager
            qtbot.addWidget(box)
            assert str(folder) in box.text() and box.isVisible()
            box.close()
    finally:
        close_window(qloop, window)
