"""The confirmation dialog and the progress/results dialog on planner output (no network):
a registry that refuses deletion shows the refusal and offers no Delete; a cancelled run
accounts for every item; the records model passes qtmodeltester."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from regview.core.deletion.executor import ExecutionReport, ItemResult, Outcome, Status
from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.model import ArtifactKind, TagInfo
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.models import Record, RecordsModel
from regview.ui.dialogs.delete.progress import DeleteProgressDialog

pytestmark = [pytest.mark.ui]
OCI = "application/vnd.oci.image.manifest.v1+json"


def _facts(caps: Capabilities, n: int = 3) -> RepositoryFacts:
    tags = [
        TagInfo("team/app", f"t{i}", f"sha256:{i % 2:064x}", OCI, ArtifactKind.IMAGE, size=10)
        for i in range(n)
    ]
    return RepositoryFacts("reg.example", "team/app", tuple(tags), caps)


def test_refused_registry_shows_why_and_no_delete(qtbot: QtBot) -> None:
    caps = Capabilities(manifest_delete=DeleteSupport.DISABLED, detail="405 UNSUPPORTED")
    plan = make_plan(_facts(caps), Selection.of_tags(["t0"]))
    dialog = DeleteDialog(plan)
    qtbot.addWidget(dialog)
    dialog.show()
    assert plan.refusal
    assert dialog.refusal_box.isVisible()
    assert "does not allow deleting" in dialog.refusal_box.text()
    assert "storage.delete.enabled" in dialog.refusal_box.text()
    assert not dialog.delete_button.isVisible()
    assert dialog.cancel_button.text() == "Close"


def test_large_selection_needs_typed_confirmation(qtbot: QtBot) -> None:
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    plan = make_plan(_facts(caps, 25), Selection.of_tags([f"t{i}" for i in range(21)]))
    dialog = DeleteDialog(plan)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.needs_typed_confirmation and not dialog.delete_button.isEnabled()
    qtbot.keyClicks(dialog.confirm_edit, "21")
    assert dialog.delete_button.isEnabled()
    # siblings: t21..t24 share the two digests with the selection and stay
    assert sorted(dialog.affected_tags()) == ["t21", "t22", "t23", "t24"]


def test_cancelled_run_accounts_for_every_item(qtbot: QtBot, tmp_path: Any) -> None:
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    plan = make_plan(_facts(caps, 4), Selection.of_tags(["t0", "t1", "t2", "nope"]))
    progress = DeleteProgressDialog(plan)
    qtbot.addWidget(progress)
    progress.show()
    cancels: list[bool] = []
    progress.cancelRequested.connect(lambda: cancels.append(True))
    progress.add_result(ItemResult("tag", "t0", plan.tag_actions[0].digest, Outcome.DELETED, "ok"))
    assert progress.bar.value() == 1
    progress.reject()  # Esc while running = Cancel, the dialog stays
    assert cancels == [True] and progress.isVisible()
    report = ExecutionReport(plan, cancelled=True, journal_id="j1")
    d = {a.tag: a.digest for a in plan.tag_actions}  # what the executor reports with
    report.results = [
        ItemResult("tag", "t0", d["t0"], Outcome.DELETED, "ok"),
        ItemResult("tag", "t1", d["t1"], Outcome.FAILED, "HTTP 500 from reg.example"),
        ItemResult("tag", "t2", d["t2"], Outcome.NOT_STARTED, "cancelled before it started"),
    ]
    progress.finish(report)
    outcomes = {e["name"]: e["outcome"] for e in progress.log_entries()}
    assert outcomes == {"t0": "deleted", "t1": "failed", "t2": "not-started", "nope": "skipped"}
    retried: list[list[str]] = []
    progress.retryRequested.connect(retried.append)
    # the failed tag is retried; the one never started is what "Finish the run" carries out
    assert progress.retry_button.isVisible() and progress.retry_button.text() == "Retry 1 failed"
    progress.retry_button.click()
    assert retried == [["t1"]]
    assert progress.resume_button.text() == "Finish the run (2 left: 1 not started)"
    path = progress.export_log(tmp_path / "log.csv", "csv")
    assert "HTTP 500 from reg.example" in path.read_text()


def test_records_model_passes_modeltester(qtmodeltester: Any) -> None:
    model = RecordsModel(("A", "B"), tone_column=1)
    model.set_records([Record(("x", "y"), tone="ok", key="1"), Record(("z", ""), key="2")])
    model.update("1", Record(("x2", "y2"), tone="fail", key="1"))
    model.update("3", Record(("new", "row"), key="3"))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 3 and model.row_of("3") == 2


def _walked_report(
    plan: Any, deleted: int, failed: int, not_started: int, journal: str, **kw: Any
) -> ExecutionReport:
    acts = iter(plan.tag_actions)
    report = ExecutionReport(plan, journal_id=journal, **kw)
    for n, outcome in ((deleted, Outcome.DELETED), (failed, Outcome.FAILED)):
        report.results += [
            ItemResult("tag", a.tag, a.digest, outcome, "x") for a in (next(acts) for _ in range(n))
        ]
    report.results += [
        ItemResult("tag", a.tag, a.digest, Outcome.NOT_STARTED, "cancelled before it started")
        for a in (next(acts) for _ in range(not_started))
    ]
    return report


@pytest.mark.parametrize(
    ("deleted", "failed", "not_started", "journal", "bar", "retry", "resume"),
    [
        # cancelled (found walking the app: "Retry 44 failed" beside "0 failed · 44 skipped")
        (69, 0, 44, "j1", "69 deleted · 0 failed · 44 not started", "", "44 not started"),
        # the registry died: "Retry 61 failed" for 30 failed + 31 never started
        (
            10,
            30,
            31,
            "j1",
            "10 deleted · 30 failed · 31 not started",
            "Retry 30 failed",
            "61 left: 31 not started",
        ),
        # no recycle-bin entry to finish: Retry takes both, and says so
        (
            10,
            30,
            31,
            "",
            "10 deleted · 30 failed · 31 not started",
            "Retry 30 failed + 31 not started",
            "",
        ),
    ],
)
def test_retry_and_finish_count_what_they_act_on(
    qtbot: QtBot,
    deleted: int,
    failed: int,
    not_started: int,
    journal: str,
    bar: str,
    retry: str,
    resume: str,
) -> None:
    n = deleted + failed + not_started
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    plan = make_plan(_facts(caps, n), Selection.of_tags([f"t{i}" for i in range(n)]))
    progress = DeleteProgressDialog(plan)
    qtbot.addWidget(progress)
    progress.show()
    assert progress.filter.isEnabled()  # "Show" works while the run goes on
    report = _walked_report(plan, deleted, failed, not_started, journal, cancelled=True)
    progress.finish(report)
    assert progress.bar.format() == bar
    assert progress.retry_button.isVisible() == bool(retry)
    if retry:
        assert progress.retry_button.text() == retry
        retried: list[list[str]] = []
        progress.retryRequested.connect(retried.append)
        progress.retry_button.click()
        want = failed + (not_started if not journal else 0)
        assert len(retried[0]) == want
    assert progress.resume_button.isVisible() == bool(resume)
    if resume:
        assert progress.resume_button.text() == f"Finish the run ({resume})"


def test_stopped_run_says_the_registry_stopped_and_the_status_fits(qtbot: QtBot) -> None:
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    plan = make_plan(_facts(caps, 6), Selection.of_tags([f"t{i}" for i in range(6)]))
    progress = DeleteProgressDialog(plan)
    qtbot.addWidget(progress)
    progress.show()
    why = "reg.example: GET manifest: cannot reach the registry — connection refused"
    report = ExecutionReport(plan, journal_id="j1", stopped=why)
    a = plan.tag_actions
    report.results = [
        ItemResult("tag", a[0].tag, a[0].digest, Outcome.DELETED, "ok"),
        ItemResult("tag", a[1].tag, a[1].digest, Outcome.FAILED, "unknown", status=Status.UNKNOWN),
    ] + [
        ItemResult("tag", x.tag, x.digest, Outcome.NOT_STARTED, f"not started: ({why})")
        for x in a[2:]
    ]
    progress.finish(report)
    assert "stopped answering" in progress.title.text()
    assert progress.problem.isVisible() and why in progress.problem.text()
    assert "4 items not started" in progress.problem.text()
    # "? unknown (could not read it back)" fits its column, and the tooltip repeats it
    row = progress.model.row_of(f"tag:{a[1].tag}")
    assert row is not None
    label = progress.model.record_at(row).cells[0]
    assert label == "? unknown (could not read it back)"
    fm = progress.view.fontMetrics()
    assert fm.horizontalAdvance(label) + 8 <= progress.view.columnWidth(0)
    assert label in str(progress.model.record_at(row).tooltip)
