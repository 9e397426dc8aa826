"""The recycle bin: what regview deleted, when, from where — and putting it back.

    TrashView(flow, parent=None)            a dialog; `open()` loads the journal off the UI thread
        reload()                            expire old entries, read the rest (task "load")
        select_entry(entry_id)
        restore_selected()                  the selected entry (or its selected tags) (task "restore")
        resume_selected()                   finish the selected entry's run: only what is not
                                            done, re-checked against its plan (`dialogs.delete.resume`)
        entries_model, items_model          RecordsModel of entries / of the chosen entry's items
        pending_banner                      shown when a run never finished (killed app)
        signals: loadedEntries(), restoreFinished(list[RestoreResult])

Restore goes through `regview.core.journal.journal.restore`: it re-pushes saved manifests while their
blobs exist, never overwrites a tag that now points elsewhere, and says per item why something
cannot come back (blob garbage-collected, manifest never saved, tag moved).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from regview.core.deletion.resume import why_not
from regview.core.journal.journal import ItemState, JournalEntry, RestoreResult, restore
from regview.services.async_utils import run_blocking
from regview.ui.dialogs.delete.models import (
    ROW_ROLE,
    Record,
    RecordsModel,
    records_table,
    short_digest,
)
from regview.ui.errors import Problem
from regview.ui.screen_fit import fitted, resize_to_fit
from regview.ui.tasks import Tasks
from regview.ui.theme import set_colours, warning_colours
from regview.ui.words import plural

if TYPE_CHECKING:
    from regview.ui.dialogs.delete.flow import DeleteFlow

_STATE_TEXT = {
    ItemState.DELETED: ("deleted", "fail", "can be restored while its blobs exist"),
    ItemState.STARTED: ("unknown", "warn", "interrupted: may or may not have been deleted"),
    ItemState.FAILED: ("not deleted", "muted", "the deletion failed: nothing to restore"),
    "placeholder": ("on a placeholder", "warn", "the tag points at regview's placeholder"),
    "unknown": ("unknown", "warn", "could not be read back: resume checks and finishes it"),
    ItemState.SKIPPED: ("not deleted", "muted", "skipped: nothing to restore"),
    ItemState.NOT_STARTED: ("not deleted", "muted", "never started: nothing to restore"),
    ItemState.PLANNED: ("not deleted", "muted", "never started: nothing to restore"),
    ItemState.RESTORED: ("restored", "ok", "put back"),
}
_STATUS_TEXT = {
    "finished": "finished",
    "cancelled": "cancelled",
    "stopped": "stopped: registry down",
    "running": "interrupted",
    "refused": "refused",
}


def _worth_listing(entry: JournalEntry) -> bool:
    """A run is listed when it changed something (to restore) or left something to finish (to
    resume); one whose every item was skipped as already gone is clutter."""
    changed = (ItemState.DELETED, ItemState.STARTED, ItemState.RESTORED)
    return (
        entry.is_pending
        or any(i.state in changed for i in entry.items.values())
        or bool(entry.unfinished())
    )


def _when(t: datetime) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


class TrashView(QDialog):
    loadedEntries = Signal()
    restoreFinished = Signal(list)

    def __init__(self, flow: DeleteFlow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.flow = flow
        self.journal = flow.journal
        self.tasks = Tasks(self)
        self._entries: list[JournalEntry] = []
        self._want: str = ""
        self._results: dict[str, dict[str, RestoreResult]] = {}
        self._busy: set[str] = set()  # entries whose run is going on right now
        self.setWindowTitle("Recycle bin")
        resize_to_fit(self, 940, 600)
        self.setMaximumSize(fitted(self, 100_000, 100_000))  # never past the screen
        self._build()
        self.reload()

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 16, 18, 14)
        root.setSpacing(10)
        title = QLabel("Recycle bin")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.35)
        f.setBold(True)
        title.setFont(f)
        root.addWidget(title)
        days = self.journal.retention.days
        intro = QLabel(
            "Every deletion regview made, with the manifests it saved first. Restore re-pushes "
            "them while the registry still holds their layers (until its garbage collection "
            f"runs). Entries are kept for {days} days."
        )
        intro.setWordWrap(True)
        root.addWidget(intro)
        self.pending_banner = QLabel()
        self.pending_banner.setWordWrap(True)
        self.pending_banner.setAutoFillBackground(True)
        self.pending_banner.setMargin(10)
        self.pending_banner.hide()
        root.addWidget(self.pending_banner)

        split = QSplitter(Qt.Orientation.Vertical)
        self.entries_model = RecordsModel(
            ("When", "From", "Tags", "Status", "Kept until"), tone_column=3
        )
        self.entries_view = records_table(self.entries_model, (130, 360, 60, 100))
        self.entries_view.setAccessibleName("Deletion runs")
        self.entries_view.setSelectionMode(self.entries_view.SelectionMode.SingleSelection)
        self.entries_view.selectionModel().currentRowChanged.connect(self._entry_changed)
        self.items_model = RecordsModel(("Item", "Digest", "State", "Note"), tone_column=2)
        self.items_view = records_table(self.items_model, (220, 110, 100))
        self.items_view.setAccessibleName("Items of the selected run")
        split.addWidget(self.entries_view)
        split.addWidget(self.items_view)
        split.setSizes([220, 300])
        root.addWidget(split, 1)

        row = QHBoxLayout()
        self.summary = QLabel()
        # "Restore failed: … cannot reach the registry …" runs to 1,000 px and more: wrapped,
        # it never widens the dialog (one line grew it past the screen, buttons off it)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.summary, 1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip(
            "Put back the selected tags (or, with none selected, everything this entry deleted)"
        )
        self.restore_button.clicked.connect(self.restore_selected)
        self.restore_button.setEnabled(False)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip(
            "Finish this deletion: only its items not done yet, each checked again against "
            "its plan first (a tag changed since is left alone)"
        )
        self.resume_button.clicked.connect(self.resume_selected)
        self.resume_button.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        self.refresh_button.setAutoDefault(False)
        self.restore_button.setDefault(True)
        row.addWidget(self.refresh_button)
        row.addWidget(self.resume_button)
        row.addWidget(self.restore_button)
        row.addWidget(close)
        root.addLayout(row)

    # --- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        self.tasks.start("load", self._load())

    async def _load(self) -> None:
        def read() -> tuple[list[JournalEntry], set[str]]:
            self.journal.expire()
            entries = self.journal.entries()
            return entries, {e.id for e in entries if e.is_pending and self.journal.busy(e.id)}

        entries, self._busy = await run_blocking(read)
        # a run that changed nothing (every item skipped or refused) has nothing to show or
        # restore: listing it only hides the entries that matter
        entries = [e for e in entries if _worth_listing(e)]
        entries.sort(key=lambda e: e.created, reverse=True)
        self._entries = entries
        keep = self._want or self.current_entry_id()
        records = []
        for e in entries:
            deleted = e.deleted_tags()
            kept_until = e.created + self.journal.retention
            status = "running" if e.id in self._busy else _STATUS_TEXT.get(e.status, e.status)
            restored = sum(1 for i in e.items.values() if i.state == ItemState.RESTORED)
            if restored and not deleted:
                status = "restored"
            elif restored:  # part put back: say how much, the Tags column counts the run's
                status = f"{restored:,} of {restored + len(deleted):,} restored"
            records.append(
                Record(
                    (
                        _when(e.created),
                        f"{e.registry}/{e.repository}",
                        f"{len(deleted) + restored:,}",  # the run's tags, not what is left
                        status,
                        kept_until.astimezone().strftime("%Y-%m-%d"),
                    ),
                    tone="ok"
                    if restored
                    else {"interrupted": "warn", "cancelled": "skip"}.get(status, ""),
                    key=e.id,
                    raw=e,
                    tooltip=f"Entry {e.id}\n"
                    + ", ".join(i.name for i in deleted[:20])
                    + (" …" if len(deleted) > 20 else ""),
                )
            )
        self.entries_model.set_records(records)
        pending = [e for e in entries if e.is_pending and e.id not in self._busy]
        if pending:
            set_colours(self.pending_banner, warning_colours)
            lines = []
            for e in pending:
                unknown = sum(1 for i in e.items.values() if i.state == ItemState.STARTED)
                lines.append(
                    f"<b>A deletion in {e.registry}/{e.repository} ({_when(e.created)}) did not "
                    f"finish</b> — regview was closed or stopped. {plural(unknown, 'item')} may or may "
                    "not have been deleted; the rest is listed with its state. Resume finishes "
                    "the job (each item is checked first); Restore puts back what was deleted."
                )
            self.pending_banner.setText("<br>".join(lines))
        self.pending_banner.setVisible(bool(pending))
        self.summary.setText(
            (f"{len(entries):,} " + ("entry" if len(entries) == 1 else "entries"))
            if entries
            else "The recycle bin is empty."
        )
        if keep:
            self.select_entry(keep)
        elif entries:
            self.select_entry(entries[0].id)
        self.loadedEntries.emit()

    def current_entry_id(self) -> str:
        index = self.entries_view.selectionModel().currentIndex()
        if not index.isValid():
            return ""
        return self.entries_model.record_at(index.row()).key

    def current_entry(self) -> JournalEntry | None:
        index = self.entries_view.selectionModel().currentIndex()
        if not index.isValid():
            return None
        entry = self.entries_model.record_at(index.row()).raw
        return entry if isinstance(entry, JournalEntry) else None

    def select_entry(self, entry_id: str) -> None:
        self._want = entry_id
        row = self.entries_model.row_of(entry_id)
        if row is None:
            return
        self._want = ""
        index = self.entries_model.index(row, 0)
        self.entries_view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self._show_items()

    def _entry_changed(self, *_args: Any) -> None:
        self._show_items()

    def _show_items(self, *, restore_ended: bool = False) -> None:
        """The selected entry's items; `restore_ended`: called as a restore task ends (it still
        counts as running), so Restore is offered again — to try once the registry is back."""
        entry = self.current_entry()
        if entry is None:
            self.items_model.set_records([])
            self.restore_button.setEnabled(False)
            self.resume_button.setEnabled(False)
            return
        results = self._results.get(entry.id, {})
        records = []
        for item in sorted(entry.items.values(), key=lambda i: (i.kind != "tag", i.name)):
            shown = item.status if item.status in _STATE_TEXT else item.state
            text, tone, note = _STATE_TEXT.get(shown, (item.state, "", item.reason))
            if item.state in (ItemState.DELETED, ItemState.STARTED) and not item.saved:
                note = "its manifest was not saved: it cannot be restored"
                tone = "warn"
            elif item.reason and item.state not in (ItemState.DELETED, ItemState.RESTORED):
                note = f"{note} ({item.reason})"
            if item.evidence:
                note = f"{note} — {item.evidence}"
            res = results.get(item.name)
            if res is not None:
                text, tone = ("restored", "ok") if res.restored else ("cannot restore", "fail")
                note = res.reason
            name = item.name if item.kind == "tag" else f"manifest {short_digest(item.digest)}"
            records.append(
                Record(
                    (name, short_digest(item.digest), text, note),
                    tone=tone,
                    key=item.key,
                    raw=item,
                    tooltip=f"{item.name}\n{item.digest}\n{note}",
                )
            )
        self.items_model.set_records(records)
        restorable = any(
            i.state in (ItemState.DELETED, ItemState.STARTED) for i in entry.items.values()
        )
        busy = self.tasks.running("restore") and not restore_ended
        self.restore_button.setEnabled(restorable and not busy)
        left = len(entry.unfinished()) if not why_not(entry) and entry.id not in self._busy else 0
        self.resume_button.setText(f"Resume ({left:,} left)" if left else "Resume")
        self.resume_button.setEnabled(left > 0)

    # --- resume --------------------------------------------------------------------------
    def resume_selected(self) -> None:
        """Finish the selected entry's run in a progress dialog of its own; the list reloads
        when it is done."""
        from regview.ui.dialogs.delete.resume import start_resume

        entry = self.current_entry()
        if entry is None:
            return
        self.resume_button.setEnabled(False)
        self._want = entry.id
        self.summary.setText(f"Finishing {entry.id}…")
        # the resume ends with a report, or with a problem said in the window's banner
        self.flow.finished.connect(self._resumed)
        self.flow.problem.connect(self._resumed)
        start_resume(self.flow, entry.id)

    def _resumed(self, what: object) -> None:
        self.flow.finished.disconnect(self._resumed)
        self.flow.problem.disconnect(self._resumed)
        if isinstance(what, Problem):
            self.summary.setText(f"Resume failed: {what.title}. {what.text()}")
            self._show_items()
            return
        self.reload()

    # --- restore -------------------------------------------------------------------------
    def selected_tags(self) -> list[str]:
        names = []
        for index in self.items_view.selectionModel().selectedRows():
            item = self.items_model.data(index, ROW_ROLE).raw
            if item is not None and item.kind == "tag":
                names.append(item.name)
        return names

    def restore_selected(self) -> None:
        entry = self.current_entry()
        if entry is None:
            return
        tags = self.selected_tags() or None
        self.restore_button.setEnabled(False)
        self.summary.setText("Restoring…")
        self.tasks.start("restore", self._restore(entry, tags))

    async def _restore(self, entry: JournalEntry, tags: list[str] | None) -> list[RestoreResult]:
        from regview.ui.dialogs.delete.flow import describe_delete

        conn = None
        try:
            conn = await self.flow.connection_for_registry(entry.registry)
            if conn is None:
                self.summary.setText(
                    f"No registry profile for {entry.registry}: add it with Add registry…, "
                    "then restore."
                )
                self._show_items(restore_ended=True)
                return []
            results = await restore(self.journal, entry.id, conn.port, tags=tags)
        except Exception as exc:
            problem = describe_delete(exc)
            if problem is None:
                raise
            self.summary.setText(f"Restore failed: {problem.text()}")
            self._show_items(restore_ended=True)
            return []
        finally:
            if conn is not None:
                await conn.close()
        self._results[entry.id] = {r.name: r for r in results}
        back = [r.name for r in results if r.restored and not r.name.startswith("sha256:")]
        failed = [r for r in results if not r.restored]
        text = f"Restored {plural(len(back), 'tag')} to {entry.registry}/{entry.repository}."
        if failed:
            text += f" {len(failed):,} could not be restored (see why below)."
        self.flow.notify_restored(conn.profile, entry.repository, back)
        self.flow.runRestored.emit(entry.id, results)
        self._want = entry.id
        await self._load()
        self.summary.setText(text)
        self.restoreFinished.emit(results)
        return results

    def closeEvent(self, event: Any) -> None:
        self.tasks.cancel_all()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
