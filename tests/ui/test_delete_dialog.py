"""The confirmation dialog and the progress/results dialog on planner output (no network):
a registry that refuses deletion shows the refusal and offers no Delete; a cancelled run
accounts for every item; the records model passes qtmodeltester."""

from __future__ import annotations

from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from regview.core.deletion.executor import ExecutionReport, ItemResult, Outcome
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
    report.results = [
        ItemResult("tag", "t0", "", Outcome.DELETED, "ok"),
        ItemResult("tag", "t1", "", Outcome.FAILED, "HTTP 500 from reg.example"),
        ItemResult("tag", "t2", "", Outcome.NOT_STARTED, "cancelled before it started"),
    ]
    progress.finish(report)
    outcomes = {e["name"]: e["outcome"] for e in progress.log_entries()}
    assert outcomes == {"t0": "deleted", "t1": "failed", "t2": "not-started", "nope": "skipped"}
    retried: list[list[str]] = []
    progress.retryRequested.connect(retried.append)
    assert progress.retry_button.isVisible()
    progress.retry_button.click()
    assert retried == [["t1", "t2"]]
    path = progress.export_log(tmp_path / "log.csv", "csv")
    assert "HTTP 500 from reg.example" in path.read_text()


def test_records_model_passes_modeltester(qtmodeltester: Any) -> None:
    model = RecordsModel(("A", "B"), tone_column=1)
    model.set_records([Record(("x", "y"), tone="ok", key="1"), Record(("z", ""), key="2")])
    model.update("1", Record(("x2", "y2"), tone="fail", key="1"))
    model.update("3", Record(("new", "row"), key="3"))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 3 and model.row_of("3") == 2
