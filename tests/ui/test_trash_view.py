"""The recycle bin without a network: an interrupted run (a killed app) is reported on open with
the state of each item; items whose manifest was never saved say they cannot be restored; a
restore for a registry with no profile says so in words."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts, run
from delete_support import until
from pytestqt.qtbot import QtBot

from regview.core.journal.journal import ItemState, Journal, JournalItem
from regview.paths import default_paths
from regview.services.sessions import SessionManager
from regview.ui.dialogs.delete.flow import DeleteFlow
from regview.ui.pages.trash_view import TrashView

pytestmark = [pytest.mark.ui]
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def open_view(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, journal: Journal
) -> TrashView:
    """The recycle bin over `journal`, once it shows its one entry."""
    accounts = make_accounts(tmp_path, MemoryKeyring())
    view = TrashView(DeleteFlow(SessionManager(accounts), None, journal))
    qtbot.addWidget(view)
    view.show()
    run(qloop, until(lambda: view.entries_model.rowCount() == 1))
    return view


def test_interrupted_run_is_reported_and_unrestorable_items_say_why(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    journal = Journal(default_paths())
    items = [
        JournalItem("tag:v1", "tag", "v1", D1, "application/vnd.oci.image.manifest.v1+json"),
        JournalItem("tag:v2", "tag", "v2", D2, "application/vnd.oci.image.manifest.v1+json"),
        JournalItem("tag:v3", "tag", "v3", D2, "application/vnd.oci.image.manifest.v1+json"),
    ]
    writer = journal.begin("gone.example:5000", "team/app", items)
    writer.save_manifest(D1, "application/vnd.oci.image.manifest.v1+json", b"{}")
    writer.started("tag:v1")
    writer.outcome("tag:v1", ItemState.DELETED)
    writer.started("tag:v2")  # ... and the process died here: no outcome, never closed
    assert writer._fd is not None
    os.close(writer._fd)  # (a dead process's descriptor, and the run's lock, go with it)
    del writer

    view = open_view(qtbot, qloop, tmp_path, journal)
    assert view.pending_banner.isVisible()
    assert "did not finish" in view.pending_banner.text()
    assert view.entries_model.record_at(0).cells[3] == "interrupted"
    states = {
        view.items_model.record_at(r).cells[0]: view.items_model.record_at(r)
        for r in range(view.items_model.rowCount())
    }
    assert states["v1"].cells[2] == "deleted"
    assert states["v2"].cells[2] == "unknown"
    assert "not saved" in states["v2"].cells[3]  # started without its bytes saved
    assert states["v3"].cells[2] == "not deleted"
    assert view.restore_button.isEnabled()

    view.restore_selected()
    run(qloop, until(lambda: not view.tasks.running("restore")))
    assert "No registry profile for gone.example:5000" in view.summary.text()
    view.accept()


def test_a_run_going_on_now_is_running_not_interrupted_and_cannot_be_resumed(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    journal = Journal(default_paths())
    items = [JournalItem("tag:v1", "tag", "v1", D1, "application/vnd.oci.image.manifest.v1+json")]
    writer = journal.begin("reg.example:5000", "team/app", items, {"tags": []})
    writer.started("tag:v1")  # the run is going on (its writer, and lock, are held)
    view = open_view(qtbot, qloop, tmp_path, journal)
    assert view.entries_model.record_at(0).cells[3] == "running"
    assert not view.pending_banner.isVisible()
    assert not view.resume_button.isEnabled()
    writer.close("finished")
    view.accept()


def test_resume_without_a_profile_for_the_registry_says_so(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    journal = Journal(default_paths())
    items = [JournalItem("tag:v1", "tag", "v1", D1, "application/vnd.oci.image.manifest.v1+json")]
    plan = {"tags": [{"tag": "v1", "digest": D1, "method": "tag-delete"}], "manifests": []}
    writer = journal.begin("gone.example:5000", "team/app", items, plan)
    writer.outcome("tag:v1", ItemState.FAILED, "HTTP 503", "not-deleted", "read back: …")
    writer.close("finished")
    view = open_view(qtbot, qloop, tmp_path, journal)
    assert view.resume_button.isEnabled() and view.resume_button.text() == "Resume (1 left)"
    view.resume_selected()
    run(qloop, until(lambda: "Resume failed" in view.summary.text()))
    assert "No registry profile" in view.summary.text()
    assert "gone.example:5000" in view.summary.text()
    view.accept()


def test_a_run_that_changed_nothing_is_not_listed(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Issue 10 item 5: a finished run whose every item was skipped or refused has nothing to
    show or restore; the bin lists only the run that deleted something."""
    journal = Journal(default_paths())
    manifest = "application/vnd.oci.image.manifest.v1+json"
    empty = journal.begin(
        "r.example:5000", "team/app", [JournalItem("tag:v9", "tag", "v9", D2, manifest)]
    )
    empty.outcome("tag:v9", ItemState.SKIPPED, "the tag no longer exists (already deleted?)")
    empty.close("finished")
    real = journal.begin(
        "r.example:5000", "team/app", [JournalItem("tag:v1", "tag", "v1", D1, manifest)]
    )
    real.save_manifest(D1, manifest, b"{}")
    real.started("tag:v1")
    real.outcome("tag:v1", ItemState.DELETED)
    real.close("finished")
    assert {e.id for e in journal.entries()} == {empty.entry.id, real.entry.id}

    view = open_view(qtbot, qloop, tmp_path, journal)
    assert [view.entries_model.record_at(r).key for r in range(view.entries_model.rowCount())] == [
        real.entry.id
    ]
    view.accept()


