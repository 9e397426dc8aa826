"""The Add-registry dialog's form: the address, credential and connection-option fields, how
they react to edits, and the `Endpoint` and `Credentials` they describe.

    RegistryForm(parent=None, profile=None)   a QDialog; `AddRegistryDialog` adds the actions
        endpoint() -> Endpoint                raises ValueError for an unusable address
        credentials() -> Credentials | None   None for anonymous access
        problem() -> str                      why it cannot be tested or saved yet ('' if it can)

No network, keyring or disk here: the actions live in `dialogs.connect.dialog`.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.services.connect import (
    CREDENTIAL_NAMES,
    AccessSummary,
    ProbeSummary,
    vendor_hint,
)
from regview.settings.profiles import Profile, address_problem, registry_url
from regview.ui.dialogs.connect.cards import _Card, _secondary
from regview.ui.dialogs.task_dialog import TaskDialog

if TYPE_CHECKING:
    from regview.core.vendors import VendorSpec

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


def fitting_height(widget: QWidget, wanted: int) -> int:
    """`wanted`, or less on a short screen (1024×700 leaves ~640 under a title bar and panel)."""
    screen = widget.screen()
    if screen is None:
        return wanted
    return max(360, min(wanted, screen.availableGeometry().height() - 60))


class _NaturalHeight(QWidget):
    """The scrolled content: never squeezed below the height its fields ask for (it scrolls
    instead), so a line edit or combo box never shows clipped text."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        layout = self.layout()
        if layout is None:
            return hint
        width = self.width() if self.width() > hint.width() else hint.width()
        natural = (
            layout.heightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.sizeHint().height()
        )
        return QSize(hint.width(), max(hint.height(), natural))


