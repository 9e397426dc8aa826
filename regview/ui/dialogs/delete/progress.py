"""Progress of a deletion, then its results: every item of the plan accounted for.

    DeleteProgressDialog(plan, parent=None, resuming="")
        add_result(ItemResult)           one item settled (the executor's on_result)
        finish(report)                   switch to the results view
        fail(text)                       the run could not go on (journal, connection): in words
        log_entries() -> list[dict]      kind, name, digest, outcome, status, reason, evidence,
                                         method per item
        export_log(path, fmt)            "csv" or "json"; both end with the totals (CSV: rows of
                                         kind "total", name = status, outcome = count)
        outcome_of(key) -> str           "waiting", "deleted", "failed", "skipped", "not-started"
        status_of(key) -> str            the registry's state (`executor.Status`), "" while waiting
        unfinished() -> int              items a resume would still act on
        signals: cancelRequested(), retryRequested(list[str]), trashRequested(),
                 resumeRequested(str journal id)

Items the planner refused (and names that did not exist) are listed from the start as skipped
with the planner's reason, so the log names every selected tag. Each settled item shows what
the registry holds (deleted; deleted after a lost reply, verified; not deleted; left on a
placeholder; unknown) with the evidence in its row. "Finish the run" resumes the run's own plan
for the items not done (`resuming`: this dialog shows such a resume).
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from regview.core.deletion.executor import ExecutionReport, ItemResult, Outcome, Status
from regview.core.deletion.plan import DeletePlan
from regview.ui.dialogs.delete.dialog import place_cards, stat_card
from regview.ui.dialogs.delete.models import (
    Record,
    RecordsModel,
    dialog_heading,
    records_table,
    short_digest,
)
from regview.ui.screen_fit import grow_to_content, keep_words_whole, resize_to_fit
from regview.ui.theme import set_colours, warning_colours
from regview.ui.words import plural

WAITING = "waiting"
#: put back from the recycle bin since the run (not an `executor.Status`: the run never did it)
RESTORED = "restored"
#: tone and label per status (what the registry holds), "" while waiting; a status the
#: planner gave (refused, no such tag) shows as skipped
_TONE = {
    WAITING: "muted",
    str(Status.DELETED): "ok",
    str(Status.DELETED_VERIFIED): "ok",
    str(Status.ALREADY_GONE): "skip",
    str(Status.NOT_DELETED): "fail",
    str(Status.PLACEHOLDER): "warn",
    str(Status.UNKNOWN): "warn",
    str(Status.CHANGED): "skip",
    str(Status.NOT_STARTED): "warn",
    RESTORED: "skip",
}
_MARK = {
    str(Status.DELETED): "✓",
    str(Status.DELETED_VERIFIED): "✓",
    str(Status.ALREADY_GONE): "–",
    str(Status.NOT_DELETED): "✗",
    str(Status.PLACEHOLDER): "⚠",
    str(Status.UNKNOWN): "?",
    str(Status.CHANGED): "–",
    str(Status.NOT_STARTED): "○",
    RESTORED: "↺",
}
LOG_FIELDS = ("kind", "name", "digest", "outcome", "status", "reason", "evidence", "method")
FILTERS = ("All items", "Failed", "Skipped or not started", "Deleted")


def failure_summary(entries: Iterable[dict[str, str]]) -> str:
    """The commonest reason tags failed (a 403 names what the credential lacks), or ""."""
    # grouped with the tag's own name taken out: "deleting team/app:v1: denied" is one cause
    reasons = Counter(
        e["reason"].replace(f":{e['name']}:", ":…:")
        for e in entries
        if e["kind"] == "tag" and e["outcome"] == str(Outcome.FAILED)
    )
    if not reasons:
        return ""
    (reason, n), *others = reasons.most_common()
    more = f" ({plural(len(others), 'other reason')}: see the rows below)" if others else ""
    return f"{plural(n, 'tag')} not deleted: {reason}{more}"


def status_label(status: str) -> str:
    if status == WAITING:
        return "waiting"
    if status == RESTORED:
        return f"{_MARK[RESTORED]} restored since (from the recycle bin)"
    try:
        label = Status(status).label
    except ValueError:
        return status
    return f"{_MARK[status]} {label}"


class DeleteProgressDialog(QDialog):
    cancelRequested = Signal()
    retryRequested = Signal(list)
    trashRequested = Signal()
    resumeRequested = Signal(str)

    def __init__(self, plan: DeletePlan, parent: QWidget | None = None, resuming: str = "") -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.plan = plan
        self.resuming = resuming
        self.report: ExecutionReport | None = None
        self.running = True
        self._log: dict[str, dict[str, str]] = {}
        self.setWindowTitle(
            f"Finishing deletion {resuming}" if resuming else f"Deleting from {plan.repository}"
        )
        resize_to_fit(self, 820, 560)
        self._build()
        self._seed()
        for label in (self.title, self.subtitle):
            keep_words_whole(label)
        grow_to_content(self)  # a long repository path in a large font: wider, on screen

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 16, 18, 14)
        root.setSpacing(10)
        self.title, self.subtitle = dialog_heading(
            1.3, f"{self.plan.registry}/{self.plan.repository}"
        )
        root.addWidget(self.title)
        root.addWidget(self.subtitle)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAutoFillBackground(True)
        self.problem.setMargin(10)
        self.problem.hide()
        root.addWidget(self.problem)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        root.addWidget(self.bar)
        self.cards_host = QWidget()
        self.cards = QGridLayout(self.cards_host)
        self.cards.setContentsMargins(0, 0, 0, 0)
        self.cards.setSpacing(8)
        self.cards_host.hide()
        root.addWidget(self.cards_host)
        frow = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.addItems(FILTERS)
        self.filter.currentIndexChanged.connect(self._apply_filter)
        frow.addWidget(QLabel("Show:"))
        frow.addWidget(self.filter)
        frow.addStretch(1)
        self.journal_label = QLabel()
        self.journal_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        frow.addWidget(self.journal_label)
        root.addLayout(frow)
        self.model = RecordsModel(("Status", "Item", "Digest", "Detail", "Evidence"), tone_column=0)
        self.view = records_table(self.model, (200, 150, 110, 260))
        self.view.setAccessibleName("Deletion results")
        # the longest status ("? unknown (could not read it back)") fits whole; the row's
        # tooltip repeats it for a narrower column
        longest = max(
            self.view.fontMetrics().horizontalAdvance(status_label(st))
            for st in [*map(str, Status), RESTORED]
        )
        self.view.setColumnWidth(0, max(self.view.columnWidth(0), longest + 24))
        root.addWidget(self.view, 1)

        buttons = QHBoxLayout()
        self.export_button = QPushButton("Export log…")
        self.export_button.clicked.connect(self._export_clicked)
        self.export_button.setEnabled(False)
        self.trash_button = QPushButton("Recycle bin…")
        self.trash_button.setToolTip("What was deleted can be restored from the recycle bin")
        self.trash_button.clicked.connect(self.trashRequested)
        self.trash_button.hide()
        self.retry_button = QPushButton("Retry failed")
        self.retry_button.setToolTip("Plan the failed tags again (a fresh plan to confirm)")
        self.retry_button.clicked.connect(self._retry)
        self.retry_button.hide()
        self.resume_button = QPushButton("Finish the run")
        self.resume_button.setToolTip(
            "Carry out the rest of this run's plan: only the items not done, each checked "
            "again first (a tag changed since is left alone)"
        )
        self.resume_button.clicked.connect(self._resume)
        self.resume_button.hide()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.trash_button)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.resume_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the items in flight; the rest is not started")
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        self.close_button.hide()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        root.addLayout(buttons)

    def _seed(self) -> None:
        records: list[Record] = []
        for a in self.plan.tag_actions:
            key = f"tag:{a.tag}"
            self._log[key] = _entry("tag", a.tag, a.digest, WAITING, "", str(a.method))
            records.append(self._record(key))
        for m in self.plan.manifest_actions:
            key = f"manifest:{m.digest}"
            self._log[key] = _entry("manifest", m.digest, m.digest, WAITING, m.reason, "digest")
            records.append(self._record(key))
        for r in self.plan.refused:
            key = f"tag:{r.tag}"
            self._log[key] = _entry(
                "tag",
                r.tag,
                "",
                str(Outcome.SKIPPED),
                f"refused: {r.reason}",
                status=str(Status.NOT_DELETED),
                evidence="refused by the plan: nothing was sent",
            )
            records.append(self._record(key))
        for t in self.plan.unknown_tags:
            key = f"tag:{t}"
            self._log[key] = _entry(
                "tag",
                t,
                "",
                str(Outcome.SKIPPED),
                "no such tag",
                status=str(Status.ALREADY_GONE),
                evidence="not in the tag list the plan was made from",
            )
            records.append(self._record(key))
        self.model.set_records(records)
        self.total = self.plan.item_count
        self.settled = 0
        self.bar.setRange(0, max(1, self.total))
        self.bar.setValue(0)
        self._update_title()

    def _record(self, key: str) -> Record:
        e = self._log[key]
        name = e["name"] if e["kind"] == "tag" else f"manifest {short_digest(e['name'])}"
        # rich text: Qt wraps it, where a plain-text tooltip runs off the screen in one line
        status = e["status"] or WAITING
        tip = "<qt>" + "<br>".join(
            html.escape(v, quote=False)
            for v in (status_label(status), e["name"], e["digest"], e["reason"], e["evidence"])
            if v
        )
        return Record(
            (status_label(status), name, short_digest(e["digest"]), e["reason"], e["evidence"]),
            tone=_TONE.get(status, ""),
            key=key,
            tooltip=tip,
        )

    # --- progress ------------------------------------------------------------------------
    def add_result(self, result: ItemResult) -> None:
        key = f"{result.kind}:{result.name}"
        previous = self._log.get(key, {}).get("outcome", WAITING)
        self._log[key] = _entry(
            result.kind,
            result.name,
            result.digest,
            str(result.outcome),
            result.reason,
            result.method,
            str(result.verdict),
            result.evidence,
        )
        self.model.update(key, self._record(key))
        self._filter_row(self.model.row_of(key))
        if previous == WAITING:
            self.settled += 1
        self.bar.setValue(min(self.settled, self.total))
        self._update_title()

    def _update_title(self) -> None:
        if self.running:
            self.title.setText(f"Deleting… {self.settled:,} of {self.total:,} items")
            self.bar.setFormat(f"{self.settled:,} / {self.total:,}")

    def outcome_of(self, key: str) -> str:
        return self._log.get(key, {}).get("outcome", "")

    def status_of(self, key: str) -> str:
        return self._log.get(key, {}).get("status", "")

    def unfinished(self) -> int:
        """Items of the plan a resume would still act on (not gone, not left alone)."""
        n = 0
        for key, e in self._log.items():
            if key.startswith("tag:") and e["digest"] == "":
                continue  # refused or unknown to the planner: not part of the run
            if e["status"] == RESTORED:
                continue  # put back on purpose: a resume leaves it alone
            try:
                status = Status(e["status"])
            except ValueError:
                n += 1
                continue
            n += not status.done
        return n

    def totals(self) -> dict[str, int]:
        """Tags per status, `asked` and `gone`: the shape of `rm --json`'s totals."""
        out = {str(st).replace("-", "_"): 0 for st in Status}
        out["waiting"] = out["asked"] = out["gone"] = 0
        for key, e in self._log.items():
            if e["kind"] != "tag" or (key.startswith("tag:") and not e["digest"]):
                continue  # refused by the planner or unknown: not in the run
            status = e["status"] or WAITING
            out[status.replace("-", "_")] = out.get(status.replace("-", "_"), 0) + 1
            out["asked"] += 1
            out["gone"] += status in {str(s) for s in Status if s.gone}
        return out

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self._log.values():
            out[e["outcome"]] = out.get(e["outcome"], 0) + 1
        return out

    def finish(self, report: ExecutionReport) -> None:
        self.report = report
        self.running = False
        for r in report.results:  # anything the callback did not deliver
            if self.outcome_of(f"{r.kind}:{r.name}") in ("", WAITING):
                self.add_result(r)
        if report.refusal:
            self.fail(report.refusal)
        elif summary := failure_summary(self._log.values()):
            self.fail(summary)  # why, in words that wrap, not only in each row's tooltip
        for key, e in self._log.items():
            if e["outcome"] == WAITING:  # never happens with the executor; be explicit anyway
                e["outcome"], e["reason"] = str(Outcome.NOT_STARTED), "not reached"
                e["status"] = str(Status.NOT_STARTED)
                self.model.update(key, self._record(key))
        c = self.counts()
        deleted = c.get(str(Outcome.DELETED), 0)
        failed = c.get(str(Outcome.FAILED), 0)
        skipped = c.get(str(Outcome.SKIPPED), 0)
        not_started = c.get(str(Outcome.NOT_STARTED), 0)
        left = self.unfinished()
        if report.stopped:
            self.title.setText("Stopped — the registry stopped answering; the rest was not started")
            self.fail(
                f"The registry stopped answering ({report.stopped}). Nothing more was sent: "
                f"{plural(not_started, 'item')} not started. When it answers again, "
                "“Finish the run” carries out the rest."
            )
        elif report.cancelled:
            self.title.setText("Cancelled — what was in flight finished, the rest was not started")
        elif failed:
            self.title.setText("Finished with failures")
        elif left:
            self.title.setText("Finished — some items are not done")
        else:
            self.title.setText("Done")
        verified = sum(1 for e in self._log.values() if e["status"] == str(Status.DELETED_VERIFIED))
        self.bar.setValue(self.bar.maximum())
        parts = [f"{deleted:,} deleted", f"{failed:,} failed"]
        parts += [f"{skipped:,} skipped"] if skipped else []
        parts += [f"{not_started:,} not started"] if not_started else []
        self.bar.setFormat(" · ".join(parts))
        self._show_cards(deleted, failed, skipped, not_started, verified)
        if failed or skipped or not_started:
            self.filter.setCurrentIndex(1 if failed else 2)
        self.export_button.setEnabled(True)
        self.journal_label.setText(
            f"Recycle bin entry {report.journal_id}" if report.journal_id else ""
        )
        self.trash_button.setVisible(bool(report.journal_id) and deleted > 0)
        resumable = bool(report.journal_id) and left > 0
        retry = self._retry_tags(with_not_started=not resumable)
        n_failed = sum(1 for t in retry if self._log[f"tag:{t}"]["outcome"] == Outcome.FAILED)
        n_waiting = len(retry) - n_failed
        self.retry_button.setText(
            " + ".join(
                [f"Retry {n_failed:,} failed"] * bool(n_failed)
                + [f"{'Retry ' if not n_failed else ''}{n_waiting:,} not started"] * bool(n_waiting)
            )
        )
        self.retry_button.setVisible(bool(retry))
        # what a resume acts on: the items never started, and the others not done (failed,
        # unknown, on a placeholder), each counted by name
        waiting = sum(
            1
            for k, e in self._log.items()
            if e["outcome"] == Outcome.NOT_STARTED
            and not (k.startswith("tag:") and not e["digest"])
        )
        if waiting and waiting < left:
            detail = f"{left:,} left: {waiting:,} not started"
        elif waiting:
            detail = f"{waiting:,} not started"
        else:
            detail = f"{left:,} left"
        self.resume_button.setText(f"Finish the run ({detail})")
        self.resume_button.setVisible(resumable)
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)

    def show_restored(self, journal_id: str, results: list[Any]) -> None:
        """Items of this run put back from the recycle bin since (its "Recycle bin…" or the
        main window's): their rows say so, instead of a stale "✓ deleted"."""
        if self.report is None or self.report.journal_id != journal_id:
            return
        back = 0
        for r in results:
            if not r.restored:
                continue
            key = f"manifest:{r.name}" if r.name.startswith("sha256:") else f"tag:{r.name}"
            e = self._log.get(key)
            if e is None or e["outcome"] != str(Outcome.DELETED):
                continue
            e["status"] = RESTORED
            e["evidence"] = (
                f"restored from the recycle bin: {r.reason}"
                if r.reason
                else ("restored from the recycle bin")
            )
            self.model.update(key, self._record(key))
            back += e["kind"] == "tag"
        if back:
            restored = sum(
                1 for e in self._log.values() if e["kind"] == "tag" and e["status"] == RESTORED
            )
            self.journal_label.setText(
                f"Recycle bin entry {journal_id} · {plural(restored, 'tag')} restored since"
            )
            self.title.setText(
                "Restored since — every deleted tag is back"
                if all(
                    e["status"] == RESTORED
                    for e in self._log.values()
                    if e["kind"] == "tag" and e["outcome"] == str(Outcome.DELETED)
                )
                else f"{self.title.text().split(' · ')[0]} · {plural(restored, 'tag')} restored since"
            )

    def fail(self, text: str) -> None:
        set_colours(self.problem, warning_colours)
        self.problem.setText(text)
        self.problem.show()
        if self.report is None:
            self.running = False
            self.title.setText("The deletion stopped")
            for key, e in self._log.items():
                if e["outcome"] == WAITING:
                    e["outcome"], e["reason"] = str(Outcome.NOT_STARTED), "stopped: " + text
                    e["status"] = str(Status.NOT_STARTED)
                    self.model.update(key, self._record(key))
            self.export_button.setEnabled(True)
            self.filter.setEnabled(True)
            self.cancel_button.hide()
            self.close_button.show()

    def _show_cards(
        self, deleted: int, failed: int, skipped: int, not_started: int, verified: int
    ) -> None:
        cards = [(deleted, "deleted")]
        if verified:
            cards.append((verified, "of them verified after a lost reply"))
        cards += [(failed, "failed"), (skipped, "skipped")]
        if not_started:
            cards.append((not_started, "not started"))
        cards.append((len(self._log), "items in the plan"))
        room = self.width() - 36  # the dialog's side margins (18 + 18, see _build)
        place_cards(self.cards, [stat_card(f"{value:,}", label) for value, label in cards], room)
        self.cards_host.show()
        grow_to_content(self)  # a second row of cards: taller, if the screen has room

    def _apply_filter(self) -> None:
        for row in range(self.model.rowCount()):
            self._filter_row(row)

    def _filter_row(self, row: int | None) -> None:
        """Show or hide one row by the "Show" choice (also while the run goes on)."""
        if row is None:
            return
        want = self.filter.currentIndex()
        outcome = self._log.get(self.model.record_at(row).key, {}).get("outcome", "")
        show = (
            want == 0
            or (want == 1 and outcome == str(Outcome.FAILED))
            or (want == 2 and outcome in (str(Outcome.SKIPPED), str(Outcome.NOT_STARTED)))
            or (want == 3 and outcome == str(Outcome.DELETED))
        )
        self.view.setRowHidden(row, not show)

    # --- actions -------------------------------------------------------------------------
    def _cancel(self) -> None:
        if self.running:
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Stopping…")
            self.cancelRequested.emit()

    def reject(self) -> None:
        if self.running:  # Esc / window close while running means Cancel, not "hide it"
            self._cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            self._cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def _resume(self) -> None:
        if self.report is not None and self.report.journal_id:
            self.resume_button.setEnabled(False)
            self.resumeRequested.emit(self.report.journal_id)
            self.accept()

    def _retry_tags(self, *, with_not_started: bool) -> list[str]:
        """The tags "Retry" plans again: the failed ones, and those never started when no
        "Finish the run" is offered for them."""
        wanted = {str(Outcome.FAILED)} | ({str(Outcome.NOT_STARTED)} if with_not_started else set())
        return [
            e["name"] for k, e in self._log.items() if e["kind"] == "tag" and e["outcome"] in wanted
        ]

    def _retry(self) -> None:
        resumable = (
            self.report is not None and bool(self.report.journal_id) and self.unfinished() > 0
        )
        tags = self._retry_tags(with_not_started=not resumable)
        if tags:
            self.retryRequested.emit(tags)

    def log_entries(self) -> list[dict[str, str]]:
        return [dict(e) for e in self._log.values()]

    def export_log(self, path: str | Path, fmt: str) -> Path:
        target = Path(path)
        entries = self.log_entries()
        if fmt == "json":
            body: dict[str, Any] = {
                "registry": self.plan.registry,
                "repository": self.plan.repository,
                "journal": self.report.journal_id if self.report else "",
                "cancelled": bool(self.report and self.report.cancelled),
                "resumed": self.resuming,
                "totals": self.totals(),
                "verified": self.report is not None and self.report.all_gone,
                "items": entries,
            }
            target.write_text(json.dumps(body, indent=2), encoding="utf-8")
        else:
            with target.open("w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=LOG_FIELDS)
                writer.writeheader()
                writer.writerows(entries)
                for name, count in self.totals().items():
                    writer.writerow({"kind": "total", "name": name, "outcome": str(count)})
        return target

    def _export_clicked(self) -> None:
        name = f"regview-delete-{self.report.journal_id if self.report else 'log'}"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export the deletion log", name + ".csv", "CSV (*.csv);;JSON (*.json)"
        )
        if not path:
            return
        fmt = "json" if path.endswith(".json") or "JSON" in chosen else "csv"
        try:
            self.export_log(path, fmt)
        except OSError as exc:
            self.fail(f"The log could not be written to {path}: {exc.strerror or exc}.")


def _entry(
    kind: str,
    name: str,
    digest: str,
    outcome: str,
    reason: str,
    method: str = "",
    status: str = "",
    evidence: str = "",
) -> dict[str, str]:
    return {
        "kind": kind,
        "name": name,
        "digest": digest,
        "outcome": outcome,
        "status": status,
        "reason": reason,
        "evidence": evidence,
        "method": method,
    }
