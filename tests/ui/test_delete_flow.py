"""Deleting from the app against the embedded registry over loopback, with real widgets:
drag-select → Del → confirmation with the blast radius → progress → results → the tags are gone
over HTTP (siblings still resolve) → recycle bin → Restore → the tags are back, same digests."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from delete_support import SCHEMES, confirm_with_del, demo_repository, head_digest, shot, until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterSpec
from regview.ui.pages.trash_view import TrashView

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/infra/ci-runner"


def _drag(qtbot: QtBot, view: Any, first: int, last: int) -> None:
    vp = view.table.viewport()

    def at(r: int) -> Any:
        return view.table.visualRect(view.model.index(r, tm.TAG)).center()

    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(first))
    for r in range(first + 1, last + 1):
        qtbot.mouseMove(vp, at(r))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(last))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_drag_select_delete_results_restore(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with demo_repository(qtbot, qloop, qapp, tmp_path, scheme, REPO) as (url, window):
        view = window.tags_view
        assert view.delete.isEnabled()  # the flow attached its handler
        # release tags share their manifest with a commit tag (and sometimes mr-/feature- tags)
        view.set_spec(FilterSpec(text=r"v\d+\.\d+\.\d+", regex=True))
        assert view.model.rowCount() >= 3
        before = {t.tag: t.digest for t in view.model.rows}
        _drag(qtbot, view, 0, 2)
        assert view.selected_rows() == [0, 1, 2]
        chosen = [t.tag for t in view.selected_tags()]
        siblings = sorted(
            t for t, d in before.items() if t not in chosen and d in {before[c] for c in chosen}
        )
        assert siblings, "each release shares its manifest with its commit tag"

        dialog = confirm_with_del(qtbot, qloop, window)
        # the plan: exactly the chosen tags, the siblings named as staying, bytes + GC note
        assert sorted(a.tag for a in dialog.plan.tag_actions) == sorted(chosen)
        assert sorted(dialog.affected_tags()) == siblings
        assert all(s in dialog.blast_label.text() for s in siblings[:8])
        assert "garbage collection" in dialog.gc_note.text()
        assert not dialog.needs_typed_confirmation and not dialog.confirm_row.isVisible()
        assert dialog.delete_button.isEnabled()
        assert head_digest(url, REPO, chosen[0]) == before[chosen[0]]  # nothing happened yet
        dialog.resize(900, 620)
        dialog.tabs.setCurrentIndex(1)
        shot(qloop, dialog, tmp_path, "delete-confirm", scheme)
        dialog.tabs.setCurrentIndex(0)

        progress: list[DeleteProgressDialog] = []
        window.delete_flow.progressShown.connect(progress.append)
        qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
        results = progress[0]
        assert results.report is not None and results.report.ok
        entries = results.log_entries()
        assert {e["name"] for e in entries if e["kind"] == "tag"} == set(chosen)
        assert all(e["outcome"] == "deleted" for e in entries)
        assert results.close_button.isVisible() and not results.retry_button.isVisible()
        results.export_log(tmp_path / "log.json", "json")
        results.export_log(tmp_path / "log.csv", "csv")
        logged = json.loads((tmp_path / "log.json").read_text())
        assert len(logged["items"]) == len(entries)
        # header, one row per item, then the totals rows
        csv_lines = len(entries) + 1 + len(results.totals())
        assert (tmp_path / "log.csv").read_text().count("\n") == csv_lines
        results.resize(860, 520)
        shot(qloop, results, tmp_path, "delete-results", scheme)

        # over HTTP: the chosen tags are gone, every other tag still has its digest
        for t in chosen:
            assert head_digest(url, REPO, t) is None
        for t in siblings:
            assert head_digest(url, REPO, t) == before[t]
        # the view dropped exactly those rows (mutation broadcast, no reload)
        left = {t.tag for t in view.model.rows}
        assert not left & set(chosen) and set(siblings) <= left
        results.accept()

        # recycle bin → Restore → back with the old digests
        trash = window.open_trash()
        assert isinstance(trash, TrashView)
        run(qloop, until(lambda: trash.entries_model.rowCount() == 1))
        assert trash.restore_button.isEnabled()
        assert trash.items_model.rowCount() == len(chosen)
        trash.resize(940, 560)
        shot(qloop, trash, tmp_path, "trash", scheme)
        done: list[list[Any]] = []
        trash.restoreFinished.connect(done.append)
        qtbot.mouseClick(trash.restore_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(done)))
        assert all(r.restored for r in done[0]), [r.reason for r in done[0]]
        for t in chosen:
            assert head_digest(url, REPO, t) == before[t]
        run(qloop, until(lambda: set(chosen) <= {t.tag for t in view.model.rows}))
        states = {trash.items_model.record_at(r).cells[2] for r in range(len(chosen))}
        assert states == {"restored"}
        # the entry still says how many tags the run held (it said "0" once all were back)
        run(qloop, until(lambda: trash.entries_model.record_at(0).cells[3] == "restored"))
        assert trash.entries_model.record_at(0).cells[2] == f"{len(chosen):,}"
        trash.accept()
        run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
        window.close()


def test_results_dialog_says_what_its_recycle_bin_restored(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path
) -> None:
    """Found walking the app: after a restore started from the results dialog's "Recycle
    bin…", the dialog still listed "✓ deleted" for the tags that were back."""
    from PySide6.QtWidgets import QApplication

    with demo_repository(qtbot, qloop, qapp, tmp_path, SCHEMES[0], REPO) as (url, window):
        view = window.tags_view
        view.set_spec(FilterSpec(text=r"v\d+\.\d+\.\d+", regex=True))
        chosen = [t.tag for t in view.model.rows[:2]]
        before = {t: head_digest(url, REPO, t) for t in chosen}
        shown: list[DeleteDialog] = []
        progress: list[DeleteProgressDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)
        window.delete_flow.progressShown.connect(progress.append)
        window.delete_flow.delete_tags("demo", REPO, chosen)
        run(qloop, until(lambda: bool(shown)))
        qtbot.mouseClick(shown[0].delete_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
        results = progress[0]
        assert all(results.status_of(f"tag:{t}") == "deleted" for t in chosen)
        assert results.trash_button.isVisible()
        qtbot.mouseClick(results.trash_button, Qt.MouseButton.LeftButton)
        (trash,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, TrashView)]
        run(
            qloop,
            until(lambda: trash.entries_model.rowCount() >= 1 and trash.restore_button.isEnabled()),
        )
        done: list[Any] = []
        trash.restoreFinished.connect(done.append)
        qtbot.mouseClick(trash.restore_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(done)))
        assert all(head_digest(url, REPO, t) == before[t] for t in chosen)  # really back
        run(qloop, until(lambda: set(chosen) <= {t.tag for t in view.model.rows}))
        for t in chosen:
            assert results.status_of(f"tag:{t}") == "restored"
            row = results.model.row_of(f"tag:{t}")
            assert row is not None
            assert "restored" in results.model.record_at(row).cells[0]
            assert results.model.record_at(row).cells[0] != "✓ deleted"
        assert "restored since" in results.title.text().lower()
        assert results.unfinished() == 0  # nothing for "Finish the run" to redo
        results.resize(860, 420)
        shot(qloop, results, tmp_path, "delete-results-restored", SCHEMES[0])
        trash.accept()
        results.accept()
        run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
        window.close()
