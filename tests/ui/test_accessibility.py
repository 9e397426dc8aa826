"""Every interactive control of the main window and of each dialog has a name a screen reader
can read (its accessible name, a label buddy, or its own text)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from accessibility_support import accessible_name, unexposed_headers, unnamed_controls
from delete_support import three_tag_facts
from gallery_support import finished_deletion, import_logins
from PySide6.QtWidgets import QDialog, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from window_support import close_window, local_window

from regview.core.deletion.plan import (
    Selection,
    make_plan,
)
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.policy_editor import PolicyEditor
from regview.ui.dialogs.tokens_dialog import TokensDialog
from regview.ui.pages.trash_view import TrashView
from regview.ui.visibility import VisibilityDialog

pytestmark = [pytest.mark.ui]
OCI = "application/vnd.oci.image.manifest.v1+json"


def test_the_walk_finds_an_unnamed_control(qtbot: QtBot) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    edit = QLineEdit(root)
    assert unnamed_controls(root) == [unnamed_controls(root)[0]]
    edit.setAccessibleName("Filter")
    assert unnamed_controls(root) == [] and accessible_name(edit) == "Filter"


def test_main_window_and_every_dialog_name_their_controls(
    qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    window = local_window(qtbot, tmp_path)
    qloop.run_until_complete(window.start())
    try:
        problems = {"main window": unnamed_controls(window) + unexposed_headers(window)}
        bar = window.tags_view.filter_bar
        # a name in words, not the control's current text (".*", "Any age")
        assert accessible_name(bar.regex) == "Regular expression"
        # combo boxes: Qt on Linux reads the current text as the name (the label goes through
        # relations); Windows and macOS read the accessible name
        assert bar.age.accessibleName() == "Age filter"
        assert bar.platform.accessibleName() == "Platform filter"
        facts = three_tag_facts()
        flow = window.delete_flow
        dialogs: list[QDialog] = [
            AddRegistryDialog(window.accounts, window.backend, window),
            TokensDialog(window.accounts, window.backend, window),
            window.menus.show_shortcuts(),
            window.menus.show_about(),
            TrashView(flow, window),
            VisibilityDialog(flow, "reg", "team/app", window),
            DeleteDialog(make_plan(facts, Selection.of_tags(["t0"])), parent=window),
            PolicyEditor(flow, "reg", "team/app", facts, parent=window),
            finished_deletion(window),
            import_logins(window),
        ]
        for dialog in dialogs:
            dialog.show()
            problems[type(dialog).__name__] = unnamed_controls(dialog) + unexposed_headers(dialog)
        unnamed = {k: v for k, v in problems.items() if v}
        assert unnamed == {}, "\n".join(f"{k}: {x}" for k, v in unnamed.items() for x in v)
    finally:
        close_window(qloop, window)
