"""The main window's menu bar, built from the window's own actions.

    WindowMenus(window, theme="")    adds File, Edit, View, Tools, Help to `window.menuBar()`;
                                     theme: the View › Theme choice saved last time ("light",
                                     "dark"; anything else follows the system), applied unless
                                     REGVIEW_THEME forces one (screenshots)
        theme_choice() -> str        "light", "dark" or "system", for settings.json `ui.theme`
        deletion_ready(policy, trash)   puts Cleanup policy… and Recycle bin (created once the
                                     deletion stack is wired) into Tools and View
        actions() -> list[(menu, QAction)]   every command of the menu bar, in menu order
        quit_action, import_action, shortcuts_action, log_action, about_action,
        local_start_action, local_stop_action, theme_actions {"light", "dark", "system"}

The toolbar's and the tags view's QAction objects are put into the menus as they are, never
copied: one action per command, so a shortcut is claimed once (two actions with one key in one
window make Qt's shortcut ambiguous and neither fires) and enabling or disabling shows
everywhere. Every action's tooltip ends with its shortcut (see `tooltip_with_shortcut`).
On macOS About, Preferences (Tokens…) and Quit take their application-menu roles; every other
action gets NoRole so Qt's text heuristics move nothing else there.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QObject, Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QToolBar

from regview.log import get_logger
from regview.ui.action_icons import action_icon

log = get_logger("ui.menus")

_ROLE = QAction.MenuRole
#: the icon (freedesktop name) of each window attribute holding an action
WINDOW_ICONS = {
    "add_action": "list-add",
    "tokens_action": "dialog-password",
    "refresh_action": "view-refresh",
    "link_action": "insert-link",
    "overview_action": "drive-harddisk",
}
TAGS_ICONS = {
    "copy_reference": "edit-copy",
    "copy_link": "insert-link",
    "select_all_tags": "edit-select-all",
    "focus_filter": "edit-find",
    "refresh": "view-refresh",
    "delete": "edit-delete",
}


def shortcut_text(action: QAction) -> str:
    """The action's shortcuts as the platform writes them ("Ctrl+Q", "⌘Q"), or ""."""
    keys = [k for k in action.shortcuts() if not k.isEmpty()]
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)


def tooltip_with_shortcut(action: QAction) -> None:
    """End the action's tooltip with its shortcut ("Read again (F5)"), once, and keep it so when
    the shortcut or the tooltip changes later."""
    tip = action.toolTip()
    if tip != action.property("regviewTip"):  # new, or changed by its owner: the base text
        base = tip or action.text().replace("&", "")
        keys = shortcut_text(action)
        if keys and base.endswith(f" ({keys})"):
            base = base[: -len(keys) - 3]
        action.setProperty("regviewBaseTip", base)
    base = action.property("regviewBaseTip")
    keys = shortcut_text(action)
    wanted = f"{base} ({keys})" if keys else base
    action.setProperty("regviewTip", wanted)
    if tip != wanted:
        action.setToolTip(wanted)  # emits changed: the check above then finds nothing to do
    if not action.property("regviewTipWatched"):
        action.setProperty("regviewTipWatched", True)
        action.changed.connect(lambda: tooltip_with_shortcut(action))


