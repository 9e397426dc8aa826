"""Issue 16 in the app, against the embedded registry over loopback with real widgets:

- a deletion behind a proxy that answers 503 to some DELETEs: the results dialog says which tags
  were not deleted, with the evidence (the tag read back at its planned digest), and "Finish the
  run" carries out the rest of the same plan once the registry answers again;
- a run killed with SIGKILL: the recycle bin shows it unfinished, "Resume" finishes it.
Screenshots: results-with-failures, results-resumed, trash-resume (tmp dir, and
$REGVIEW_SCREENSHOT_DIR).
"""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from delete_support import SCHEMES, head_digest, open_window, shot, theme, until
from fault_servers import refusing_proxy, serve
from kill_support import kill_after
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from tiny_images import seed_tiny_tags, snapshot

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Status
from regview.core.journal.journal import Journal
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.pages.trash_view import TrashView

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "team/app"


async def _seed(url: str, n: int) -> dict[str, str]:
    async with RegistryClient(Endpoint(url)) as client:
        await seed_tiny_tags(client, REPO, n)
        return await snapshot(client, REPO)


def _confirmed_deletion(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: Any, chosen: list[str]
) -> list[DeleteProgressDialog]:
    """Delete `chosen` through the window as a user does (confirm with a click); the progress
    dialogs shown so far (a resume adds one), once the first has its report."""
    flow = window.delete_flow
    shown: list[DeleteDialog] = []
    progress: list[DeleteProgressDialog] = []
    flow.confirmShown.connect(shown.append)
    flow.progressShown.connect(progress.append)
    flow.delete_tags("demo", REPO, chosen)
    run(qloop, until(lambda: bool(shown)))
    qtbot.mouseClick(shown[0].delete_button, Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
    return progress


@pytest.mark.parametrize("scheme", SCHEMES)
def test_results_dialog_tells_the_truth_then_finishes_the_run(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    refused = {"t0001", "t0004"}
    chosen = [f"t{i:04d}" for i in range(6)]
    with theme(qapp, scheme), LocalRegistry(tmp_path / "reg") as reg:
        before = run(qloop, _seed(reg.url, 8))
        with serve(lambda: refusing_proxy(reg.url, refused)) as url:
            window = open_window(qtbot, qloop, tmp_path, url)
            progress = _confirmed_deletion(qtbot, qloop, window, chosen)
            first = progress[0]
            for t in refused:
                assert first.status_of(f"tag:{t}") == str(Status.NOT_DELETED)
                row = first.model.row_of(f"tag:{t}")
                assert row is not None
                cells = first.model.record_at(row).cells
                assert cells[0] == "✗ not deleted" and "the planned digest" in cells[4], cells
                assert head_digest(reg.url, REPO, t) == before[t]  # the truth: unchanged
            for t in set(chosen) - refused:
                assert first.status_of(f"tag:{t}") == str(Status.DELETED)
                assert head_digest(reg.url, REPO, t) is None
            assert first.unfinished() == len(refused)
            assert first.resume_button.isVisible()
            assert first.resume_button.text() == f"Finish the run ({len(refused)} left)"
            first.export_log(tmp_path / "log.json", "json")
            logged = json.loads((tmp_path / "log.json").read_text())
            assert logged["totals"]["not_deleted"] == 2 and logged["totals"]["asked"] == 6
            assert logged["verified"] is False
            assert all(i["evidence"] for i in logged["items"] if i["kind"] == "tag")
            first.export_log(tmp_path / "log.csv", "csv")
            text = (tmp_path / "log.csv").read_text(encoding="utf-8")
            rows = list(csv.DictReader(text.splitlines()))
            totals = {r["name"]: r["outcome"] for r in rows if r["kind"] == "total"}
            assert totals["not_deleted"] == "2" and totals["deleted"] == "4"
            assert {r["status"] for r in rows if r["name"] in refused} == {"not-deleted"}
            first.resize(1100, 520)
            shot(qloop, first, tmp_path, "results-with-failures", scheme)

            refused.clear()  # the registry answers again
            qtbot.mouseClick(first.resume_button, Qt.MouseButton.LeftButton)
            run(qloop, until(lambda: len(progress) > 1 and progress[1].report is not None))
            second = progress[1]
            assert second.resuming == first.report.journal_id  # type: ignore[union-attr]
            report = second.report
            assert report is not None and report.all_gone and report.resumed
            acted = {r.name for r in report.results if not r.earlier}
            assert acted == {"t0001", "t0004"}  # only what was left
            assert not second.resume_button.isVisible()
            second.resize(1100, 520)
            shot(qloop, second, tmp_path, "results-resumed", scheme)
            for t in chosen:
                assert head_digest(reg.url, REPO, t) is None
            for t in ("t0006", "t0007"):
                assert head_digest(reg.url, REPO, t) == before[t]
            second.accept()
            run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
            window.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_recycle_bin_resumes_a_killed_run(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), LocalRegistry(tmp_path / "reg") as reg:
        run(qloop, _seed(reg.url, 30))
        settled = kill_after(reg.url, REPO, None, 5)
        assert settled == 5
        (entry,) = Journal().pending()
        window = open_window(qtbot, qloop, tmp_path, reg.url)
        trash = window.open_trash()
        assert isinstance(trash, TrashView)
        run(qloop, until(lambda: trash.entries_model.rowCount() == 1))
        assert trash.pending_banner.isVisible() and "Resume finishes" in trash.pending_banner.text()
        assert trash.resume_button.isEnabled()
        left = len(entry.unfinished())
        assert trash.resume_button.text() == f"Resume ({left} left)"
        trash.resize(1000, 560)
        shot(qloop, trash, tmp_path, "trash-resume", scheme)
        progress: list[DeleteProgressDialog] = []
        window.delete_flow.progressShown.connect(progress.append)
        qtbot.mouseClick(trash.resume_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
        report = progress[0].report
        assert report is not None and report.all_gone and report.resumed == entry.id
        assert {r.name for r in report.results} == {f"t{i:04d}" for i in range(30)}
        run(qloop, until(lambda: trash.entries_model.record_at(0).cells[3] == "finished"))
        assert not trash.pending_banner.isVisible()
        assert not trash.resume_button.isEnabled()
        assert head_digest(reg.url, REPO, "t0000") is None
        progress[0].accept()
        trash.accept()
        run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
        window.close()


def _denying_proxy(upstream: str) -> Any:
    """Forwards reads; answers every DELETE as a registry does for a read-only credential."""
    from aiohttp import web
    from fault_servers import forward, proxy_app

    async def handle(session: Any, request: web.Request) -> web.StreamResponse:
        if request.method == "DELETE":
            body = '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
            return web.Response(status=403, text=body, content_type="application/json")
        return await forward(session, upstream, request)

    return proxy_app(handle)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_refused_deletion_says_why_in_words_that_wrap(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    """Issue 11, observation 9: a 403's explanation was only a one-line tooltip running off the
    screen. The results dialog says it in a wrapped line of its own, and the rows' tooltips wrap."""
    chosen = ["t0000", "t0001", "t0002"]
    with theme(qapp, scheme), LocalRegistry(tmp_path / "reg") as reg:
        before = run(qloop, _seed(reg.url, 4))
        with serve(lambda: _denying_proxy(reg.url)) as url:
            window = open_window(qtbot, qloop, tmp_path, url)
            progress = _confirmed_deletion(qtbot, qloop, window, chosen)
            dialog = progress[0]
            dialog.resize(1024, 520)
            shot(qloop, dialog, tmp_path, "results-denied", scheme)
            for t in chosen:
                assert head_digest(reg.url, REPO, t) == before[t]  # nothing deleted
            assert dialog.problem.isVisible() and dialog.problem.wordWrap()
            said = dialog.problem.text()
            assert said.startswith("3 tags not deleted:"), said
            assert "403" in said or "denied" in said.lower() or "may not" in said, said
            assert dialog.problem.width() <= dialog.width()
            row = dialog.model.row_of("tag:t0000")
            assert row is not None
            tip = dialog.model.record_at(row).tooltip
            assert tip.startswith("<qt>") and "\n" not in tip, tip
            dialog.accept()
            run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
            window.close()
