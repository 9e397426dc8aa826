"""The cleanup policy editor after Run now (issue 10 item 5), on the embedded registry's demo data
through the real main window: the preview is computed again on what is left (it kept saying "7 of
108" and a second run planned the deleted tags again — "skipped (already deleted?)"), the typed
rules survive closing the dialog, and a run that changed nothing is not listed in the recycle
bin."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import SCHEMES, head_digest, open_repo, open_window, shot, theme, until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from regview.core.deletion.plan_types import Selection
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.policy_editor import PolicyEditor
from regview.ui.pages.trash_view import TrashView

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/webshop/frontend"
PATTERN = "mr-.*"


def _retype(qtbot: QtBot, edit: Any, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def _confirm(dialog: DeleteDialog, qtbot: QtBot) -> None:
    if dialog.needs_typed_confirmation:
        qtbot.keyClicks(dialog.confirm_edit, str(len(dialog.plan.tag_actions)))
    dialog.delete_button.click()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_run_now_recomputes_keeps_rules_and_lists_no_empty_runs(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        flow = window.delete_flow
        editors: list[PolicyEditor] = []
        shown: list[DeleteDialog] = []
        reports: list[Any] = []
        flow.policyEditorShown.connect(editors.append)
        flow.confirmShown.connect(shown.append)
        flow.finished.connect(reports.append)
        try:
            open_repo(qloop, window, REPO)
            total = len(window.tags_view.model.rows)

            async def first_run() -> None:
                window.open_policy_editor()
                await until(lambda: bool(editors))
                editor = editors[0]
                await until(lambda: editor.preview is not None)
                _retype(qtbot, editor.delete_regex, PATTERN)
                editor.keep_n.setCurrentText("no limit")
                editor.older_than.setCurrentText("any age")
                await until(
                    lambda: (
                        editor.preview is not None
                        and bool(editor.preview.delete)
                        and all(d.tag.startswith("mr-") for d in editor.preview.delete)
                    )
                )

            run(qloop, first_run(), 60)
            editor = editors[0]
            assert editor.preview is not None
            victims = sorted(d.tag for d in editor.preview.delete)
            stale_facts = editor.facts
            assert editor.headline.text().startswith(f"{len(victims)} of {total} tags")

            async def run_now() -> None:
                qtbot.mouseClick(editor.run_button, Qt.MouseButton.LeftButton)
                await until(lambda: bool(shown))
                _confirm(shown[0], qtbot)
                await until(lambda: bool(reports), 60)
                await until(lambda: not editor.tasks.running("facts"), 30)
                await until(lambda: editor.preview is not None and not editor.preview.delete)

            run(qloop, run_now(), 120)
            assert head_digest(url, REPO, victims[0]) is None  # the run deleted them
            assert editor.headline.text().startswith(f"0 of {total - len(victims)} tags")
            assert not editor.run_button.isEnabled()  # nothing left to run
            editor.resize(1120, 700)
            shot(qloop, editor, tmp_path, "policy-after-run", scheme)

            # closing keeps the typed rules: the editor opened again shows them
            async def reopen() -> None:
                editor.reject()
                for w in qapp.topLevelWidgets():
                    if w is not window and w.isVisible() and not isinstance(w, PolicyEditor):
                        w.close()
                await asyncio.sleep(0.1)
                window.open_policy_editor()
                await until(lambda: len(editors) == 2)
                await until(lambda: editors[1].preview is not None)

            run(qloop, reopen(), 60)
            again = editors[1]
            assert again.delete_regex.text() == PATTERN
            assert again.keep_n.currentText() == "no limit"
            assert not again.run_button.isEnabled()

            # what the old editor's second run did: plan the deleted tags again on stale facts
            # (every item then "skipped (already deleted?)", an empty recycle-bin entry). A plan
            # revalidates the rows it is given (issue 18), so it now offers nothing to delete
            async def stale_run() -> None:
                again.reject()
                flow.run_selection(
                    "demo", REPO, Selection.of_tags(victims, "stale"), facts=stale_facts
                )
                await until(lambda: len(shown) == 2)

            run(qloop, stale_run(), 90)
            stale = shown[1]
            assert not stale.plan.tag_actions, [a.tag for a in stale.plan.tag_actions]
            assert not stale.delete_button.isEnabled()
            stale.reject()
            assert len(reports) == 1

            async def open_bin() -> TrashView:
                view = window.open_trash()
                await until(lambda: not view.tasks.running("load"))
                await until(lambda: view.entries_model.rowCount() > 0)
                return view

            trash = run(qloop, open_bin())
            keys = [
                trash.entries_model.record_at(r).key for r in range(trash.entries_model.rowCount())
            ]
            assert keys == [reports[0].journal_id], "the run that deleted nothing is listed"
            trash.resize(1000, 560)
            shot(qloop, trash, tmp_path, "trash-no-empty-runs", scheme)
        finally:

            async def close_all() -> None:
                for w in qapp.topLevelWidgets():
                    if w is not window and w.isVisible():
                        w.close()
                await asyncio.sleep(0.1)

            run(qloop, close_all())
            window.close()
            run(qloop, window.aclose())
