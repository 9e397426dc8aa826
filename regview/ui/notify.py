"""Tell the user a long job finished while regview's window was in the background.

    JobNotifier(window)
        notify(title, text) -> str       "" when the window is active (the user sees it anyway),
                                         "tray" for a desktop notification (QSystemTrayIcon),
                                         "alert" where there is no tray: the taskbar entry asks
                                         for attention and the status bar says it
        watch_deletions(flow)            a finished deletion run (bulk delete, policy run) notifies
    deletion_summary(report) -> (title, text)

The tray icon exists only while a message shows (no permanent icon in the user's tray); clicking
the message brings the window back.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QSystemTrayIcon, QWidget

from regview.log import get_logger

log = get_logger("ui.notify")
MESSAGE_MS = 10_000


def deletion_summary(report: Any) -> tuple[str, str]:
    repository = getattr(getattr(report, "plan", None), "repository", "") or "the repository"
    parts = [f"{len(report.deleted):,} deleted"]
    if report.failed:
        parts.append(f"{len(report.failed):,} failed")
    if report.not_started:
        parts.append(f"{len(report.not_started):,} not started")
    if getattr(report, "stopped", ""):  # the registry stopped answering: not finished
        parts.append("the registry stopped answering: resume it from the recycle bin")
        return f"Deletion stopped: {repository}", ", ".join(parts)
    state = "cancelled" if report.cancelled else "finished"
    return f"Deletion {state}: {repository}", ", ".join(parts)


class JobNotifier(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.tray: QSystemTrayIcon | None = None
        self._hide = QTimer(self)
        self._hide.setSingleShot(True)
        self._hide.setInterval(MESSAGE_MS + 2000)
        self._hide.timeout.connect(self._hide_tray)

    def watch_deletions(self, flow: Any) -> None:
        flow.finished.connect(lambda report: self.notify(*deletion_summary(report)))

    def notify(self, title: str, text: str) -> str:
        if self.window.isActiveWindow():
            return ""
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self.tray is None:
                self.tray = QSystemTrayIcon(self.window.windowIcon(), self)
                self.tray.setToolTip("regview")
                self.tray.messageClicked.connect(self._bring_back)
                self.tray.activated.connect(lambda _reason: self._bring_back())
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS)
            self._hide.start()
            log.info("notified: %s (%s)", title, text)
            return "tray"
        QApplication.alert(self.window)  # taskbar/dock attention, where the desktop has one
        if isinstance(self.window, QMainWindow):
            self.window.statusBar().showMessage(f"{title} — {text}", MESSAGE_MS)
        log.info("no system tray; taskbar alert: %s (%s)", title, text)
        return "alert"

    def _hide_tray(self) -> None:
        if self.tray is not None:
            self.tray.hide()

    def _bring_back(self) -> None:
        self._hide_tray()
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
