"""The confirmation dialog: the whole plan, before anything is deleted.

    DeleteDialog(plan, *, whole_repository=False, parent=None)
        set_plan(plan)                  after the options changed (the flow re-plans)
        plan: DeletePlan                what "Delete" will run (read it on `accepted`)
        needs_typed_confirmation        >= TYPED_CONFIRMATION_AT tags, or the whole repository
        confirm_edit: QLineEdit         type the repository name or the number of tags
        delete_button / cancel_button
        affected_tags() -> list[str]    sibling tags that stay (shown under "Also affected")
        signals: optionsChanged(PlanOptions)

What it shows: what goes (each tag with its method and reason, manifests deleted by digest),
what else is affected (tags sharing a manifest — across the whole repository —, index children,
referrers), what will not be deleted and why, reclaimable bytes with the garbage-collection
note, and the planner's warnings. A plan the registry refuses shows the refusal and no Delete.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from regview.core.deletion.plan import DeletePlan, ManifestRole, PlanOptions
from regview.services.deletion import APP_MANIFESTS_LABEL, APP_REFERRERS_LABEL
from regview.ui.dialogs.delete.models import (
    Record,
    RecordsModel,
    dialog_heading,
    records_table,
    short_digest,
)
from regview.ui.screen_fit import grow_to_content, keep_words_whole, resize_to_fit
from regview.ui.theme import danger_sheet, mute, set_colours, set_sheet, warning_colours
from regview.ui.words import plural as _plural
from regview.util.units import human_size

TYPED_CONFIRMATION_AT = 20


def place_cards(grid: QGridLayout, cards: list[QWidget], width: int) -> None:
    """Lay `cards` out left to right, starting a new row where the next one would pass `width`:
    a row of five cards is wider than a small screen with a large font, and a caption that
    wrapped inside its card would be cut (Qt does not give a wrapped label its height there)."""
    row = col = used = 0
    spacing = max(grid.horizontalSpacing(), 0)
    for card in cards:
        wide = card.sizeHint().width()
        if col and used + spacing + wide > width:
            row, col, used = row + 1, 0, 0
        grid.addWidget(card, row, col)
        used += (spacing if col else 0) + wide
        col += 1
    grid.setColumnStretch(grid.columnCount(), 1)


def stat_card(value: str, label: str, parent: QWidget | None = None) -> QFrame:
    """A number with a caption, as in a dashboard."""
    card = QFrame(parent)
    card.setObjectName("statCard")
    card.setFrameShape(QFrame.Shape.StyledPanel)
    lay = QVBoxLayout(card)
    lay.setContentsMargins(12, 8, 12, 8)
    lay.setSpacing(0)
    v = QLabel(value)
    v.setObjectName("statValue")
    f = v.font()
    f.setPointSizeF(f.pointSizeF() * 1.45)
    f.setWeight(QFont.Weight.DemiBold)
    v.setFont(f)
    cap = QLabel(label)
    cap.setObjectName("statLabel")
    mute(cap)
    lay.addWidget(v)
    lay.addWidget(cap)
    return card


class DeleteDialog(QDialog):
    optionsChanged = Signal(object)
    recheckRequested = Signal()  # forget what earlier answers taught about the registry

    def __init__(
        self, plan: DeletePlan, *, whole_repository: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.whole_repository = whole_repository
        self.plan = plan
        self.setWindowTitle("Delete — review the plan")
        resize_to_fit(self, 860, 640)
        self._build()
        self.set_plan(plan)
        for label in (self.title, self.subtitle):  # a long repository path: wider, on screen
            keep_words_whole(label)
        grow_to_content(self)

    # --- building ------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 16, 18, 14)
        root.setSpacing(10)
        self.title, self.subtitle = dialog_heading(1.35)
        root.addWidget(self.title)
        root.addWidget(self.subtitle)

        self.refusal_box = QLabel()
        self.refusal_box.setWordWrap(True)
        self.refusal_box.setAutoFillBackground(True)
        self.refusal_box.setMargin(10)
        self.refusal_box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.refusal_box)

        self.cards = QHBoxLayout()
        self.cards.setSpacing(8)
        root.addLayout(self.cards)

        self.blast_label = QLabel()
        self.blast_label.setWordWrap(True)
        self.blast_label.setTextFormat(Qt.TextFormat.RichText)
        self.blast_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.blast_label)

        self.tabs = QTabWidget()
        self.goes_model = RecordsModel(("Tag / manifest", "Digest", "Method", "Why"))
        self.goes_view = records_table(self.goes_model, (190, 110, 170))
        self.affected_model = RecordsModel(("Affected", "Digest", "What happens"), tone_column=2)
        self.affected_view = records_table(self.affected_model, (190, 110))
        self.refused_model = RecordsModel(("Tag", "Why it will not be deleted"))
        self.refused_view = records_table(self.refused_model, (190,))
        self.goes_view.setAccessibleName("Items to delete")
        self.affected_view.setAccessibleName("Tags also affected")
        self.refused_view.setAccessibleName("Items that will not be deleted")
        self.tabs.addTab(self.goes_view, "")
        self.tabs.addTab(self.affected_view, "")
        self.tabs.addTab(self.refused_view, "")
        root.addWidget(self.tabs, 1)

        self.gc_note = QLabel()
        self.gc_note.setWordWrap(True)
        mute(self.gc_note)
        root.addWidget(self.gc_note)

        opts = QHBoxLayout()
        self.delete_manifests = QCheckBox(APP_MANIFESTS_LABEL)
        self.delete_manifests.setToolTip(
            "Delete by digest the manifests no remaining tag, index or referrer uses "
            "(otherwise the registry's garbage collection decides)"
        )
        self.delete_referrers = QCheckBox(APP_REFERRERS_LABEL)
        self.delete_referrers.setToolTip(
            "Also delete referrers (cosign signatures, SBOMs, attestations) of what is deleted"
        )
        self.delete_manifests.toggled.connect(self._options_changed)
        self.delete_referrers.toggled.connect(self._options_changed)
        opts.addWidget(self.delete_manifests)
        opts.addWidget(self.delete_referrers)
        opts.addStretch(1)
        root.addLayout(opts)

        self.confirm_row = QWidget()
        cr = QHBoxLayout(self.confirm_row)
        cr.setContentsMargins(0, 0, 0, 0)
        self.confirm_label = QLabel()
        self.confirm_label.setWordWrap(True)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setMaximumWidth(280)
        self.confirm_edit.textChanged.connect(self._update_buttons)
        cr.addWidget(self.confirm_label, 1)
        cr.addWidget(self.confirm_edit)
        root.addWidget(self.confirm_row)

        buttons = QHBoxLayout()
        self.journal_note = QLabel("Manifests are saved to the recycle bin first.")
        mute(self.journal_note)
        buttons.addWidget(self.journal_note, 1)
        self.recheck_button = QPushButton("Re-check the registry")
        self.recheck_button.setAutoDefault(False)
        self.recheck_button.clicked.connect(self.recheckRequested)
        buttons.addWidget(self.recheck_button)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.delete_button = QPushButton("Delete")
        set_sheet(self.delete_button, danger_sheet)
        self.delete_button.setAutoDefault(False)
        self.delete_button.clicked.connect(self._confirmed)
        self.cancel_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.delete_button)
        root.addLayout(buttons)

    # --- content -------------------------------------------------------------------------
    @property
    def needs_typed_confirmation(self) -> bool:
        return self.whole_repository or len(self.plan.tag_actions) >= TYPED_CONFIRMATION_AT

    def set_plan(self, plan: DeletePlan) -> None:
        self.plan = plan
        where = f"{plan.registry}/{plan.repository}"
        n_tags = len(plan.tag_actions)
        if plan.refusal:
            self.title.setText(f"Cannot delete from {plan.repository}")
        elif self.whole_repository:
            self.title.setText(f"Delete the repository {plan.repository} — all {n_tags:,} tags?")
        else:
            self.title.setText(f"Delete {_plural(n_tags, 'tag')} from {plan.repository}?")
        methods = sorted({a.how for a in plan.tag_actions})
        sub = f"On {where}."
        if methods:
            sub += " Method: " + "; ".join(methods) + "."
        self.subtitle.setText(sub)

        problems = [plan.refusal] if plan.refusal else []
        problems += list(plan.warnings)
        if plan.learnt and not plan.refusal:  # a refusal says what was answered already
            problems.append(
                f"Decided from what {plan.registry} answered before ({plan.learnt}); "
                "“Re-check the registry” forgets that and decides again."
            )
        self.recheck_button.setVisible(bool(plan.learnt))
        self.recheck_button.setToolTip(
            f"regview remembers what {plan.registry} answered: {plan.learnt}. Forget it and "
            "decide again from the registry's headers; the next deletion will tell."
        )
        if problems:
            set_colours(self.refusal_box, warning_colours)
            head = "<b>Nothing can be deleted.</b> " if plan.refusal else ""
            # quote=False: Qt's rich text shows "&#x27;" as it is (GitLab&#x27;s)
            self.refusal_box.setText(
                head + "<br>".join(html.escape(p, quote=False) for p in problems if p)
            )
        self.refusal_box.setVisible(bool(problems))

        self._fill_cards(plan)
        self._fill_tables(plan)
        blast = plan.blast
        self.gc_note.setText(blast.gc_note if blast is not None and not plan.refusal else "")
        self.gc_note.setVisible(bool(self.gc_note.text()))
        for box, value in (
            (self.delete_manifests, plan.options.delete_manifests),
            (self.delete_referrers, plan.options.delete_referrers),
        ):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)
        self.delete_referrers.setEnabled(plan.options.delete_manifests)
        for box in (self.delete_manifests, self.delete_referrers):
            box.setVisible(not plan.refusal)

        self.confirm_row.setVisible(self.needs_typed_confirmation and not plan.refusal)
        self.confirm_label.setText(
            f"This deletes {'a whole repository' if self.whole_repository else 'many tags'}. "
            f"To confirm, type the repository name <b>{html.escape(plan.repository)}</b> "
            f"or the number of tags <b>{n_tags}</b>:"
        )
        self.confirm_edit.setPlaceholderText(plan.repository)
        total = plan.item_count
        self.delete_button.setText(
            f"Delete {_plural(n_tags, 'tag')}"
            + (
                f" + {_plural(len(plan.manifest_actions), 'manifest')}"
                if plan.manifest_actions
                else ""
            )
            if total
            else "Delete"
        )
        self.journal_note.setVisible(not plan.refusal)
        self._update_buttons()

    def _fill_cards(self, plan: DeletePlan) -> None:
        while self.cards.count():
            item = self.cards.takeAt(0)
            if item is not None and (w := item.widget()) is not None:
                w.deleteLater()
        if plan.refusal:
            return
        blast = plan.blast
        siblings = sorted(
            {t for ts in (blast.shared_digests.values() if blast else ()) for t in ts}
        )
        entries = [
            (f"{len(plan.tag_actions):,}", "tags deleted"),
            (f"{len(siblings):,}", "sibling tags stay"),
            (f"{len(plan.manifest_actions):,}", "manifests by digest"),
            (human_size(blast.reclaimable_bytes) if blast else "—", "frees after GC"),
        ]
        if plan.refused:
            entries.append((f"{len(plan.refused):,}", "refused"))
        for value, label in entries:
            self.cards.addWidget(stat_card(value, label))
        self.cards.addStretch(1)

    def _fill_tables(self, plan: DeletePlan) -> None:
        goes: list[Record] = []
        for a in plan.tag_actions:
            why = a.reason
            if a.note:
                why += f"; the manifest stays: {a.note}"
            elif a.manifest_untagged:
                why += "; its manifest is left untagged"
            goes.append(
                Record(
                    (a.tag, short_digest(a.digest), a.how.split(" (")[0], why),
                    key=f"tag:{a.tag}",
                    tooltip=f"{a.tag}\n{a.digest}\n{a.how}\n{why}",
                )
            )
        for m in plan.manifest_actions:
            goes.append(
                Record(
                    (f"({m.role})", short_digest(m.digest), "delete by digest", m.reason),
                    key=f"manifest:{m.digest}",
                    tooltip=f"{m.digest}\n{m.reason}",
                )
            )
        self.goes_model.set_records(goes)

        affected: list[Record] = []
        blast = plan.blast
        deleted_by_digest = {a.digest: a.tag for a in plan.tag_actions}
        if blast is not None:
            for digest, tags in sorted(blast.shared_digests.items()):
                gone = ", ".join(a.tag for a in plan.tag_actions if a.digest == digest)
                for t in tags:
                    affected.append(
                        Record(
                            (
                                f"tag {t}",
                                short_digest(digest),
                                f"stays — shares its manifest with {gone}",
                            ),
                            tone="ok",
                            key=f"sibling:{t}",
                            raw=t,
                            tooltip=f"{t} points at {digest}, as {gone} does. Only the selected "
                            "tag is removed; this one keeps working.",
                        )
                    )
            for d in blast.deleted_children:
                affected.append(
                    Record(("index child", short_digest(d), "deleted with its index"), tone="fail")
                )
            for d in blast.orphaned_children:
                affected.append(
                    Record(
                        ("index child", short_digest(d), "left untagged (GC may remove it)"),
                        tone="warn",
                    )
                )
            referrers = (
                (blast.deleted_referrers, "deleted", "fail"),
                (
                    blast.orphaned_referrers,
                    "left orphaned: the manifest it points at is deleted",
                    "warn",
                ),
                (blast.untagged_referrers, "stays, on its manifest left untagged", "warn"),
            )
            for refs, what, tone in referrers:
                affected += [
                    Record(
                        (_referrer_name(r.artifact_type), short_digest(r.digest), what), tone=tone
                    )
                    for r in refs
                ]
        del deleted_by_digest
        self.affected_model.set_records(affected)
        refused = [Record((r.tag, r.reason), key=f"refused:{r.tag}") for r in plan.refused]
        refused += [Record((t, "no such tag in the repository")) for t in plan.unknown_tags]
        self.refused_model.set_records(refused)
        self.tabs.setTabText(0, f"To delete ({plan.item_count:,})")
        self.tabs.setTabText(1, f"Also affected ({len(affected):,})")
        self.tabs.setTabText(2, f"Will not be deleted ({len(refused):,})")
        self.tabs.setTabEnabled(2, bool(refused))

        lines: list[str] = []
        siblings = [r.raw for r in affected if r.key.startswith("sibling:")]
        if siblings:
            shown = ", ".join(html.escape(s, quote=False) for s in siblings[:8])
            more = f" and {len(siblings) - 8:,} more" if len(siblings) > 8 else ""
            lines.append(
                f"<b>{_plural(len(siblings), 'other tag')}</b> "
                f"{'shares' if len(siblings) == 1 else 'share'} a manifest with the "
                f"selection and <b>stay</b>: {shown}{more}."
            )
        elif blast is not None and not plan.refusal:
            lines.append("No other tag in the repository shares a manifest with the selection.")
        if blast is not None and (
            blast.orphaned_referrers or blast.deleted_referrers or blast.untagged_referrers
        ):
            n = len(blast.orphaned_referrers) + len(blast.deleted_referrers)
            n += len(blast.untagged_referrers)
            lines.append(
                f"{_plural(n, 'signature/SBOM', 'signatures/SBOMs')} point at manifests the selection "
                "untags."
            )
        if blast is not None and not plan.refusal:
            lines.append(
                f"Frees <b>{human_size(blast.reclaimable_bytes)}</b> after garbage collection: "
                f"{_plural(blast.reclaimable_blobs, 'blob')} no kept tag uses."
            )
        self.blast_label.setText("<br>".join(lines))
        self.blast_label.setVisible(bool(lines))

    # --- behaviour -----------------------------------------------------------------------
    def affected_tags(self) -> list[str]:
        return [str(r.raw) for r in self.affected_model.records() if r.key.startswith("sibling:")]

    def confirmation_ok(self) -> bool:
        if not self.needs_typed_confirmation:
            return True
        typed = self.confirm_edit.text().strip()
        return typed in (self.plan.repository, str(len(self.plan.tag_actions)))

    def _update_buttons(self) -> None:
        usable = not self.plan.refusal and not self.plan.is_empty
        self.delete_button.setVisible(not self.plan.refusal)
        self.delete_button.setEnabled(usable and self.confirmation_ok())
        self.cancel_button.setText("Close" if self.plan.refusal else "Cancel")

    def _options_changed(self) -> None:
        self.delete_referrers.setEnabled(self.delete_manifests.isChecked())
        options = PlanOptions(
            delete_manifests=self.delete_manifests.isChecked(),
            delete_referrers=self.delete_manifests.isChecked()
            and self.delete_referrers.isChecked(),
        )
        self.delete_button.setEnabled(False)  # until the new plan is shown
        self.optionsChanged.emit(options)

    def _confirmed(self) -> None:
        if self.delete_button.isEnabled():
            self.accept()


def _referrer_name(artifact_type: str) -> str:
    t = artifact_type.lower()
    if "sig" in t:
        return "signature"
    if "spdx" in t or "cyclonedx" in t or "sbom" in t:
        return "SBOM"
    if "in-toto" in t or "attest" in t:
        return "attestation"
    return "referrer"


__all__ = ["TYPED_CONFIRMATION_AT", "DeleteDialog", "ManifestRole", "stat_card"]
