"""The **Add registry** dialog: address → probe → credential → Test → Save.

    AddRegistryDialog(accounts, backend=None, parent=None, *, address="", profile=None)
        signals   registryAdded(str)     profile name, after the profile and secret are stored
        methods   check() -> Task        probe the address now (also runs 0.6 s after typing)
                  test() -> Task         show in words what the credential can do
                  save() -> Task         store profile + secret, emit registryAdded, accept()
        `profile=` opens it for an existing registry: the address is fixed and Save replaces
        that registry's credential (the token dialog's *Replace*).

The fields and what they describe live in `dialogs.connect.form.RegistryForm`, the status cards in
`dialogs.connect.cards`. Probing and testing run as owned tasks (`TaskOwner`): closing the dialog cancels
them, and the UI thread never waits on the network, the keyring or the disk.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Coroutine
from dataclasses import replace
from functools import partial
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QWidget

from regview.core.errors import CertificateNotTrusted, RegistryError
from regview.core.model import CredentialKind, Credentials, RegistryKind
from regview.services.accounts import Accounts
from regview.services.connect import ConnectBackend, CoreBackend, derive_gitlab_api
from regview.services.connect_words import failure_in_words
from regview.settings.profiles import Profile, address_problem, registry_host
from regview.ui.dialogs.connect.cards import (
    _Card,
    _secondary,
    access_html,
)
from regview.ui.dialogs.connect.form import (
    DEPLOY_USER,
    FIXED_USERNAME,
    GITLAB_KINDS,
    KIND_HINTS,
    KIND_ORDER,
    RegistryForm,
)

__all__ = [
    "DEPLOY_USER",
    "FIXED_USERNAME",
    "GITLAB_KINDS",
    "KIND_HINTS",
    "KIND_ORDER",
    "AddRegistryDialog",
    "RegistryForm",
    "_Card",
    "_secondary",
    "access_html",
    "default_backend",
]


class AddRegistryDialog(RegistryForm):
    registryAdded = Signal(str)

    def __init__(
        self,
        accounts: Accounts,
        backend: ConnectBackend | None = None,
        parent: QWidget | None = None,
        *,
        address: str = "",
        profile: Profile | None = None,
    ) -> None:
        super().__init__(parent, profile)
        self.accounts = accounts
        self.backend: ConnectBackend = backend if backend is not None else default_backend()
        self.address.returnPressed.connect(self.check)
        self.check_button.clicked.connect(self.check)
        self.test_button.clicked.connect(self.test)
        self.save_button.clicked.connect(self.save)
        self._debounce.timeout.connect(self.check)
        if profile is not None:
            self._load_profile(profile)
        elif address:
            self.address.setText(address)
        self._kind_changed()
        if not self.address.isReadOnly():
            self.address.setFocus()  # the first thing asked: type the address straight away
        self.tasks.start("keyring", self._show_keyring_state())

    # ------------------------------------------------------------------ actions
    def check(self) -> asyncio.Task[None] | None:
        self._debounce.stop()
        text = self.address.text().strip()
        if not text:
            return None
        problem = address_problem(text)
        if problem:
            self.probe_card.show_text(html.escape(problem), "bad")
            return None
        return self.tasks.start("probe", self._probe())

    def test(self) -> asyncio.Task[None]:
        return self._start("test", self._test())

    def save(self) -> asyncio.Task[None]:
        return self._start("save", self._save())

    def _start(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self.tasks.start(name, coro)
        self._sync_buttons()
        task.add_done_callback(lambda _t: self._sync_buttons())
        return task

    async def _show_keyring_state(self) -> None:
        problem = await self.accounts.keyring_problem()
        if problem:
            self.keyring_card.show_text(
                "<b>No keyring available.</b> The secret will be kept in memory until regview "
                f"exits and never written to disk.<br><small>{html.escape(problem)}</small>",
                "bad",
            )

    async def _probe(self) -> None:
        try:
            endpoint = self.endpoint()
        except ValueError as exc:
            self.probe_card.show_text(html.escape(str(exc)), "bad")
            return
        self.probe_card.show_text(f"Checking {html.escape(endpoint.url)}/v2/ …", "neutral")
        try:
            result = await self.backend.probe(endpoint)
        except RegistryError as exc:
            self.probe_result = None
            self.failure = failure_in_words(exc, endpoint.url)
            self._sync_buttons()
            hint = ""
            if isinstance(exc, CertificateNotTrusted):
                self.advanced_toggle.setChecked(True)  # where the CA file is chosen
                hint = (
                    "<br>Choose your organisation's CA certificate (PEM) as <b>CA file</b> "
                    "under Connection options below, then Check again."
                )
            self.probe_card.show_text(
                f"<b>{html.escape(endpoint.url)}</b>: {html.escape(self.failure)}{hint}", "bad"
            )
            return
        self.probe_result = result
        self.probe_card.show_text(result.html(), "good")
        if not self.api_url.text() or not self.api_confirm.isChecked():
            self.api_url.setText(result.api_url or derive_gitlab_api(result.url, result.realm))
        if not result.auth_required:
            self.kind.setCurrentIndex(self.kind.findData(CredentialKind.ANONYMOUS))
        elif self.current_kind() == CredentialKind.ANONYMOUS:
            default = (
                CredentialKind.PERSONAL
                if result.kind == RegistryKind.GITLAB
                else CredentialKind.PASSWORD
            )
            self.kind.setCurrentIndex(self.kind.findData(default))
        if not self.name.text():
            self.name.setPlaceholderText(registry_host(result.url))
        self._kind_changed()

    async def _test(self) -> None:
        problem = self.problem()
        if problem:
            self.test_card.show_text(html.escape(problem), "bad")
            self._reveal(self.test_card)
            return
        endpoint = self.endpoint()
        self.access = None
        self.test_card.show_text("Testing what this credential can do …", "neutral")
        try:
            access = await self.backend.test(
                endpoint, await self._tested_credentials(), self.repository.text().strip()
            )
        except RegistryError as exc:
            self.failure = failure_in_words(exc, endpoint.url)
            self.test_card.show_text(f"<b>The test failed.</b> {html.escape(self.failure)}", "bad")
            self._reveal(self.test_card)
            return
        self.access = access
        self.repository.offer(access.repositories, access.repository)
        self.failure = "" if access.passed else access.failure()
        self.test_card.show_text(partial(access_html, access), access.tone)
        self._reveal(self.test_card)

    async def _tested_credentials(self) -> Credentials | None:
        """The form's credential; replacing one, an API token left empty is the stored one."""
        creds = self.credentials()
        if creds is None or creds.api_token or self.existing is None:
            return creds
        if self._api_token_need() is None:
            return creds
        return replace(creds, api_token=await self.accounts.api_token(self.existing))

    async def _save(self) -> None:
        problem = self.problem()
        if problem:
            self.test_card.show_text(html.escape(problem), "bad")
            self._reveal(self.test_card)
            return
        anyway = bool(self.failure)  # the button said "Save anyway" and named the failure
        if not anyway and (self.access is None or not self.access.passed):
            await self._test()
            if self.access is None or not self.access.passed:
                self._sync_buttons()
                action = "Save anyway" if self.existing else "Add anyway"
                self.test_card.show_text(
                    f"{self.test_card.label.text()}<p><b>Not saved:</b> this credential did not "
                    f"pass the test. Fix it and test again, or press <b>{action}</b> to keep "
                    "it regardless.</p>",
                    "bad",
                )
                self._reveal(self.test_card)
                return
        endpoint = self.endpoint()
        creds = self.credentials()
        repos = tuple(r for r in [self.repository.text().strip()] if r)
        username = creds.username if creds else ""
        kind = creds.kind if creds else CredentialKind.ANONYMOUS
        secret = creds.secret if creds else None
        api_token = creds.api_token if creds and creds.api_token else None  # None: keep
        if self.existing is not None:
            base = replace(
                self.existing,
                insecure=endpoint.insecure,
                ca_file=endpoint.ca_file,
                api_url=endpoint.api_url,
                repositories=tuple(dict.fromkeys((*self.existing.repositories, *repos))),
            )
            profile = await self.accounts.replace_secret(base, username, kind, secret, api_token)
        else:
            profile = Profile.for_endpoint(
                endpoint,
                name=self.name.text().strip(),
                username=username,
                credential_kind=kind,
                repositories=repos,
            )
            settings = await self.accounts.load()
            if profile.name in settings.profiles:
                self.test_card.show_text(
                    f"There is already a registry called <b>{html.escape(profile.name)}</b>. Give this one "
                    "another name, or replace its credential in Token management.",
                    "bad",
                )
                return
            profile = await self.accounts.save(profile, secret, api_token)
        if self.access is not None:
            await self.accounts.record_access(profile.name, self.access)
        self.registryAdded.emit(profile.name)
        # accept() cancels this dialog's tasks, this one included: close after it has ended
        QTimer.singleShot(0, self.accept)


def default_backend() -> ConnectBackend:
    return CoreBackend()
