"""**Import logins**: a preview of the Docker/podman/CI logins on this machine, one checkbox
each, before anything is stored.

    ImportDialog(accounts, backend, parent=None)
        signals   imported(str, str)     the report in words and the first registry added,
                                         after the ticked logins are stored
    open_preview(accounts, backend, parent, on_imported) -> ImportDialog   opened and loading
        methods   load() -> Task         find the logins and ask each registry what it is
                  import_selected() -> Task
                  rows() -> list[Candidate]   the candidates as the user left them (kind, API)

GitLab registries (their sign-in service is GitLab's /jwt/auth) are recognised: their row asks
for the credential kind and shows the API address the token will be sent to. Logins already
stored (same registry and username) are listed but cannot be ticked: nothing is imported twice.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import CredentialKind
from regview.services.accounts import Accounts
from regview.services.connect import CREDENTIAL_NAMES, ConnectBackend
from regview.services.import_plan import Candidate, adopt, find_candidates, recognise
from regview.settings.errors import SettingsError
from regview.ui.dialogs.connect.cards import _Card, _secondary
from regview.ui.dialogs.connect.form import GITLAB_KINDS
from regview.ui.dialogs.task_dialog import TaskDialog
from regview.ui.screen_fit import resize_to_fit
from regview.ui.words import plural

COLUMNS = ("Registry", "Username", "Sign in with", "GitLab API", "Status", "Found in")


class ImportDialog(TaskDialog):
    imported = Signal(str, str)  # the report in words, the first registry added ("" = none)

    def __init__(
        self, accounts: Accounts, backend: ConnectBackend, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.accounts, self.backend = accounts, backend
        self.candidates: list[Candidate] = []
        self.setWindowTitle("Import logins")
        resize_to_fit(self, 900, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.addWidget(
            _secondary(
                QLabel(
                    "Logins found in Docker's config.json, containers' auth.json, credential "
                    "helpers and CI variables. Tick the ones to keep in regview; each gets its "
                    "own keyring entry. GitLab registries need the kind of token and the "
                    "address of their API."
                )
            )
        )
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setAccessibleName("Logins found")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("GitLab API"), QHeaderView.ResizeMode.Stretch)
        self.tree.itemChanged.connect(lambda *_: self._sync())
        layout.addWidget(self.tree, 1)
        self.status = _Card()
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.clicked.connect(self.import_selected)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._sync()

    # ------------------------------------------------------------------ loading
    def load(self) -> asyncio.Task[None]:
        return self.tasks.start("load", self._load())

    async def _load(self) -> None:
        self.status.show_text("Looking for Docker and podman logins …", "neutral")
        try:
            found = await find_candidates(self.accounts)
        except SettingsError as exc:
            self.status.show_text(html.escape(str(exc)), "bad")
            return
        if not found:
            self.status.show_text(
                "No Docker or podman logins were found (~/.docker/config.json, containers "
                "auth.json, credential helpers).",
                "neutral",
            )
            return
        self.status.show_text("Asking each registry what it is …", "neutral")
        self.candidates = list(await asyncio.gather(*(recognise(c, self.backend) for c in found)))
        self._fill()
        new = sum(c.importable for c in self.candidates)
        self.status.show_text(
            f"{plural(len(self.candidates), 'login')} found, {new:,} not in regview yet.", "neutral"
        )

    def _fill(self) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for c in self.candidates:
            item = QTreeWidgetItem(
                [
                    c.registry,
                    c.username,
                    "",
                    "",
                    c.status if not c.checked else f"{c.status} · {c.checked}",
                    c.source,
                ]
            )
            item.setToolTip(0, c.registry)  # a narrow column elides them
            item.setToolTip(1, c.username)
            item.setToolTip(5, c.source)
            said = item.text(4)  # whole in the tooltip, with the detail behind it
            item.setToolTip(4, f"{said}\n{c.detail}" if c.detail else said)
            if c.importable:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked)
            else:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(item)
            if c.gitlab and c.importable:
                kind = QComboBox()
                for k in GITLAB_KINDS:
                    kind.addItem(CREDENTIAL_NAMES[k], k)
                kind.setCurrentIndex(max(0, kind.findData(c.kind)))
                self.tree.setItemWidget(item, 2, kind)
                api = QLineEdit(c.api_url)
                api.setPlaceholderText("https://gitlab.example.com/api/v4")
                api.setToolTip("Your token is sent to this GitLab API: check the address")
                api.setAccessibleName(f"GitLab API address for {c.registry}")
                kind.setAccessibleName(f"Sign in with, for {c.registry}")
                self.tree.setItemWidget(item, 3, api)
                kind.currentIndexChanged.connect(
                    lambda _i, box=kind, field=api: field.setEnabled(
                        box.currentData() != CredentialKind.DEPLOY
                    )
                )
            else:
                item.setText(2, CREDENTIAL_NAMES.get(c.kind, str(c.kind)))
                item.setToolTip(2, item.text(2))
        self.tree.blockSignals(False)
        self._sync()

    # ------------------------------------------------------------------ choosing
    def rows(self) -> list[tuple[Candidate, bool]]:
        """Each candidate with the user's edits (kind, API address) and whether it is ticked."""
        out = []
        for i, c in enumerate(self.candidates):
            item = self.tree.topLevelItem(i)
            if item is None:
                continue
            ticked = c.importable and item.checkState(0) == Qt.CheckState.Checked
            kind_box = self.tree.itemWidget(item, 2)
            api_field = self.tree.itemWidget(item, 3)
            if isinstance(kind_box, QComboBox):
                c = replace(c, kind=CredentialKind(kind_box.currentData()))
            if isinstance(api_field, QLineEdit):
                c = replace(c, api_url=api_field.text().strip())
            out.append((c, ticked))
        return out

    def _sync(self) -> None:
        count = sum(ticked for _c, ticked in self.rows())
        self.import_button.setText(f"Import {count}" if count else "Import")
        self.import_button.setEnabled(count > 0 and not self.tasks.running("import"))

    def import_selected(self) -> asyncio.Task[None]:
        return self.tasks.start("import", self._import())

    async def _import(self) -> None:
        chosen = [c for c, ticked in self.rows() if ticked]
        if not chosen:
            return
        try:
            report = await adopt(self.accounts, chosen)
        except SettingsError as exc:
            self.status.show_text(html.escape(str(exc)), "bad")
            return
        self.imported.emit(report.in_words(), report.added[0] if report.added else "")
        # accept() cancels this dialog's tasks, this one included: close after it has ended
        QTimer.singleShot(0, self.accept)


def open_preview(
    accounts: Accounts,
    backend: ConnectBackend,
    parent: QWidget,
    on_imported: Callable[[str, str], None],
) -> ImportDialog:
    """Open the preview over `parent` and start finding logins; `on_imported` gets the report."""
    dialog = ImportDialog(accounts, backend, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.imported.connect(on_imported)
    dialog.open()
    dialog.load()
    return dialog