class WindowMenus(QObject):
    def __init__(self, window: Any, theme: str = "") -> None:
        super().__init__(window)
        if theme in ("light", "dark") and not os.environ.get("REGVIEW_THEME"):
            self.set_theme(theme, check=False)
        self.window = window
        bar = window.menuBar()
        tags = window.tags_view

        def new(text: str, slot: Any, icon: str = "", keys: Any = None, tip: str = "") -> QAction:
            action = QAction(text, window)
            if icon:
                action.setIcon(action_icon(icon))
            if keys is not None:
                action.setShortcut(QKeySequence(keys))
            if tip:
                action.setToolTip(tip)
            action.triggered.connect(slot)
            return action

        self.import_action = new(
            "Import logins…",
            self.import_logins,
            "document-import",
            tip="Add the registries you are logged in to with docker, podman or skopeo",
        )
        self.quit_action = new(
            "&Quit", window.close, "application-exit", QKeySequence.StandardKey.Quit
        )
        # Qt has no Quit key on Windows and some desktops; Ctrl+Q is what people press there
        if self.quit_action.shortcut().isEmpty():
            self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(_ROLE.QuitRole)
        window.tokens_action.setMenuRole(_ROLE.PreferencesRole)
        self.shortcuts_action = new(
            "&Keyboard shortcuts",
            self.show_shortcuts,
            "preferences-desktop-keyboard",
            QKeySequence.StandardKey.HelpContents,
            "Every command and its key",
        )
        # and Ctrl+? (Ctrl+Shift+/), where GNOME and KDE apps open their keyboard shortcuts
        # window (GTK's ShortcutsWindow accelerator), so it works as on the rest of the desktop
        keys = [k for k in self.shortcuts_action.shortcuts() if not k.isEmpty()]
        if QKeySequence("Ctrl+?") not in keys:
            self.shortcuts_action.setShortcuts([*keys, QKeySequence("Ctrl+?")])
        self.log_action = new(
            "Open &log folder",
            self.open_log_folder,
            "folder-open",
            tip="Show regview's log files in the file manager",
        )
        self.about_action = new("&About regview", self.show_about, "help-about")
        self.about_action.setMenuRole(_ROLE.AboutRole)
        self.local_start_action = new(
            "&Start local test registry",
            self.start_local,
            "media-playback-start",
            tip="Run the embedded registry with demo images on this computer",
        )
        self.local_stop_action = new(
            "S&top local test registry", self.stop_local, "media-playback-stop"
        )
        # Ctrl+A selects the tags (in the table only: a focused filter box keeps its own Ctrl+A)
        if tags.select_all_tags.shortcut().isEmpty():
            tags.select_all_tags.setShortcut(QKeySequence.StandardKey.SelectAll)

        self.file_menu = bar.addMenu("&File")
        for a in (window.add_action, window.tokens_action, self.import_action):
            self.file_menu.addAction(a)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

        self.edit_menu = bar.addMenu("&Edit")
        for a in (tags.copy_reference, window.link_action, tags.select_all_tags):
            self.edit_menu.addAction(a)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(tags.focus_filter)
        # the tags view's commands act on the tags page only (not on a hidden table)
        window.pages.currentChanged.connect(self._sync_edit)
        self._sync_edit()

        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(window.refresh_action)
        self.view_menu.addSeparator()
        self.view_menu.addAction(window.overview_action)
        self._view_anchor = self.view_menu.addSeparator()
        self.theme_menu = self.view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        app = QApplication.instance()
        current = (app.property("regviewChoice") if app is not None else None) or "system"
        for scheme, text in (
            ("light", "&Light"),
            ("dark", "&Dark"),
            ("system", "Follow the &system"),
        ):
            action = QAction(text, group)
            action.setCheckable(True)
            action.setChecked(scheme == current)
            action.triggered.connect(lambda _on=False, s=scheme: self.set_theme(s))
            self.theme_menu.addAction(action)
            self.theme_actions[scheme] = action

        self.tools_menu = bar.addMenu("&Tools")
        self._tools_anchor = self.tools_menu.addSeparator()
        self.tools_menu.addAction(self.local_start_action)
        self.tools_menu.addAction(self.local_stop_action)
        self.tools_menu.aboutToShow.connect(self._sync_local)
        self._sync_local()

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(self.shortcuts_action)
        self.help_menu.addAction(self.log_action)
        self.help_menu.addSeparator()
        self.help_menu.addAction(self.about_action)
        self._decorate()

    # --- building ------------------------------------------------------------------------
    def deletion_ready(self, policy: QAction, trash: QAction) -> None:
        for action, icon in ((policy, "edit-clear"), (trash, "user-trash")):
            if action.icon().isNull():
                action.setIcon(action_icon(icon))
        if trash not in self.view_menu.actions():
            self.view_menu.insertAction(self._view_anchor, trash)
        if policy not in self.tools_menu.actions():
            self.tools_menu.insertAction(self._tools_anchor, policy)
        self._decorate()

    def _decorate(self) -> None:
        """Icons, roles and shortcut tooltips of every action the window has so far."""
        w = self.window
        for attr, icon in WINDOW_ICONS.items():
            if hasattr(w, attr) and getattr(w, attr).icon().isNull():
                getattr(w, attr).setIcon(action_icon(icon))
        for attr, icon in TAGS_ICONS.items():
            action = getattr(w.tags_view, attr, None)
            if isinstance(action, QAction) and action.icon().isNull():
                action.setIcon(action_icon(icon))
        toolbar = w.findChild(QToolBar, "mainToolbar")
        if toolbar is not None:
            toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for _menu, action in self.actions():
            if action.menuRole() in (_ROLE.TextHeuristicRole,):
                action.setMenuRole(_ROLE.NoRole)
            tooltip_with_shortcut(action)
        # every other action with a key (the tags table's, the filter boxes' Escape, …)
        for action in w.findChildren(QAction):
            if not action.isSeparator():
                tooltip_with_shortcut(action)

    def actions(self) -> list[tuple[str, QAction]]:
        """(menu path, action) for every command in the menu bar, in menu order."""
        found: list[tuple[str, QAction]] = []

        def walk(menu: QMenu, path: str) -> None:
            for action in menu.actions():
                sub = action.menu()
                if isinstance(sub, QMenu):
                    walk(sub, f"{path} › {sub.title().replace('&', '')}")
                elif not action.isSeparator():
                    found.append((path, action))

        for top in self.window.menuBar().actions():
            sub = top.menu()
            if isinstance(sub, QMenu):
                walk(sub, sub.title().replace("&", ""))
        return found

    # --- commands ------------------------------------------------------------------------
    def import_logins(self) -> None:
        dialog = self.window.manage_tokens()
        dialog.import_logins()

    def set_theme(self, scheme: str, check: bool = True) -> None:
        from regview.ui.theme import apply_theme

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, None if scheme == "system" else scheme)
        if check:
            self.theme_actions[scheme].setChecked(True)

    def theme_choice(self) -> str:
        return next((s for s, a in self.theme_actions.items() if a.isChecked()), "system")

    def _sync_edit(self, *_args: Any) -> None:
        from regview.ui.window.binding import PAGE_TAGS

        tags = self.window.tags_view
        on_tags = self.window.pages.currentIndex() == PAGE_TAGS
        for action in (tags.copy_reference, tags.select_all_tags, tags.focus_filter):
            action.setEnabled(on_tags)

    def _sync_local(self) -> None:
        running = bool(getattr(self.window.local_mode, "running", False))
        self.local_start_action.setEnabled(not running)
        self.local_stop_action.setEnabled(running)

    def start_local(self) -> None:
        self.local_start_action.setEnabled(False)
        self.window.tasks.start("local", self._start_local())

    async def _start_local(self) -> None:
        try:
            profile = await self.window.local_mode.start()
        finally:
            self._sync_local()
        self.window.statusBar().showMessage(f"{profile.name} is running at {profile.url}", 10000)
        self.window.commands.profile_added(profile.name)

    def stop_local(self) -> None:
        self.local_stop_action.setEnabled(False)
        self.window.tasks.start("local", self._stop_local())

    async def _stop_local(self) -> None:
        try:
            await self.window.local_mode.stop()
        finally:
            self._sync_local()
        self.window.statusBar().showMessage("The local test registry stopped", 10000)

    def log_folder(self) -> Path:
        return Path(self.window.local_mode.paths.log)

    def open_log_folder(self) -> QMessageBox | None:
        """Show the folder in the file manager; where none opens it, say where it is (a box
        opened, not exec'd: no nested event loop under the asyncio loop)."""
        folder = self.log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            opened = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        except OSError as exc:
            log.warning("log folder %s: %s", folder, exc)
            opened = False
        if opened:
            return None
        box = QMessageBox(self.window)
        box.setWindowTitle("Log folder")
        box.setText(f"No file manager opened it. regview's log files are in\n{folder}")
        box.open()
        return box

    def show_shortcuts(self) -> Any:
        from regview.ui.dialogs.shortcuts_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(self, self.window)
        dialog.open()
        return dialog

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self.window)
        box.setWindowTitle("About regview")
        box.setIconPixmap(self.window.windowIcon().pixmap(64, 64))
        box.setText(f"<b>regview {about_versions()['regview']}</b>")
        box.setInformativeText(
            "Browse container registries, see what takes space, and clean up safely.<br><br>"
            + "<br>".join(f"{k} {v}" for k, v in about_versions().items())
        )
        box.open()
        return box


def about_versions() -> dict[str, str]:
    from regview import __version__

    return {
        "regview": str(__version__),
        "Qt": qVersion(),
        "PySide6": PYSIDE_VERSION,
        "Python": f"{platform.python_version()} ({sys.platform})",
    }
