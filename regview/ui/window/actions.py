"""The main window's toolbar and the dialogs and fixes it and the error banner open.

WindowActions (a part of MainWindow, see window.base)
    add_registry() ; manage_tokens() ; add_repository_path(name) ; trust_ca_file()
    toolbar: Add registry…, Tokens…, Refresh (F5), Copy link, Storage overview
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QToolBar

from regview.ui.window.base import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, PAGE_WELCOME, WindowBase

if TYPE_CHECKING:
    from regview.ui.dialogs.tokens_dialog import TokensDialog


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
            self._overview_of_view,
            "Size per repository and tag ages",
        )

    def _overview_of_view(self) -> None:
        binding = self.view_binding()
        if binding is not None:
            self.show_overview(binding.profile)

    def add_registry(self) -> None:
        from regview.ui.dialogs.connect.dialog import AddRegistryDialog

        dialog = AddRegistryDialog(self.accounts, self.backend, self)
        dialog.registryAdded.connect(self._profile_added)
        dialog.open()

    def manage_tokens(self, replace: str = "") -> TokensDialog:
        from regview.ui.dialogs.tokens_dialog import TokensDialog

        dialog = TokensDialog(self.accounts, self.backend, self, replace=replace)
        dialog.accountsChanged.connect(
            lambda: self.tasks.start("profiles", self._reload_profiles())
        )
        dialog.open()
        return dialog

    def _profile_added(self, name: str) -> None:
        self.tasks.start("profiles", self._reload_profiles(select=name))

    async def _reload_profiles(self, select: str = "") -> None:
        before = dict(getattr(self, "_profiles", {}))
        profiles = await self.accounts.profiles()
        self._set_registries(profiles)
        after = {p.name: p for p in profiles}
        # a profile removed or changed (address, user, credential verified again): its session
        # and everything read through it go; views bound to it are reset, never left showing it
        changed = [n for n, p in before.items() if after.get(n) != p and n != select]
        shown = self.view_binding()
        for name in changed:
            await self.sessions.discard(name)
            self._forget_profile(name)
        if select:
            await self.sessions.discard(select)
            self._forget_profile(select)
            self.open_profile(select)
            # the new registry's node, not the one selected before: a click on that one then
            # did nothing (it was already current) while the view showed the new registry
            self.sidebar.select_registry(select)
        elif shown is not None and shown.profile in changed:
            if shown.profile in after:
                self.open_profile(shown.profile)
            elif profiles:
                self.open_profile(profiles[0].name)
            else:
                self.profile = self.repository = ""
                self._page(PAGE_WELCOME, "Welcome to regview")

    def _forget_profile(self, name: str) -> None:
        """Drop what the window holds of registry `name` and reset the pages bound to it."""
        self.controller.forget_profile(name)
        self._all_repos.pop(name, None)
        self._measured.pop(name, None)
        self._readers.pop(name, None)
        self._gitlab_projects.pop(name, None)
        pages = self.bindings.unbind(name)
        if pages:
            for slot in ("repos", "tags", "details", "measure", "project", "sizes"):
                self.tasks.cancel(slot)
            self.banner.hide()
        if PAGE_REPOS in pages:
            self.repos_model.set_repositories([])
            self._set_counts("")
        if PAGE_TAGS in pages:
            self.tags_view.set_tags("", [])
            self.details.clear()
        if PAGE_OVERVIEW in pages:
            self.overview.set_repositories([])
            self.overview.set_tags([], "")
        if self.profile == name:
            self.profile = self.repository = ""

    def add_repository_path(self, name: str) -> None:
        """Ask for a path (checked with GitLab's image-name rules before it is saved)."""
        self.hand_paths.add(name)

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
        binding = self.view_binding()
        if path and binding is not None:
            self.tasks.start("profiles", self._set_ca(binding.profile, path))

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
        elif action == "replace" and (binding := self.view_binding()) is not None:
            # an expired token: straight to entering a new one
            self.manage_tokens(replace=binding.profile)
        elif action == "add-path" and (binding := self.view_binding()) is not None:
            self.add_repository_path(binding.profile)
        elif action == "retry":
            self.refresh()
        elif action == "trash":
            self.open_trash()
