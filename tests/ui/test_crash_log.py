"""An uncaught exception in the GUI (issue 10, build item 6): the traceback goes to the log file
configured at start-up, with secrets masked, and the crash dialog says where that file is."""

from __future__ import annotations

import sys
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

        QTimer.singleShot(50, close_dialog)
        try:
            raise RuntimeError(f"a bug while reading private-token: {TOKEN}")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
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
