"""Ctrl+? (Ctrl+Shift+/) opens the keyboard shortcuts list, as in GNOME and KDE applications
(GTK's ShortcutsWindow accelerator); walking the app, only F1 and Help › Keyboard shortcuts did.
A real key press on a real X server (Xvfb, xdotool) in a child process: the offscreen platform's
key mapper does not turn Ctrl+Shift+/ into Ctrl+? as X11's does, so it would prove nothing."""

from __future__ import annotations

import pytest
from testkit import require_tool
from xvfb_support import run_on_xvfb

pytestmark = [pytest.mark.ui]

CHILD = r"""
import asyncio, subprocess, sys, tempfile
from pathlib import Path
import qasync
from PySide6.QtWidgets import QApplication
app = QApplication([])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
from connect_support import MemoryKeyring, make_accounts
from regview.paths import default_paths
from regview.services.sessions import SessionManager
from regview.ui.dialogs.shortcuts_dialog import ShortcutsDialog
from regview.ui.local_mode import LocalMode
from regview.ui.window.main_window import MainWindow
tmp = Path(tempfile.mkdtemp())
accounts = make_accounts(tmp, MemoryKeyring())
local = LocalMode(accounts, default_paths(tmp / "base"))
window = MainWindow(accounts, SessionManager(accounts), local)
window.show()
window.activateWindow()

async def press() -> None:
    await window.start()
    await asyncio.sleep(0.5)
    window.activateWindow()
    await asyncio.sleep(0.2)
    subprocess.run([sys.argv[1], "key", "--clearmodifiers", "ctrl+shift+slash"], check=True)
    for _ in range(50):
        await asyncio.sleep(0.1)
        if any(d.isVisible() for d in window.findChildren(ShortcutsDialog)):
            break
    shown = any(d.isVisible() for d in window.findChildren(ShortcutsDialog))
    print("shortcuts-dialog", "shown" if shown else "not shown")
    await window.aclose()
    await local.stop()

loop.run_until_complete(asyncio.wait_for(press(), 60))
"""


def test_ctrl_question_mark_opens_the_shortcuts_list_under_x11() -> None:
    out = run_on_xvfb(CHILD, require_tool("xdotool"), timeout=90)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "shortcuts-dialog shown" in out.stdout.splitlines(), out.stdout + out.stderr[-2000:]