class RepositoryBox(QComboBox):
    """The repository to test on: picked from what the last Test listed, or typed where the
    credential cannot list (deploy tokens). Reads like a QLineEdit (`text`, `setText`)."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(15)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(20)
        line = self.lineEdit()
        assert line is not None
        line.textEdited.connect(lambda _t: self.edited.emit())
        self.activated.connect(lambda _i: self.edited.emit())

    def text(self) -> str:
        return self.currentText()

    def setText(self, text: str) -> None:
        self.setEditText(text)

    def setPlaceholderText(self, text: str) -> None:
        line = self.lineEdit()
        if line is not None:
            line.setPlaceholderText(text)

    def offer(self, repositories: tuple[str, ...], tested: str) -> None:
        """List `repositories` to pick from, keeping `tested` (the one just tried) shown."""
        blocker = QSignalBlocker(self)
        self.clear()
        self.addItems(list(repositories))
        self.setEditText(tested)
        blocker.unblock()


class RegistryForm(TaskDialog):
    """The fields and their state; `check`, `test` and `save` are the subclass's."""

    def __init__(self, parent: QWidget | None = None, profile: Profile | None = None) -> None:
        super().__init__(parent)
        self.existing = profile
        self._api_wanted = False
        self.probe_result: ProbeSummary | None = None
        self.access: AccessSummary | None = None
        self.failure = ""  # what the last check or test found wrong, in words ('' = nothing)
        self.setWindowTitle("Replace credential" if profile else "Add registry")
        self.setMinimumWidth(560)
        self._build()
        self.resize(640, fitting_height(self, 640))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(600)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        # Everything but the buttons scrolls: a card that appears (probe, test, keyring) adds
        # height inside the scroll area, so the dialog keeps its size and place and no field is
        # squeezed below its natural height (the dialog used to grow and shift under the cursor).
        frame = QVBoxLayout(self)
        frame.setContentsMargins(0, 0, 0, 14)
        frame.setSpacing(8)
        self.body_scroll = QScrollArea()
        self.body_scroll.setWidgetResizable(True)
        self.body_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = _NaturalHeight()
        self.body_scroll.setWidget(content)
        frame.addWidget(self.body_scroll, 1)
        outer = QVBoxLayout(content)
        outer.setContentsMargins(20, 18, 20, 6)
        outer.setSpacing(12)

        title = QLabel("Replace the credential" if self.existing else "Connect to a registry")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        title.setFont(font)
        outer.addWidget(title)
        intro = (
            "Enter the new token or password. Test shows what it can do before you save it; "
            "it is stored in this registry's own keyring entry, no other registry's."
            if self.existing
            else "Type the registry's address. regview asks it what it is and how to sign in; "
            "Test shows what your credential can do before you save it."
        )
        outer.addWidget(_secondary(QLabel(intro)))

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        row = QHBoxLayout()
        self.address = QLineEdit()
        # short enough for the box at large fonts; the other form is in the tooltip
        self.address.setPlaceholderText("registry.example.com")
        self.address.setToolTip(
            "The registry's address: registry.example.com, or http://127.0.0.1:5000 for one "
            "without TLS"
        )
        self.address.setClearButtonEnabled(True)
        self.address.textEdited.connect(self._address_edited)
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
        cred.addRow("&Username:", self.username)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.textEdited.connect(self._credential_edited)
        self.secret_label = QLabel("&Token:")
        self.secret_label.setBuddy(self.secret)
        cred.addRow(self.secret_label, self.secret)
        # Quay: its API takes an OAuth token, which a robot login is not — asked beside it
        self.api_token = QLineEdit()
        self.api_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_token.textEdited.connect(self._credential_edited)
        self.api_token_label = QLabel("API t&oken:")
        self.api_token_label.setBuddy(self.api_token)
        cred.addRow(self.api_token_label, self.api_token)
        self.api_token_hint = _secondary(QLabel())
        cred.addRow("", self.api_token_hint)
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
        self.repository = RepositoryBox()
        self.repository.setPlaceholderText("picked after Test")
        self.repository.setToolTip(
            "Picked from the list after Test; type one for deploy tokens (they cannot list)"
        )
        self.repository.edited.connect(self._credential_edited)
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
        self.buttons.setContentsMargins(20, 0, 20, 0)
        frame.addWidget(self.buttons)
        self._sync_buttons()

    def _reveal(self, card: QWidget) -> None:
        """Scroll `card` (a result just shown) into view once the layout has placed it."""
        scroll = self.body_scroll  # the timers' context: no call once the dialog is gone
        for delay in (0, 120):  # again once a grown card has its final height
            QTimer.singleShot(delay, scroll, lambda: scroll.ensureWidgetVisible(card, 0, 12))

    def _load_profile(self, profile: Profile) -> None:
        self.address.setText(profile.url)
        self.address.setReadOnly(True)
        self.address.setClearButtonEnabled(False)  # a read-only field offers no clearing
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
        self._sync_buttons()

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
        self._sync_api_token()
        self.access = None
        self.failure = ""
        self.test_card.show_text("", "neutral")
        self._sync_buttons()
        text = self.address.text().strip()
        problem = address_problem(text) if text else ""
        if problem:  # said as typed; nothing is sent to an address that cannot work
            self._debounce.stop()
            self.probe_card.show_text(html.escape(problem), "bad")
        elif text:
            self.probe_card.show_text("", "neutral")  # an earlier complaint no longer holds
            self._debounce.start()
        else:
            self._debounce.stop()
            self.probe_card.show_text("", "neutral")

    def _credential_edited(self, *_: Any) -> None:
        self._sync_api_token()  # a username that is the API token itself needs no other
        self.access = None
        self.failure = ""
        self.test_card.show_text("", "neutral")
        self._sync_buttons()

    def current_kind(self) -> CredentialKind:
        data = self.kind.currentData()
        try:
            return CredentialKind(data)
        except ValueError:
            return CredentialKind.ANONYMOUS

    def _kind_changed(self, *_: Any) -> None:
        kind = self.current_kind()
        anonymous = kind == CredentialKind.ANONYMOUS
        self.kind_hint.setText(vendor_hint(self.probe_result) or KIND_HINTS.get(kind, ""))
        self.username.setEnabled(not anonymous)
        self.secret.setEnabled(not anonymous)
        fixed = FIXED_USERNAME.get(kind)
        if fixed:
            self.username.setText(fixed)
        elif self.username.text() in FIXED_USERNAME.values():
            self.username.clear()
        self.username.setReadOnly(bool(fixed))
        self._sync_api_token()
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

    def _api_token_need(self) -> VendorSpec | None:
        """The registry's vendor when its management API needs a token of its own (Quay) and
        this login is not that token already; None otherwise."""
        from regview.core.vendors import vendor_spec  # httpx: not at start

        spec = vendor_spec(self.probe_result.kind) if self.probe_result is not None else None
        if spec is None or not spec.need.separate_token:
            return None
        if self.current_kind() == CredentialKind.ANONYMOUS:
            return None
        user = self.username.text().strip()
        return None if user and user == spec.need.token_username else spec

    def _sync_api_token(self) -> None:
        spec = self._api_token_need()
        for widget in (self.api_token_label, self.api_token, self.api_token_hint):
            widget.setVisible(spec is not None)
        if spec is None:
            return
        keep = "leave empty to keep the stored one; " if self.existing else ""
        self.api_token.setPlaceholderText(f"{keep}stored only in your keyring")
        need = spec.need
        self.api_token_hint.setText(
            f"For deleting through the {spec.title}: {need.secret} "
            f"({', '.join(need.scopes)}). This login alone cannot call it."
        )

    def _is_gitlab(self) -> bool:
        return self.probe_result is not None and self.probe_result.kind == RegistryKind.GITLAB

    def _sync_buttons(self) -> None:
        ready = bool(self.address.text().strip())
        self.test_button.setEnabled(ready and not self.tasks.running("test"))
        self.save_button.setEnabled(ready and not self.tasks.running("save"))
        # After a failed test Save turns into "Save anyway": storing a credential that did not
        # work is allowed, but only as a second, deliberate click that names what failed.
        label = "Save" if self.existing else "Add registry"
        if self.failure:
            label = "Save anyway" if self.existing else "Add anyway"
        self.save_button.setText(label)
        self.save_button.setToolTip(
            f"It did not pass the test: {self.failure}" if self.failure else ""
        )

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
        token = self.api_token.text().strip() if self._api_token_need() is not None else ""
        return Credentials(username, self.secret.text(), kind, api_token=token)

    def problem(self) -> str:
        """Why the form cannot be tested or saved yet, in words ('' when it can)."""
        problem = address_problem(self.address.text())
        if problem:
            return problem
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
