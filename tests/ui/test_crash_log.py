"""An uncaught exception in the GUI (issue 10, build item 6): the traceback goes to the log file
configured at start-up, with secrets masked, and the crash dialog says where that file is."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from regview import log
from regview.ui.errors import CrashDialog, install_excepthook

pytestmark = pytest.mark.ui
TOKEN = "glpat-" + "Zq8vN2xLm4Kp7RtY1wEa"


def test_crash_goes_to_the_log_and_the_dialog_says_where(qapp: Any, tmp_path: Path) -> None:
    previous = sys.excepthook
    path = log.configure(log_dir=tmp_path / "log")
    seen: list[str] = []
    try:
        assert path == tmp_path / "log" / "regview.log"
        install_excepthook(lambda: None)

        def close_dialog() -> None:
            dialog = QApplication.activeModalWidget()
            if isinstance(dialog, CrashDialog):
                seen.append(dialog.where.text())
                seen.append(dialog.details.toPlainText())
                dialog.reject()

        QTimer.singleShot(0, close_dialog)  # (also closes a dialog run by a nested exec())
        try:
            raise RuntimeError(f"a bug while reading private-token: {TOKEN}")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())  # returns at once: no nested event loop
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            QApplication.processEvents()
            close_dialog()
    finally:
        log.unconfigure()
        sys.excepthook = previous
        for widget in QApplication.topLevelWidgets():  # not left for the next test to find
            if isinstance(widget, CrashDialog):
                shiboken6.delete(widget)
    written = path.read_text(encoding="utf-8")
    assert "uncaught exception" in written and "Traceback" in written
    assert "RuntimeError: a bug while reading private-token: ***" in written
    assert TOKEN not in written
    assert seen and str(path) in seen[0]
    assert TOKEN not in seen[1]


def test_the_crash_dialog_does_not_spin_a_nested_event_loop(qapp: Any) -> None:
    """The hook also runs inside asyncio's exception handler: it must return while the dialog
    is open, not run `exec()` (a second event loop re-entering the running one)."""
    previous = sys.excepthook
    nested: list[bool] = []

    def inside_a_loop() -> None:  # fires only if an event loop runs inside the hook
        nested.append(True)
        if isinstance(dialog := QApplication.activeModalWidget(), CrashDialog):
            dialog.reject()  # (the old exec() would otherwise wait for good)

    QTimer.singleShot(0, inside_a_loop)
    try:
        install_excepthook(lambda: None)
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        assert not nested, "the hook ran an event loop of its own"
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog)]
        assert shown and shown[0].isVisible()
        shown[0].reject()
        QApplication.processEvents()
        # closed: the next bug gets its dialog again
        try:
            raise ValueError("another bug")
        except ValueError:
            sys.excepthook(*sys.exc_info())
        again = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, CrashDialog) and w.isVisible()
        ]
        assert len(again) == 1 and "another bug" in again[0].details.toPlainText()
        again[0].reject()
    finally:
        sys.excepthook = previous
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, CrashDialog):
                shiboken6.delete(widget)
