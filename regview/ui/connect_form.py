"""The Add-registry dialog's form: the address, credential and connection-option fields, how
they react to edits, and the `Endpoint` and `Credentials` they describe.

    RegistryForm(parent=None, profile=None)   a QDialog; `AddRegistryDialog` adds the actions
        endpoint() -> Endpoint                raises ValueError for an unusable address
        credentials() -> Credentials | None   None for anonymous access
        problem() -> str                      why it cannot be tested or saved yet ('' if it can)

No network, keyring or disk here: the actions live in `connect_dialog`.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.settings.profiles import Profile, registry_host, registry_url
from regview.ui.async_utils import TaskOwner
from regview.ui.connect_backend import CREDENTIAL_NAMES, AccessSummary, ProbeSummary
from regview.ui.connect_cards import _Card, _secondary

GITLAB_KINDS = (
    CredentialKind.PERSONAL,
    CredentialKind.DEPLOY,
    CredentialKind.PROJECT,
    CredentialKind.GROUP,
    CredentialKind.JOB,
)
KIND_ORDER = (
    CredentialKind.ANONYMOUS,
    CredentialKind.PASSWORD,
    *GITLAB_KINDS,
)
FIXED_USERNAME = {CredentialKind.JOB: "gitlab-ci-token"}
DEPLOY_USER = re.compile(r"^gitlab\+deploy-token-\d+$")
KIND_HINTS = {
    CredentialKind.ANONYMOUS: "No sign-in: works for public registries and public projects.",
    CredentialKind.PASSWORD: "Your username and password, or an access token as the password "
    "(Docker Hub, GHCR, Harbor robot accounts).",
    CredentialKind.PERSONAL: "Scopes: read_registry to browse, write_registry to push or "
    "delete, read_api or api for projects and tag details.",
    CredentialKind.DEPLOY: "Username as GitLab showed it (gitlab+deploy-token-12). Deploy "
    "tokens cannot use the REST API: name repositories by hand.",
    CredentialKind.PROJECT: "Any non-blank username works: GitLab knows the project's bot by "
    "its token.",
    CredentialKind.GROUP: "Any non-blank username works: GitLab knows the group's bot by its "
    "token.",
    CredentialKind.JOB: "Inside CI the username is always gitlab-ci-token and the token is "
    "$CI_JOB_TOKEN; it reaches only the job's own project.",
}


class RegistryForm(QDialog):
    """The fields and their state; `check`, `test` and `save` are the subclass's."""

    def __init__(self, parent: QWidget | None = None, profile: Profile | None = None) -> None:
        super().__init__(parent)
        self.existing = profile
        self.tasks = TaskOwner()
        self._api_wanted = False
        self.probe_result: ProbeSummary | None = None
        self.access: AccessSummary | None = None
        self.others: list[Profile] = []  # the other stored profiles, for `shared_with`
        self.setWindowTitle("Replace credential" if profile else "Add registry")
        self.setMinimumWidth(560)
        self._build()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(600)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 14)
        outer.setSpacing(12)

        title = QLabel("Replace the credential" if self.existing else "Connect to a registry")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        title.setFont(font)
        outer.addWidget(title)
        outer.addWidget(
            _secondary(
                QLabel(
                    "Type the registry's address. regview asks it what it is and how to sign "
                    "in; Test shows what your credential can do before you save it."
                )
            )
        )

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        row = QHBoxLayout()
        self.address = QLineEdit()
        self.address.setPlaceholderText("registry.example.com  or  http://127.0.0.1:5000")
        self.address.setClearButtonEnabled(True)
        self.address.textEdited.connect(self._address_edited)
        self.address.textChanged.connect(self._show_shared)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Ask the registry at this address what it is (GET /v2/)")
        row.addWidget(self.address, 1)
        row.addWidget(self.check_button)
        address_label = QLabel("&Address:")
        address_label.setBuddy(self.address)
        form.addRow(address_label, row)
        outer.addLayout(form)

        self.probe_card = _Card()
        outer.addWidget(self.probe_card)

        cred = QFormLayout()
        cred.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        cred.setHorizontalSpacing(12)
        cred.setVerticalSpacing(8)
        self.kind = QComboBox()
        for kind in KIND_ORDER:
            self.kind.addItem(CREDENTIAL_NAMES[kind], kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        cred.addRow("Sign in &with:", self.kind)
        self.kind_hint = _secondary(QLabel())
        self.kind_hint.setMinimumHeight(self.kind_hint.fontMetrics().lineSpacing() * 2 + 4)
        self.kind_hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        cred.addRow("", self.kind_hint)
        self.username = QLineEdit()
        self.username.textEdited.connect(self._credential_edited)
        self.username.textChanged.connect(self._show_shared)
        cred.addRow("&Username:", self.username)
        self.shared_note = _secondary(QLabel())
        self.shared_note.setTextFormat(Qt.TextFormat.RichText)
        self.shared_note.setVisible(False)
        cred.addRow("", self.shared_note)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.textEdited.connect(self._credential_edited)
        self.secret_label = QLabel("&Token:")
        self.secret_label.setBuddy(self.secret)
        cred.addRow(self.secret_label, self.secret)
        self.api_url = QLineEdit()
        self.api_url.setPlaceholderText("https://gitlab.example.com/api/v4")
        self.api_confirm = QCheckBox("Send my token to this GitLab API")
        self.api_url.textEdited.connect(self._api_edited)
        self.api_confirm.setToolTip(
            "The registry does not say where its GitLab is: regview derived this address from "
            "the sign-in service. Confirm it before your token is sent there."
        )
        self.api_label = QLabel("GitLab &API:")
        self.api_label.setBuddy(self.api_url)
        cred.addRow(self.api_label, self.api_url)
        cred.addRow("", self.api_confirm)
        self.repository = QLineEdit()
        self.repository.setPlaceholderText(
            "group/project/image (optional; needed for deploy tokens)"
        )
        cred.addRow("&Repository:", self.repository)
        self.name = QLineEdit()
        self.name.setPlaceholderText("shown in the sidebar; defaults to the host")
        cred.addRow("&Name:", self.name)
        outer.addLayout(cred)

        self.advanced_toggle = QPushButton("Connection options ▸")
        self.advanced_toggle.setFlat(True)
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        outer.addWidget(self.advanced_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.advanced = QWidget()
        adv = QFormLayout(self.advanced)
        adv.setContentsMargins(0, 0, 0, 0)
        self.insecure = QCheckBox(
            "Allow plain http and skip certificate checks (trusted networks only)"
        )
        self.insecure.toggled.connect(self._address_edited)
        adv.addRow("", self.insecure)
        ca_row = QHBoxLayout()
        self.ca_file = QLineEdit()
        self.ca_file.setAccessibleName("CA file")
        self.ca_file.setPlaceholderText("PEM file of a private certificate authority")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(browse)
        adv.addRow("&CA file:", ca_row)
        self.advanced.setVisible(False)
        outer.addWidget(self.advanced)

        self.test_card = _Card()
        outer.addWidget(self.test_card)
        self.keyring_card = _Card()
        outer.addWidget(self.keyring_card)
        outer.addStretch(1)

        self.buttons = QDialogButtonBox()
        self.test_button = self.buttons.addButton("&Test", QDialogButtonBox.ButtonRole.ActionRole)
        self.test_button.setToolTip("Try the credential: pull, push, delete and the REST API")
        self.save_button = self.buttons.addButton(
            "Save" if self.existing else "Add registry", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self._sync_buttons()

    def _load_profile(self, profile: Profile) -> None:
        self.address.setText(profile.url)
        self.address.setReadOnly(True)
        self.check_button.setEnabled(False)
        self.name.setText(profile.name)
        self.name.setReadOnly(True)
        # Filling the form is not an edit: a toggled checkbox must not start a new probe.
        blocker = QSignalBlocker(self.insecure)
        self.insecure.setChecked(profile.insecure)
        blocker.unblock()
        self.ca_file.setText(profile.ca_file)
        self.api_url.setText(profile.api_url)
        self.api_confirm.setChecked(bool(profile.api_url))
        self.repository.setText(profile.repositories[0] if profile.repositories else "")
        self.kind.setCurrentIndex(max(0, self.kind.findData(profile.credential_kind)))
        self.username.setText(profile.username)
        self.probe_result = ProbeSummary(profile.url, profile.kind, auth_required=True)
        self.probe_card.show_text(
            f"<b>{html.escape(profile.name)}</b> — {html.escape(profile.url)}<br>"
            "Enter the new credential and test it.",
            "neutral",
        )

    # ------------------------------------------------------------------ reactions
    def _api_edited(self, _text: str) -> None:
        self.api_confirm.setChecked(False)  # a changed address needs a new confirmation

    def _toggle_advanced(self, on: bool) -> None:
        self.advanced.setVisible(on)
        self.advanced_toggle.setText("Connection options ▾" if on else "Connection options ▸")

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Certificate authority", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca_file.setText(path)
            self._address_edited()

    def _address_edited(self, *_: Any) -> None:
        self.probe_result = None
        self.access = None
        self.test_card.show_text("", "neutral")
        self._sync_buttons()
        if self.address.text().strip():
            self._debounce.start()
        else:
            self._debounce.stop()
            self.probe_card.show_text("", "neutral")

    def shared_with(self) -> list[str]:
        """Other stored registries whose keyring entry this form's login would overwrite.

        The keyring holds one secret per registry login (host and username), not per profile:
        profiles with the same host and username share it by design.
        """
        if self.current_kind() == CredentialKind.ANONYMOUS:
            return []
        username = self.username.text().strip()
        try:
            host = registry_host(registry_url(self.address.text()))
        except ValueError:
            return []
        mine = self.existing.name if self.existing is not None else None
        return [
            p.name
            for p in self.others
            if p.name != mine
            and p.username == username
            and p.credential_kind != CredentialKind.ANONYMOUS
            and registry_host(p.url) == host
        ]

    def _show_shared(self, *_: Any) -> None:
        names = self.shared_with()
        if names:
            listed = ", ".join(f"<b>{html.escape(n)}</b>" for n in names)
            self.shared_note.setText(
                f"This login is also stored for {listed}: the keyring keeps one secret per "
                "registry and username, so saving changes it there as well."
            )
        self.shared_note.setVisible(bool(names))
        self._fit_shared_note()

    def _fit_shared_note(self) -> None:
        # A wrapped label in a form row gets the height of its narrowest layout (blank lines
        # above and below the text): pin it to what the username field's width needs.
        if self.shared_note.isVisibleTo(self):
            width = max(self.username.width(), 200)
            self.shared_note.setFixedHeight(self.shared_note.heightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_shared_note()

    def _credential_edited(self, *_: Any) -> None:
        self.access = None
        self.test_card.show_text("", "neutral")

    def current_kind(self) -> CredentialKind:
        data = self.kind.currentData()
        try:
            return CredentialKind(data)
        except ValueError:
            return CredentialKind.ANONYMOUS

    def _kind_changed(self, *_: Any) -> None:
        kind = self.current_kind()
        anonymous = kind == CredentialKind.ANONYMOUS
        self.kind_hint.setText(KIND_HINTS.get(kind, ""))
        self.username.setEnabled(not anonymous)
        self.secret.setEnabled(not anonymous)
        fixed = FIXED_USERNAME.get(kind)
        if fixed:
            self.username.setText(fixed)
        elif self.username.text() in FIXED_USERNAME.values():
            self.username.clear()
        self.username.setReadOnly(bool(fixed))
        placeholder = {
            CredentialKind.DEPLOY: "gitlab+deploy-token-<n>",
            CredentialKind.PROJECT: "any name, e.g. regview",
            CredentialKind.GROUP: "any name, e.g. regview",
            CredentialKind.PERSONAL: "your GitLab username",
        }.get(kind, "")
        self.username.setPlaceholderText(placeholder)
        self.secret_label.setText("&Password:" if kind == CredentialKind.PASSWORD else "&Token:")
        self.secret.setPlaceholderText("" if anonymous else "stored only in your keyring")
        gitlab = self._is_gitlab() or kind in GITLAB_KINDS
        self._api_wanted = gitlab and kind != CredentialKind.DEPLOY
        for widget in (self.api_label, self.api_url, self.api_confirm):
            widget.setVisible(self._api_wanted)
        self._credential_edited()
        self._show_shared()

    def _is_gitlab(self) -> bool:
        return self.probe_result is not None and self.probe_result.kind == RegistryKind.GITLAB

    def _sync_buttons(self) -> None:
        ready = bool(self.address.text().strip())
        self.test_button.setEnabled(ready and not self.tasks.running("test"))
        self.save_button.setEnabled(ready and not self.tasks.running("save"))

    # ------------------------------------------------------------------ model of the form
    def endpoint(self) -> Endpoint:
        url = registry_url(self.address.text())
        kind = self.probe_result.kind if self.probe_result else RegistryKind.GENERIC
        api = self.api_url.text().strip() if self.api_confirm.isChecked() else ""
        return Endpoint(
            url=url,
            insecure=self.insecure.isChecked(),
            ca_file=self.ca_file.text().strip(),
            api_url=api if self._api_wanted else "",
            kind=kind,
        )

    def credentials(self) -> Credentials | None:
        kind = self.current_kind()
        if kind == CredentialKind.ANONYMOUS:
            return None
        username = self.username.text().strip()
        if not username and kind in (CredentialKind.PROJECT, CredentialKind.GROUP):
            username = "regview"  # GitLab ignores it, but it must not be blank
        return Credentials(username, self.secret.text(), kind)

    def problem(self) -> str:
        """Why the form cannot be tested or saved yet, in words ('' when it can)."""
        try:
            registry_url(self.address.text())
        except ValueError as exc:
            return str(exc)
        creds = self.credentials()
        if creds is not None:
            if not creds.username:
                return "Enter the username."
            if not creds.secret:
                return "Enter the password or token."
            if creds.kind == CredentialKind.DEPLOY and not DEPLOY_USER.match(creds.username):
                return (
                    f"A deploy token's username looks like gitlab+deploy-token-12, not "
                    f"{creds.username!r}: copy it from GitLab's deploy token page."
                )
        return ""
