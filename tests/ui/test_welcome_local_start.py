"""`regview gui --local` says on the welcome page that the local test registry is starting:
walking the app, it showed "Nothing is set up yet; pick a way in" for the 15–25 s the start
took, with no hint, and a click on "Try it with a local test registry" meanwhile started a second
attempt. Run for real: the app's own start-up in a child process (offscreen, its own settings
folder), looked at while the registry starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import argparse, sys
from PySide6.QtCore import QTimer
import regview.app as app_module

seen = []

def look(window):
    def at_once():
        welcome = window.welcome
        if window.local_mode.running:
            return  # too late to see the start
        seen.append(
            (
                window.pages.currentWidget() is welcome,
                " ".join(welcome.status.label.text().split()),
                welcome.local_button.isEnabled(),
            )
        )
    QTimer.singleShot(0, at_once)

app_module._on_shown = look
args = argparse.Namespace(local=True, screenshot=sys.argv[1], link=None, url=None)
code = app_module.main(args)
for page_is_welcome, status, button in seen:
    print("welcome", page_is_welcome, "button", button, "status", status)
sys.exit(code)
"""


def test_gui_local_says_the_local_registry_is_starting(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REGVIEW_BASEDIR": str(tmp_path / "base"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "shot.png")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("welcome ")]
    assert lines, done.stdout  # the window was looked at while the registry started
    line = lines[0]
    assert "Starting the local test registry" in line, line
    assert "button False" in line, line  # no second start meanwhile