def test_restore_with_the_registry_down_wraps_its_words_and_stays_on_screen(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Found walking the app: with the registry stopped, Restore said "Restore failed: … cannot
    reach the registry …" on one line and the dialog grew to 1792 px on a 1600 px screen, its
    buttons off it. The words wrap; the dialog never grows past the screen."""
    from testkit import free_port

    from regview.core.model import Endpoint
    from regview.settings.profiles import Profile

    port = free_port()  # nothing listens there: connection refused
    registry = f"127.0.0.1:{port}"
    accounts = make_accounts(tmp_path, MemoryKeyring())
    run(qloop, accounts.save(Profile.for_endpoint(Endpoint(url=f"http://{registry}"), name="down")))
    journal = Journal(default_paths())
    media = "application/vnd.oci.image.manifest.v1+json"
    items = [JournalItem("tag:v1", "tag", "v1", D1, media)]
    writer = journal.begin(registry, "acme/webshop/frontend-with-a-long-name", items)
    writer.save_manifest(D1, media, b"{}")
    writer.started("tag:v1")
    writer.outcome("tag:v1", ItemState.DELETED)
    writer.close("finished")
    view = TrashView(DeleteFlow(SessionManager(accounts), None, journal))
    qtbot.addWidget(view)
    view.show()
    run(qloop, until(lambda: view.entries_model.rowCount() == 1))
    screen = view.screen().availableGeometry()
    view.restore_selected()
    run(qloop, until(lambda: "Restore failed" in view.summary.text(), 60), 70)
    text = view.summary.text()
    assert "cannot reach the registry" in text
    assert len(text) * view.fontMetrics().averageCharWidth() > screen.width()  # a long line
    qapp_process(view)
    assert view.width() <= screen.width(), (view.width(), screen.width())
    assert view.minimumSizeHint().width() <= screen.width()
    for button in (view.restore_button, view.resume_button, view.refresh_button):
        right = button.mapTo(view, button.rect().topRight()).x()
        assert 0 < right <= view.width(), (button.text(), right, view.width())
    assert view.summary.wordWrap()
    assert view.restore_button.isEnabled()  # to try again once the registry is back
    view.grab().save(str(tmp_path / "trash-restore-down.png"))
    shots = os.environ.get("REGVIEW_SCREENSHOT_DIR")
    if shots:
        view.grab().save(str(Path(shots) / "trash-restore-down.png"))
    view.hide()  # qtbot closes it


def qapp_process(view: TrashView) -> None:
    """Let the layout settle (a grown minimum size resizes the window)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()
    view.layout().activate()
