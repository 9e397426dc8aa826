"""The environment failed vs. we have a bug (habit 2), as the window shows them.

describe(exc) -> Problem | None     a Problem for environment failures (registry refused,
                                    network down, keyring locked, bad filter…); None for a
                                    bug, which goes to the crash dialog instead
Problem(title, message, fix, action)   `action` names a way out the window offers:
                                    "trust-ca", "tokens", "add-path", "retry" or ""
ErrorBanner(QWidget)                an inline banner above the view where it happened
                                    (signals: actionRequested(str), dismissed())
CrashDialog(exc_info)               the traceback, copyable, for bug reports
install_excepthook(parent_getter)   uncaught exceptions → CrashDialog (nothing is lost:
                                    the window stays open)
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from regview.core import errors as E
from regview.log import get_logger, logfile, redact
from regview.settings.errors import SettingsError
from regview.ui.links import LinkError
from regview.ui.models.filtering import FilterError
from regview.ui.theme import set_colours, warning_colours

log = get_logger("ui.errors")

ACTION_LABELS = {
    "trust-ca": "Trust a CA file…",
    "tokens": "Manage tokens…",
    "add-path": "Add repository path…",
    "retry": "Retry",
    "trash": "Open recycle bin…",
    "replace": "Replace token…",
}


@dataclass(frozen=True, slots=True)
class Problem:
    title: str
    message: str
    fix: str = ""
    action: str = ""

    def text(self) -> str:
        message = self.message.strip()
        if self.fix and message and message[-1] not in ".!?…":
            message += "."  # the message and the fix are two sentences
        return f"{message} {self.fix}".strip()


def describe(exc: BaseException) -> Problem | None:
    """Words for an environment failure; None means "this is a bug"."""
    if isinstance(exc, E.CertificateNotTrusted):
        return Problem(
            "Certificate not trusted",
            exc.message,
            "Choose the PEM certificate of your organisation's CA with the button on the right.",
            "trust-ca",
        )
    if isinstance(exc, E.CatalogRefused):
        return Problem(
            "The registry will not list its repositories",
            exc.message,
            "Add the repository paths you use by hand (or connect through the GitLab API).",
            "add-path",
        )
    if isinstance(exc, E.DeployTokenNoAPI):
        return Problem("Deploy tokens cannot use the GitLab API", exc.message, "", "add-path")
    if isinstance(exc, E.AuthenticationFailed) or (
        isinstance(exc, E.GitLabAPIError) and exc.status == 401
    ):  # GitLab's API answers 401 for a wrong, expired or revoked token, as the registry does
        return Problem(
            "Sign-in failed",
            exc.message,
            "Replace the password or token in Manage tokens.",
            "tokens",
        )
    if isinstance(exc, E.AccessDenied):
        return Problem(
            "This credential may not do that here",
            exc.message,
            "Signing in worked; use a credential with that scope or role (Manage tokens).",
            "tokens",
        )
    if isinstance(exc, E.NotARegistry) or (
        isinstance(exc, E.ProtocolError) and E.HTML_HINT in exc.message
    ):
        return Problem(
            "This address is not a registry",
            exc.message,
            "A registry's API often has its own host (GitLab: registry.<your GitLab host>), "
            "not the web page you sign in to: add the registry again with that address.",
            "",
        )
    if isinstance(exc, E.ProtocolError):
        return Problem("The registry sent something regview cannot read", exc.message, "", "")
    if isinstance(exc, E.ConnectionFailed | E.ServerError | E.TooManyRequests):
        return Problem("Registry not reachable", exc.message, "", "retry")
    if isinstance(exc, E.RegistryError):
        return Problem("The registry refused", exc.message, "", "")
    if isinstance(exc, SettingsError):
        return Problem("Settings problem", str(exc), "", "")
    if isinstance(exc, FilterError | LinkError):
        return Problem("Cannot use that", str(exc), "", "")
    if isinstance(exc, OSError):
        return Problem("File or network error", redact(str(exc)), "", "")
    return None


class ErrorBanner(QWidget):
    """A dismissible banner: what happened, how to fix it, and a button for the fix."""

    actionRequested = Signal(str)
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAutoFillBackground(True)
        self._action = ""
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.button = QPushButton()
        self.button.clicked.connect(lambda: self.actionRequested.emit(self._action))
        row.addWidget(self.button)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        row.addWidget(close)
        self.hide()

    def show_problem(self, problem: Problem) -> None:
        set_colours(self, warning_colours)
        self.label.setText(f"<b>{_esc(problem.title)}</b> — {_esc(problem.text())}")
        self._action = problem.action
        self.button.setVisible(bool(problem.action))
        self.button.setText(ACTION_LABELS.get(problem.action, ""))
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CrashDialog(QDialog):
    def __init__(self, exc_info: ExcInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("regview hit a bug")
        self.resize(720, 460)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "<b>Something went wrong inside regview.</b> This is a bug, not a problem with "
            "your registry. Nothing was deleted or changed because of it; the window stays "
            "open. Please copy the details below into a bug report."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        written = logfile()
        self.where = QLabel(
            f"The details were also written to the log: {written}"
            if written is not None
            else "No log file is configured: copy the details before closing."
        )
        self.where.setWordWrap(True)
        self.where.setTextFormat(Qt.TextFormat.PlainText)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.where)
        self.details = QPlainTextEdit(redact("".join(traceback.format_exception(*exc_info))))
        self.details.setReadOnly(True)
        layout.addWidget(self.details, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.details.toPlainText())
        )
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def install_excepthook(parent: Callable[[], QWidget | None]) -> None:
    """Uncaught exceptions in Qt slots and callbacks: log, then show them (once at a time).

    The dialog opens without a nested event loop (`open()`, not `exec()`): the hook also runs
    inside asyncio's exception handler, and a second loop spun from there re-entered the
    running one. The hook returns at once; the dialog stays until closed.
    """
    showing = False

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        nonlocal showing
        log.error("uncaught exception", exc_info=(kind, value, tb))
        if showing or QGuiApplication.instance() is None:
            return
        showing = True
        dialog = CrashDialog((kind, value, tb), parent())

        def closed() -> None:
            nonlocal showing
            showing = False
            dialog.deleteLater()  # a parentless dialog would stay a top-level widget for good

        dialog.finished.connect(closed)
        dialog.open()

    sys.excepthook = hook
