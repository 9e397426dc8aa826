"""First launch, nothing configured: three ways in.

    WelcomeView(accounts, local_mode=None, backend=None, parent=None)
        signals   connected(str)          a profile is ready: the main window opens it
                  busyChanged(bool)       the local registry is starting / has started
        methods   try_local() -> Task     *Try it with a local test registry* (one click)
                  await start_local() -> Profile   the same for `gui --local`, said on the page
                  add_registry()          *Add a registry*: opens AddRegistryDialog
                  import_logins() -> ImportDialog   *Import my docker logins*: a preview

The main window embeds it as its central widget while no profile exists and swaps it out on
`connected`. The local registry is the app's `LocalMode`; pass the app's one so shutdown stops it.
"""

from __future__ import annotations

import asyncio
import html

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from regview.server.errors import StoreError
from regview.services.accounts import Accounts
from regview.services.async_utils import TaskOwner
from regview.services.connect import ConnectBackend, CoreBackend
from regview.settings.errors import SettingsError
from regview.settings.profiles import Profile
from regview.ui.dialogs.connect.cards import _Card, _secondary
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.import_dialog import ImportDialog, open_preview
from regview.ui.icon import app_icon
from regview.ui.local_mode import LocalMode
from regview.ui.theme import set_sheet

WIDTH = 580


class ActionButton(QPushButton):
    """A large button with a title and a wrapped description (QCommandLinkButton clips it)."""

    def __init__(
        self, title: str, description: str, icon: QStyle.StandardPixmap, width: int
    ) -> None:
        super().__init__()
        self.setAccessibleName(title)
        self.setAccessibleDescription(description)
        self.setToolTip(description)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(14)
        glyph = QLabel()
        glyph.setPixmap(self.style().standardIcon(icon).pixmap(QSize(32, 32)))
        glyph.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(glyph)
        text = QVBoxLayout()
        text.setSpacing(3)
        heading = QLabel(title)
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        heading.setFont(font)
        detail = _secondary(QLabel(description))
        detail.setFixedWidth(width - 16 * 2 - 32 - 14)
        text.addWidget(heading)
        text.addWidget(detail)
        layout.addLayout(text, 1)
        for label in (glyph, heading, detail):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFixedWidth(width)
        self.setMinimumHeight(layout.totalHeightForWidth(width))
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        set_sheet(
            self,
            "ActionButton { text-align: left; border: 1px solid palette(mid); border-radius: 8px;"
            " background: palette(base); }"
            "ActionButton:hover { border-color: palette(highlight); }"
            "ActionButton:focus { border: 2px solid palette(highlight); }"
            "ActionButton:pressed { background: palette(alternate-base); }",
        )


STARTING = "Starting the local test registry and filling it with demo images …"


class WelcomeView(QWidget):
    connected = Signal(str)
    busyChanged = Signal(bool)

    def __init__(
        self,
        accounts: Accounts,
        local_mode: LocalMode | None = None,
        backend: ConnectBackend | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.local_mode = local_mode if local_mode is not None else LocalMode(accounts)
        self.backend = backend
        self.tasks = TaskOwner()
        self._build()

    def _build(self) -> None:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        column = QWidget()
        column.setFixedWidth(WIDTH + 20)
        col = QVBoxLayout(column)
        col.setSpacing(10)
        col.setContentsMargins(10, 0, 10, 0)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(96, 96)))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(logo)
        title = QLabel("Welcome to regview")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(title)
        subtitle = _secondary(
            QLabel(
                "See what your container registries store — every tag, digest, size and age — "
                "and prune them safely. Nothing is set up yet; pick a way in."
            )
        )
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(subtitle)
        col.addSpacing(14)

        sp = QStyle.StandardPixmap
        self.local_button = ActionButton(
            "Try it with a local test registry",
            "Starts regview's own registry on this computer, filled with demo images, and "
            "connects to it. Nothing leaves your machine.",
            sp.SP_ComputerIcon,
            WIDTH,
        )
        self.add_button = ActionButton(
            "Add a registry",
            "GitLab, Docker Hub, GitHub, Harbor or any OCI registry: regview checks the "
            "address and what your token can do.",
            sp.SP_DriveNetIcon,
            WIDTH,
        )
        self.import_button = ActionButton(
            "Import my docker logins",
            "Use the logins you already made with docker login or podman login; the secrets "
            "go to your keyring.",
            sp.SP_DialogOpenButton,
            WIDTH,
        )
        self.local_button.clicked.connect(self.try_local)
        self.add_button.clicked.connect(self.add_registry)
        self.import_button.clicked.connect(self.import_logins)
        for button in (self.local_button, self.add_button, self.import_button):
            col.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setVisible(False)
        col.addWidget(self.progress)
        self.status = _Card()
        col.addWidget(self.status)

        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        # a short window (1024x700 with a large font) scrolls to the last card instead of
        # cutting it off
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        own = QVBoxLayout(self)
        own.setContentsMargins(0, 0, 0, 0)
        own.addWidget(scroll)

    def _busy(self, on: bool) -> None:
        self.progress.setVisible(on)
        for button in (self.local_button, self.add_button, self.import_button):
            button.setEnabled(not on)
        self.busyChanged.emit(on)

    # ------------------------------------------------------------------ actions
    def try_local(self) -> asyncio.Task[None]:
        self._busy(True)  # at once: the click must not start a second registry
        return self.tasks.start("local", self._try_local())

    async def start_local(self) -> Profile:
        """Start the local test registry for `regview gui --local`, saying so on this page
        (it showed "Nothing is set up yet" for the 15–25 s the start takes, with no hint);
        the buttons wait meanwhile. Errors propagate to the caller."""
        self._busy(True)
        self.status.show_text(STARTING, "neutral")
        try:
            profile = await self.local_mode.start()
        except BaseException:
            self.status.show_text("", "neutral")
            raise
        finally:
            self._busy(False)
        self.status.show_text(
            f"<b>{html.escape(profile.name)}</b> is running at {html.escape(profile.url)}.", "good"
        )
        return profile

    async def _try_local(self) -> None:
        self.status.show_text(STARTING, "neutral")
        try:
            profile = await self.local_mode.start()
        except (StoreError, SettingsError, OSError) as exc:
            self.status.show_text(
                f"<b>The local test registry could not start.</b> {html.escape(str(exc))}", "bad"
            )
            return
        finally:
            self._busy(False)
        self.status.show_text(
            f"<b>{html.escape(profile.name)}</b> is running at {html.escape(profile.url)}.", "good"
        )
        self.connected.emit(profile.name)

    def add_registry(self) -> AddRegistryDialog:
        dialog = AddRegistryDialog(self.accounts, self.backend, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.registryAdded.connect(self.connected)
        dialog.open()
        return dialog

    def import_logins(self) -> ImportDialog:
        """The preview of the logins on this machine; the ticked ones are imported from there."""
        return open_preview(self.accounts, self.backend or CoreBackend(), self, self._imported)

    def _imported(self, words: str, first: str) -> None:
        # names and hosts come from docker/podman config files: text, not markup
        self.status.show_text(html.escape(words), "good" if first else "neutral")
        if first:
            self.connected.emit(first)
