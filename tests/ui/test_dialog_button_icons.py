"""Dialog buttons look alike: under X11 the platform theme put an icon on a button box's
standard buttons only — Cancel had one, "Add registry" and "Test" beside it none (found walking
the app under Xvfb). The offscreen platform never asks for icons, so this runs on a real X
server (Xvfb) in a child process."""

from __future__ import annotations

import pytest
from xvfb_support import run_on_xvfb

pytestmark = [pytest.mark.ui]

CHILD = r"""
import asyncio, tempfile
from pathlib import Path
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QStyle
app = QApplication([])
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
hint = QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons
print("platform-theme-wants-icons", app.style().styleHint(hint))
from regview.ui.theme import apply_theme
apply_theme(app, "light")
from connect_support import MemoryKeyring, make_accounts
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
dialog = AddRegistryDialog(make_accounts(Path(tempfile.mkdtemp()), MemoryKeyring()))
dialog.show()
app.processEvents()
for button in dialog.findChildren(QDialogButtonBox)[0].buttons():
    print("button", button.text().replace("&", ""), "icon" if not button.icon().isNull() else "none")
loop.run_until_complete(dialog.tasks.aclose())
"""


def test_no_dialog_button_carries_an_icon_under_x11() -> None:
    out = run_on_xvfb(CHILD)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # the check means something only where the platform theme asks for icons
    assert "platform-theme-wants-icons 1" in lines, out.stdout
    buttons = [line for line in lines if line.startswith("button ")]
    assert {"button Add registry none", "button Cancel none"} <= set(buttons), buttons
