"""The main window's toolbar and the dialogs and fixes it and the error banner open.

WindowActions (a part of MainWindow, see window_base)
    add_registry() ; manage_tokens() ; add_repository_path(name) ; trust_ca_file()
    toolbar: Add registry…, Tokens…, Refresh (F5), Copy link, Storage overview
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QToolBar

from regview.ui.window_base import WindowBase

if TYPE_CHECKING:
    from regview.ui.tokens_dialog import TokensDialog


class WindowActions(WindowBase):
    def _make_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setStyleSheet("QToolBar { spacing: 4px; padding: 3px 6px; }")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)

        def add(text: str, slot: Any, tip: str, keys: Any = None) -> QAction:
            action = QAction(text, self)
            action.setToolTip(tip)
            if keys is not None:
                action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            bar.addAction(action)
            return action

        self.add_action = add("Add registry…", self.add_registry, "Connect to another registry")
        self.tokens_action = add(
            "Tokens…", self.manage_tokens, "Stored credentials: add, test, replace, remove"
        )
        bar.addSeparator()
        self.refresh_action = add(
            "Refresh", self.refresh, "Read again (F5)", QKeySequence.StandardKey.Refresh
        )
        self.link_action = add(
            "Copy link",
            self.copy_link,
            "Copy a regview:// link to this view (registry, repository, filter, sort)",
        )
        self.overview_action = add(
            "Storage overview",
            lambda: self.show_overview(self.profile),
            "Size per repository and tag ages",
        )

    def add_registry(self) -> None:
        from regview.ui.connect_dialog import AddRegistryDialog

        dialog = AddRegistryDialog(self.accounts, self.backend, self)
        dialog.registryAdded.connect(self._profile_added)
        dialog.open()

    def manage_tokens(self) -> TokensDialog:
        from regview.ui.tokens_dialog import TokensDialog

        dialog = TokensDialog(self.accounts, self.backend, self)
        dialog.accountsChanged.connect(
            lambda: self.tasks.start("profiles", self._reload_profiles())
        )
        dialog.open()
        return dialog

    def _profile_added(self, name: str) -> None:
        self.tasks.start("profiles", self._reload_profiles(select=name))

    async def _reload_profiles(self, select: str = "") -> None:
        profiles = await self.accounts.profiles()
        self._set_registries(profiles)
        if select:
            await self.sessions.discard(select)
            self.open_profile(select)

    def add_repository_path(self, name: str) -> None:
        path, ok = QInputDialog.getText(
            self,
            "Add repository path",
            "Repository path (e.g. group/project/image). Use this where the registry does not "
            "list its repositories, e.g. with a deploy token:",
        )
        path = path.strip().strip("/")
        if ok and path:
            self.tasks.start("profiles", self._add_path(name, path))

    async def _add_path(self, name: str, path: str) -> None:
        profile = getattr(self, "_profiles", {}).get(name)
        if profile is None:
            return
        reader = self._readers.get(name)
        if path not in profile.repositories:
            profile = await self.accounts.save(
                replace(profile, repositories=(*profile.repositories, path))
            )
            self._profiles[name] = profile
            if reader is None:  # the catalog's session lists hand-added paths: a fresh one
                await self.sessions.discard(name)
        if reader is not None:  # the API tree: add the leaf, no reload of every project
            reader.add_manual(path)
            self.sidebar.add_manual_path(name, path)
            self._all_repos[name] = reader.repositories()
        else:
            self.open_profile(name)
        self.open_repository(name, path)

    def trust_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trust a CA certificate", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path and self.profile:
            self.tasks.start("profiles", self._set_ca(self.profile, path))

    async def _set_ca(self, name: str, path: str) -> None:
        profile = self._profiles.get(name)
        if profile is not None:
            self._profiles[name] = await self.accounts.save(replace(profile, ca_file=path))
            await self.sessions.discard(name)
            self.refresh()

    def _banner_action(self, action: str) -> None:
        if action == "trust-ca":
            self.trust_ca_file()
        elif action == "tokens":
            self.manage_tokens()
        elif action == "add-path":
            self.add_repository_path(self.profile)
        elif action == "retry":
            self.refresh()
        elif action == "trash":
            self.open_trash()
