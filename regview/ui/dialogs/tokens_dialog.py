"""**Token management**: every stored credential, and what it was verified to do.

    TokensDialog(accounts, backend=None, parent=None, *, replace="")   `replace` opens Replace…
                                            for that registry once the list is loaded
        signals   accountsChanged()         a credential was added, replaced, renamed or removed
        methods   refresh() -> Task         reload the list (profiles + keyring, off the UI thread)
                  add() / replace()         open AddRegistryDialog (new, or for the selection)
                  rename(new_name) -> Task  rename the selected registry (keyring untouched)
                  test() -> Task            test the selected credential, record the result
                  remove() -> Task          remove the selected registry and its secret
                  import_logins() -> ImportDialog   preview Docker/podman/CI logins, import
                                            the ticked ones
        `confirm` and `ask_text` are the only modal prompts: tests replace them.

Secrets never leave the keyring (or session memory when no keyring works — the banner says so).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import humanize
from PySide6.QtCore import QEvent, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from regview.core.errors import RegistryError
from regview.core.model import CredentialKind
from regview.services.accounts import Account, Accounts
from regview.services.connect import (
    CREDENTIAL_NAMES,
    KIND_NAMES,
    ConnectBackend,
    CoreBackend,
    days_left,
)
from regview.services.connect_words import (
    expired_since,
    expired_words,
    failure_in_words,
    is_refusal,
)
from regview.settings.errors import SettingsError
from regview.settings.profiles import Profile
from regview.ui.dialogs.connect.cards import _Card, _secondary, access_html
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.connect.form import RepositoryBox
from regview.ui.dialogs.import_dialog import ImportDialog, open_preview
from regview.ui.dialogs.task_dialog import TaskDialog
from regview.ui.screen_fit import resize_to_fit
from regview.ui.theme import error_colour, set_sheet

COLUMNS = ("Registry", "Kind", "Username", "Verified", "Expires", "Secret")
WARN_DAYS = 7
PROFILE_ROLE = Qt.ItemDataRole.UserRole


def when(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return humanize.naturaltime(now - moment)


def expiry(moment: datetime | None, now: datetime | None = None) -> str:
    """The Expires column: 'expires in 12 days', 'expired 3 days ago', or 'unknown'."""
    return "unknown" if moment is None else days_left(moment, now)


def expires_soon(moment: datetime | None, now: datetime | None = None) -> bool:
    """Expired, or expiring within `WARN_DAYS`: worth a warning."""
    if moment is None:
        return False
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment - now <= timedelta(days=WARN_DAYS)


class TokensDialog(TaskDialog):
    accountsChanged = Signal()

    def __init__(
        self,
        accounts: Accounts,
        backend: ConnectBackend | None = None,
        parent: QWidget | None = None,
        *,
        replace: str = "",
    ) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.backend: ConnectBackend = backend if backend is not None else CoreBackend()
        self.rows: list[Account] = []
        self._tested_for = ""  # the profile the repository list belongs to
        self.confirm: Callable[[str, str], bool] = self._confirm
        self.ask_text: Callable[[str, str, str], str | None] = self._ask_text
        self.setWindowTitle("Token management")
        resize_to_fit(self, 1000, 480)
        self._build()
        task = self.refresh()
        if replace:  # opened from "Replace token…" on an expired token's error
            task.add_done_callback(lambda _t: self._replace_named(replace))

    def _replace_named(self, name: str) -> None:
        self.select(name)
        profile = self.selected()
        if profile is not None and profile.name == name:
            self.replace()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 14)
        outer.setSpacing(10)
        title = QLabel("Registries and credentials")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        title.setFont(font)
        outer.addWidget(title)
        self.keyring_label = _secondary(QLabel("Checking the keyring …"))
        outer.addWidget(self.keyring_label)
        self.keyring_card = _Card()
        outer.addWidget(self.keyring_card)

        body = QHBoxLayout()
        body.setSpacing(12)
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Stored credentials")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.tree.header()
        header.setStretchLastSection(False)
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Verified"), QHeaderView.ResizeMode.Stretch)
        set_sheet(self.tree, "QTreeView::item { padding: 4px 6px; }")
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        body.addWidget(self.tree, 1)

        side = QVBoxLayout()
        side.setSpacing(6)
        self.add_button = QPushButton("&Add…")
        self.add_button.setToolTip("Connect to another registry")
        self.replace_button = QPushButton("Re&place…")
        self.replace_button.setToolTip(
            "Store a new token or password for the selected registry (only this one: every "
            "registry here has its own keyring entry)"
        )
        self.rename_button = QPushButton("Re&name…")
        self.test_button = QPushButton("&Test")
        self.test_button.setToolTip("Check what the selected credential can do now")
        self.remove_button = QPushButton("Re&move")
        self.remove_button.setToolTip("Forget the registry (and its secret in the keyring, if any)")
        self.import_button = QPushButton("&Import logins")
        self.import_button.setToolTip(
            "Adopt the logins of docker login / podman login (config.json, auth.json, "
            "credential helpers)"
        )
        for button, slot in (
            (self.add_button, self.add),
            (self.replace_button, self.replace),
            (self.rename_button, self._rename_clicked),
            (self.test_button, self.test),
            (self.remove_button, self._remove_clicked),
        ):
            button.clicked.connect(slot)
            side.addWidget(button)
        side.addSpacing(12)
        self.import_button.clicked.connect(self.import_logins)
        side.addWidget(self.import_button)
        side.addStretch(1)
        body.addLayout(side)
        outer.addLayout(body, 1)

        pick = QHBoxLayout()
        pick.setSpacing(8)
        self.repo_label = QLabel("Test on &repository:")
        self.repo_box = RepositoryBox()
        self.repo_box.setPlaceholderText("the first one listed; pick another after a Test")
        self.repo_label.setBuddy(self.repo_box)
        pick.addWidget(self.repo_label)
        pick.addWidget(self.repo_box, 1)
        outer.addLayout(pick)
        status_row = QHBoxLayout()
        self.status = _Card()
        status_row.addWidget(self.status, 1)
        self.fix_button = QPushButton("Replace…")
        self.fix_button.setToolTip("Enter a new token for this registry")
        self.fix_button.clicked.connect(self.replace)
        self.fix_button.setVisible(False)
        status_row.addWidget(self.fix_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(status_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self._sync_buttons()

    # ------------------------------------------------------------------ helpers
    def selected(self) -> Profile | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        profile = items[0].data(0, PROFILE_ROLE)
        return profile if isinstance(profile, Profile) else None

    def select(self, name: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.text(0) == name:
                self.tree.setCurrentItem(item)
                return

    def _selection_changed(self) -> None:
        profile = self.selected()
        if profile is not None and profile.name != self._tested_for:
            self._tested_for = profile.name
            self.repo_box.offer(
                profile.repositories, profile.repositories[0] if profile.repositories else ""
            )
            self.fix_button.setVisible(False)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        has = self.selected() is not None
        busy = self.tasks.running("action")
        for button in (self.replace_button, self.rename_button, self.remove_button):
            button.setEnabled(has and not busy)
        self.test_button.setEnabled(has and not busy)
        self.import_button.setEnabled(not busy)

    def _start(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self.tasks.start(name, coro)
        self._sync_buttons()
        task.add_done_callback(lambda _t: self._sync_buttons())
        return task

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_text(self, title: str, label: str, value: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, label, text=value)
        return text if ok else None

    # ------------------------------------------------------------------ list
    def refresh(self) -> asyncio.Task[None]:
        return self._start("refresh", self._refresh())

    async def _refresh(self) -> None:
        problem = await self.accounts.keyring_problem()
        if problem:
            self.keyring_label.setText("")
            self.keyring_card.show_text(
                "<b>No keyring available.</b> New secrets are kept in memory until regview "
                f"exits, never written to disk.<br><small>{html.escape(problem)}</small>",
                "bad",
            )
        else:
            self.keyring_card.show_text("", "neutral")
            self.keyring_label.setText(
                "Secrets are kept in your system keyring; settings.json holds only addresses "
                "and usernames."
            )
        try:
            accounts = await self.accounts.accounts()
        except SettingsError as exc:
            self.status.show_text(html.escape(str(exc)), "bad")
            return
        current = self.selected()
        self.rows = accounts
        blocker = QSignalBlocker(self.tree)  # rebuilding the list is not the user's choosing
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for account in accounts:
            self.tree.addTopLevelItem(self._item(account))
        self.tree.setSortingEnabled(True)
        blocker.unblock()
        if current is not None:
            self.select(current.name)
        else:
            first = self.tree.topLevelItem(0)
            if first is not None:
                self.tree.setCurrentItem(first)
        self._selection_changed()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # a theme switch: an item's foreground is a colour, not a palette role, so the
            # warnings (the only cells with a foreground of their own) get the new scheme's red
            red = error_colour(self.palette())
            for row in range(self.tree.topLevelItemCount()):
                item = self.tree.topLevelItem(row)
                for col in range(len(COLUMNS)):
                    if item is not None and item.data(col, Qt.ItemDataRole.ForegroundRole):
                        item.setForeground(col, red)

    def _item(self, account: Account) -> QTreeWidgetItem:
        p = account.profile
        anonymous = p.credential_kind == CredentialKind.ANONYMOUS
        if anonymous:
            secret = "not needed"
        elif not account.has_secret:
            secret = "missing"
        else:
            secret = "keyring" if account.persistent else "this session only"
        verified = f"{p.verified} · {when(p.verified_at)}" if p.verified_at else "not tested"
        item = QTreeWidgetItem(
            [
                p.name,
                CREDENTIAL_NAMES.get(p.credential_kind, str(p.credential_kind)),
                p.username or "—",
                verified,
                "" if anonymous else "never" if p.never_expires else expiry(p.expires_at),
                secret,
            ]
        )
        item.setData(0, PROFILE_ROLE, p)
        item.setToolTip(0, f"{p.url}\n{KIND_NAMES.get(p.kind, 'OCI registry')}")
        if p.verified_at:
            item.setToolTip(3, f"{verified}\nVerified {p.verified_at.astimezone():%Y-%m-%d %H:%M}")
        else:
            item.setToolTip(3, verified)  # whole where the column cuts it
        if secret in ("missing", "this session only"):
            item.setForeground(5, error_colour(self.palette()))
        if not anonymous and expires_soon(p.expires_at):
            item.setForeground(4, error_colour(self.palette()))
            item.setToolTip(
                4, f"Expires on {p.expires_at:%Y-%m-%d}: use Replace to enter a new token"
            )
        return item

    # ------------------------------------------------------------------ actions
    def add(self) -> AddRegistryDialog:
        dialog = AddRegistryDialog(self.accounts, self.backend, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.registryAdded.connect(self._added)
        dialog.open()
        return dialog

    def replace(self) -> AddRegistryDialog | None:
        profile = self.selected()
        if profile is None:
            return None
        dialog = AddRegistryDialog(self.accounts, self.backend, self, profile=profile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.registryAdded.connect(self._added)
        dialog.open()
        return dialog

    def _double_clicked(self, _item: QTreeWidgetItem, _column: int) -> None:
        self.replace()

    def _added(self, name: str) -> None:
        self.status.show_text(f"Saved <b>{html.escape(name)}</b>.", "good")
        self.accountsChanged.emit()
        task = self.refresh()
        task.add_done_callback(lambda _t: self.select(name))

    def _rename_clicked(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        new = self.ask_text("Rename registry", "New name:", profile.name)
        if new is not None and new.strip() and new.strip() != profile.name:
            self.rename(new)

    def rename(self, new_name: str) -> asyncio.Task[None]:
        return self._start("action", self._rename(new_name))

    async def _rename(self, new_name: str) -> None:
        profile = self.selected()
        if profile is None:
            return
        try:
            renamed = await self.accounts.rename(profile.name, new_name)
        except ValueError as exc:  # our words, quoting the names: only the tags need escaping
            self.status.show_text(html.escape(str(exc), quote=False), "bad")
            return
        self.status.show_text(
            f"Renamed {html.escape(profile.name)} to <b>{html.escape(renamed.name)}</b>.", "good"
        )
        self.accountsChanged.emit()
        await self._refresh()
        self.select(renamed.name)

    def test(self) -> asyncio.Task[None]:
        return self._start("action", self._test())

    async def _test(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        name = html.escape(profile.name)
        self.fix_button.setVisible(False)
        self.status.show_text(f"Testing <b>{name}</b> …", "neutral")
        try:
            creds = await self.accounts.credentials(profile)
            if creds is None and profile.credential_kind != CredentialKind.ANONYMOUS:
                self.status.show_text(
                    f"No secret is stored for <b>{name}</b>: use Replace to enter it.",
                    "bad",
                )
                self.fix_button.setVisible(True)
                return
            access = await self.backend.test(profile.endpoint, creds, self.repo_box.text().strip())
        except (RegistryError, SettingsError) as exc:
            said = (
                failure_in_words(exc, profile.url) if isinstance(exc, RegistryError) else str(exc)
            )
            self.status.show_text(
                f"<b>{name}</b>: {html.escape(expired_words(profile, exc) or said)}", "bad"
            )
            self.fix_button.setVisible(is_refusal(exc))
            return
        await self.accounts.record_access(profile.name, access)
        self.repo_box.offer(access.repositories, access.repository)
        since = expired_since(profile) if access.refused else ""
        head = f"<b>{name}</b>" + (f": {html.escape(since)}." if since else "")
        gap = "" if access.warning() else "<br>"  # the warning's own paragraph spaces it
        self.status.show_text(  # its marks in the colours of the scheme shown, also after a switch
            lambda palette: f"{head}{gap}{access_html(access, palette)}", access.tone
        )
        self.fix_button.setVisible(  # also for a token that may not delete: give it the scope
            access.tone != "good" and profile.credential_kind != CredentialKind.ANONYMOUS
        )
        await self._refresh()

    def _remove_clicked(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        question = f"{self._removal_question(profile)}\nNothing on the registry is changed."
        if self.confirm("Remove registry", question):
            self.remove()

    def _account(self, profile: Profile) -> Account | None:
        return next((a for a in self.rows if a.profile.name == profile.name), None)

    def _removal_question(self, profile: Profile) -> str:
        """Worded by what there is to delete, as the Secret column shows it: an anonymous
        profile has no secret, and asking to delete one from the keyring read as a mistake."""
        account = self._account(profile)
        if profile.credential_kind == CredentialKind.ANONYMOUS:
            return f"Forget {profile.name}? It signs in anonymously: there is no secret to delete."
        if account is None or not account.has_secret:
            return f"Forget {profile.name}? No secret of it is stored."
        where = "the keyring" if account.persistent else "this session's memory"
        return f"Forget {profile.name} and delete its secret from {where}?"

    def remove(self) -> asyncio.Task[None]:
        return self._start("action", self._remove())

    async def _remove(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        try:
            shared = await self.accounts.remove(profile.name)
        except SettingsError as exc:
            self.status.show_text(html.escape(str(exc)), "bad")
            return
        had_secret = (account := self._account(profile)) is not None and account.has_secret
        name = html.escape(profile.name)
        if shared:
            others = ", ".join(f"<b>{html.escape(n)}</b>" for n in shared)
            self.status.show_text(
                f"Removed <b>{name}</b>. Its secret stays in the keyring for {others}, which "
                "uses the same login.",
                "good",
            )
        else:
            also = " and its secret" if had_secret else ""
            self.status.show_text(f"Removed <b>{name}</b>{also}.", "good")
        self.accountsChanged.emit()
        await self._refresh()

    def import_logins(self) -> ImportDialog:
        """The preview of the logins on this machine; the ticked ones are imported from there."""
        return open_preview(self.accounts, self.backend, self, self._imported)

    def _imported(self, words: str, _first: str) -> None:
        self.status.show_text(html.escape(words), "good")
        self.accountsChanged.emit()
        self.refresh()
