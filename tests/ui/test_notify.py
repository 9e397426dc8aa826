"""A deletion run that ends while the window is in the background says so: a desktop
notification where there is a system tray, else a taskbar alert and the status bar; nothing
when the window is active."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot
from window_support import close_window, local_window

from regview.core.deletion.executor import ExecutionReport, ItemResult, Outcome
from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.model import ArtifactKind, TagInfo
from regview.ui.notify import JobNotifier, deletion_summary

OCI = "application/vnd.oci.image.manifest.v1+json"


def _report() -> ExecutionReport:
    tags = tuple(
        TagInfo("team/app", f"t{i}", f"sha256:{i:064x}", OCI, ArtifactKind.IMAGE, size=9)
        for i in range(3)
    )
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    plan = make_plan(
        RepositoryFacts("reg.example", "team/app", tags, caps), Selection.of_tags(["t0", "t1"])
    )
    report = ExecutionReport(plan)
    report.results += [
        ItemResult("tag", "t0", "", Outcome.DELETED, "ok"),
        ItemResult("tag", "t1", "", Outcome.FAILED, "500"),
    ]
    return report


def test_summary_names_the_repository_and_counts() -> None:
    assert deletion_summary(_report()) == ("Deletion finished: team/app", "1 deleted, 1 failed")


def test_a_run_stopped_by_a_dead_registry_is_not_announced_as_finished() -> None:
    report = _report()
    report.stopped = "connection refused"
    title, text = deletion_summary(report)
    assert title == "Deletion stopped: team/app"
    assert text.startswith("1 deleted, 1 failed") and "resume it from the recycle bin" in text


def test_background_run_notifies_and_an_active_window_is_left_alone(qtbot: QtBot) -> None:
    window = QMainWindow()
    other = QWidget()
    qtbot.addWidget(window)
    qtbot.addWidget(other)
    notifier = JobNotifier(window)
    window.show()
    other.show()
    other.activateWindow()
    qtbot.waitUntil(other.isActiveWindow)
    assert not window.isActiveWindow()

    how = notifier.notify(*deletion_summary(_report()))
    if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
        assert how == "tray" and notifier.tray is not None and notifier.tray.isVisible()
    else:  # the offscreen platform has no tray: the fallback
        assert how == "alert"
        assert window.statusBar().currentMessage() == (
            "Deletion finished: team/app — 1 deleted, 1 failed"
        )

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.statusBar().clearMessage()
    assert notifier.notify("Deletion finished: x", "1 deleted") == ""
    assert window.statusBar().currentMessage() == ""


def test_the_main_windows_deletion_runs_are_watched(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = local_window(qtbot, tmp_path)
    qloop.run_until_complete(window.start())
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(other.isActiveWindow)
    notified: list[str] = []
    original = window.notifier.notify
    window.notifier.notify = lambda title, text: notified.append(original(title, text)) or ""  # type: ignore[method-assign]
    try:
        window.delete_flow.finished.emit(_report())
        assert notified and notified[0] in ("tray", "alert")
    finally:
        close_window(qloop, window)
