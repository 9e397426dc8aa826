"""The window's toolbar, the dialogs it and the error banner open, and profile changes.

    WindowActions(window, accounts, backend, sessions, browser, links, hand_paths, tasks,
                  open_trash)
        toolbar: Add registry…, Tokens…, Refresh (F5), Copy link, Storage overview
        add_registry() ; manage_tokens(replace="") -> TokensDialog ; profile_added(name)
        trust_ca_file() ; await set_ca(name, path) ; banner_action(action)

A profile removed or changed (address, user, credential verified again) loses its session and
everything read through it; the pages bound to it are reset, never left showing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QToolBar

from regview.services.sessions import Accounts, ConnectBackend, SessionManager
from regview.ui.repository_paths import HandPaths
from regview.ui.tasks import Tasks
from regview.ui.theme import set_sheet
from regview.ui.window.browse import Browser
from regview.ui.window.links import ViewLinks

if TYPE_CHECKING:  # imported when a dialog opens: start-up shows the window without them
    from regview.ui.dialogs.tokens_dialog import TokensDialog


class WindowActions(QObject):
    def __init__(
        self,
        window: QMainWindow,
        accounts: Accounts,
        backend: ConnectBackend | None,
        sessions: SessionManager,
        browser: Browser,
        links: ViewLinks,
        hand_paths: HandPaths,
        tasks: Tasks,
        open_trash: Callable[[], object],
    ) -> None:
        super().__init__(window)
        self.window, self.accounts, self.backend, self.sessions = (
            window,
            accounts,
            backend,
            sessions,
        )
        self.browser, self.hand_paths, self.tasks, self._open_trash = (
            browser,
            hand_paths,
            tasks,
            open_trash,
        )
        browser.stack.banner.actionRequested.connect(self.banner_action)
        browser.sidebar.addRegistryRequested.connect(self.add_registry)

        self.toolbar = bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        set_sheet(bar, "QToolBar { spacing: 4px; padding: 3px 6px; }")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        window.addToolBar(bar)

        def add(text: str, slot: Any, tip: str, keys: Any = None) -> QAction:
            action = QAction(text, window)
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
            "Refresh", browser.refresh, "Read again (F5)", QKeySequence.StandardKey.Refresh
        )
        self.link_action = add(
            "Copy link",
            links.copy_link,
            "Copy a regview:// link to this view (registry, repository, filter, sort)",
        )
        self.overview_action = add(
            "Storage overview", browser.overview_of_view, "Size per repository and tag ages"
        )

    def add_registry(self) -> None:
        from regview.ui.dialogs.connect.dialog import AddRegistryDialog

        dialog = AddRegistryDialog(self.accounts, self.backend, self.window)
        dialog.registryAdded.connect(self.profile_added)
        dialog.open()

    def manage_tokens(self, replace: str = "") -> TokensDialog:
        from regview.ui.dialogs.tokens_dialog import TokensDialog

        dialog = TokensDialog(self.accounts, self.backend, self.window, replace=replace)
        dialog.accountsChanged.connect(
            lambda: self.tasks.start("profiles", self._reload_profiles())
        )
        dialog.open()
        return dialog

    def profile_added(self, name: str) -> None:
        self.tasks.start("profiles", self._reload_profiles(select=name))

    async def _reload_profiles(self, select: str = "") -> None:
        browser = self.browser
        before = dict(browser.registries.by_name)
        profiles = await self.accounts.profiles()
        browser.set_registries(profiles)
        after = {p.name: p for p in profiles}
        # a profile removed or changed (address, user, credential verified again): its session
        # and everything read through it go; views bound to it are reset, never left showing it
        changed = [n for n, p in before.items() if after.get(n) != p and n != select]
        shown = browser.stack.view_binding()
        for name in changed:
            await self.sessions.discard(name)
            browser.forget_profile(name)
        if select:
            await self.sessions.discard(select)
            browser.forget_profile(select)
            browser.open_profile(select)
            # the new registry's node, not the one selected before: a click on that one then
            # did nothing (it was already current) while the view showed the new registry
            browser.sidebar.select_registry(select)
        elif shown is not None and shown.profile in changed:
            if shown.profile in after:
                browser.open_profile(shown.profile)
                browser.sidebar.select_registry(shown.profile)
            elif profiles:
                # the sidebar's current node names the registry on show
                browser.open_profile(profiles[0].name)
                browser.sidebar.select_registry(profiles[0].name)
            else:
                browser.show_welcome()

    def trust_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Trust a CA certificate",
            "",
            "Certificates (*.pem *.crt *.cer);;All files (*)",
        )
        binding = self.browser.stack.view_binding()
        if path and binding is not None:
            self.tasks.start("profiles", self.set_ca(binding.profile, path))

    async def set_ca(self, name: str, path: str) -> None:
        registries = self.browser.registries
        profile = registries.get(name)
        if profile is not None:
            registries.put(await self.accounts.save(replace(profile, ca_file=path)))
            await self.sessions.discard(name)
            self.browser.refresh()

    def banner_action(self, action: str) -> None:
        binding = self.browser.stack.view_binding()
        if action == "trust-ca":
            self.trust_ca_file()
        elif action == "tokens":
            self.manage_tokens()
        elif action == "replace" and binding is not None:
            # an expired token: straight to entering a new one
            self.manage_tokens(replace=binding.profile)
        elif action == "add-path" and binding is not None:
            self.hand_paths.add(binding.profile)
        elif action == "retry":
            self.browser.refresh()
        elif action == "trash":
            self._open_trash()
