"""High DPI and large fonts: every page of the main window and every dialog, at scale factors
1, 1.5 and 2 and with a large application font, shows its text whole (no clipped label, button
or check box, no wrapped text taller than its room, no row lower than a line) and fits a
1600×1000 screen (logical pixels); the main window opens within a smaller screen.

Each setting runs `dpi_sweep.py` in a process of its own: QT_SCALE_FACTOR and the offscreen
screen's size apply only when the application starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from regview.paths import default_paths
from regview.services.sessions import SessionManager
from regview.ui.local_mode import LocalMode
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui]
HERE = Path(__file__).resolve().parent
#: (scale factor, application font in points): 1.5 at a desktop's usual size, the others large
SETTINGS = [(1.0, 16.0), (1.5, 11.0), (2.0, 14.0)]


def test_main_window_opens_within_a_smaller_screen(qtbot: QtBot, tmp_path: Path) -> None:
    """It opened at 1360×820 whatever the screen (cut off on 1280×800); the offscreen test
    screen is 800×600."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    window = MainWindow(
        accounts, SessionManager(accounts), LocalMode(accounts, default_paths(tmp_path / "base"))
    )
    qtbot.addWidget(window)
    room = QApplication.primaryScreen().availableGeometry()
    assert window.width() <= room.width() and window.height() <= room.height()
    assert (window.width(), window.height()) != (1360, 820)


@pytest.mark.slow
@pytest.mark.parametrize(("scale", "points"), SETTINGS, ids=lambda v: f"{v:g}")
def test_every_page_and_dialog_shows_its_text_whole(
    tmp_path: Path, scale: float, points: float
) -> None:
    side = (round(1600 * scale), round(1000 * scale))  # 1600×1000 in logical pixels
    screen = tmp_path / "screen.json"
    screen.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "sweep",
                        "x": 0,
                        "y": 0,
                        "width": side[0],
                        "height": side[1],
                        "logicalDpiX": 96,
                        "logicalDpiY": 96,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
        "QT_SCALE_FACTOR": f"{scale:g}",
        "REGVIEW_SWEEP_FONT": f"{points:g}",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / "dpi_sweep.py"),
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'sweep'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    failures = [line for line in run.stdout.splitlines() if line.startswith("E ")]
    assert run.returncode == 0, "\n".join(failures) or run.stdout[-3000:] + run.stderr[-2000:]
