"""The cleanup-policy editor with a live preview of what it would delete and keep, and why.

    open_policy_editor(flow, profile, repository, parent) -> None
        reads the repository's facts (and, for GitLab, the project's saved policy) in a task
        slot of the flow, then opens the editor
    PolicyEditor(flow, profile, repository, facts, gitlab=None, saved=None, parent=None, now=None)
        policy() -> Policy                   raises PolicyError for what RE2/GitLab would refuse
        gitlab_attributes() -> dict          container_expiration_policy_attributes to save
        preview: PolicyPreview | None        the last preview shown
        delete_model / keep_model            RecordsModel (Tag, Created, Size, Reason)
        delete_error / keep_error            inline complaints (RE2's words)
        tester / tester_result               try a tag name against the patterns
        run_now()                            the preview's selection → the flow's confirm dialog
        save_to_gitlab() / bulk_delete()     GitLab projects only
        signals: previewed(object)           a new PolicyPreview (or None when invalid)

GitLab's semantics come from `regview.core.deletion.policy` (anchored RE2, keep rules first, keep_n
newest, older_than); regview adds protected tags, a keep-list of references in use and
untagged manifests. The preview is computed on a worker thread (pure; 10,000 tags are fine).
"""

from __future__ import annotations

import functools
import html
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from regview.core import errors as E
from regview.core.deletion.plan import RepositoryFacts
from regview.core.deletion.policy import (
    GITLAB_DEFAULT_KEEP_N,
    GITLAB_DEFAULT_OLDER_THAN,
    GITLAB_KEEP_N,
    GITLAB_OLDER_THAN,
    Policy,
    PolicyError,
    PolicyPreview,
    compile_anchored,
    parse_keep_list,
    preview,
)
from regview.core.frees import TagSpace, same_tags
from regview.core.gitlab.cleanup import (
    GitLabTarget,
    bulk_delete,
    check_gitlab_policy,
    check_gitlab_values,
    policy_attributes,
    save_policy,
)
from regview.core.model import TagInfo
from regview.services.async_utils import run_blocking
from regview.spec.manifest import parse_time
from regview.ui.dialogs.delete.models import Record, RecordsModel, records_table
from regview.ui.screen_fit import grow_to_content, resize_to_fit
from regview.ui.tasks import Tasks
from regview.ui.theme import danger_sheet, error_sheet, set_sheet
from regview.util.units import human_size

if TYPE_CHECKING:
    from regview.ui.dialogs.delete.flow import DeleteFlow, DeleteMutation, GitLabContext

CADENCES = (("1d", "every day"), ("7d", "every week"), ("14d", "every two weeks"),
            ("1month", "every month"), ("3month", "every three months"))  # fmt: skip
NO_LIMIT = "no limit"
ANY_AGE = "any age"


class PolicyDraft:
    """The rules typed in a policy editor, kept per (registry, repository) for as long as the
    deletion flow (the window's session) lives: closing the dialog loses nothing typed."""

    FIELDS = ("delete_regex", "keep_regex", "protected")
    COMBOS = ("keep_n", "older_than")

    def __init__(self, editor: PolicyEditor) -> None:
        self.texts = {f: getattr(editor, f).text() for f in self.FIELDS}
        self.combos = {f: getattr(editor, f).currentText() for f in self.COMBOS}
        self.keep_list = editor.keep_list.toPlainText()
        self.untagged = editor.untagged.isChecked()
        self.enabled = editor.enabled.isChecked()
        self.cadence = editor.cadence.currentIndex()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PolicyDraft) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # (mutable: compared, never hashed)

    def apply(self, editor: PolicyEditor) -> None:
        for f, text in self.texts.items():
            getattr(editor, f).setText(text)
        for f, text in self.combos.items():
            getattr(editor, f).setCurrentText(text)
        editor.keep_list.setPlainText(self.keep_list)
        editor.untagged.setChecked(self.untagged)
        editor.enabled.setChecked(self.enabled)
        editor.cadence.setCurrentIndex(self.cadence)


# drafts per deletion flow (one per window), then per (profile, repository)
_DRAFTS: weakref.WeakKeyDictionary[DeleteFlow, dict[tuple[str, str], PolicyDraft]] = (
    weakref.WeakKeyDictionary()
)


def open_policy_editor(
    flow: DeleteFlow,
    profile: str,
    repository: str,
    parent: QWidget,
    shown: tuple[list[TagInfo], TagSpace] | None = None,
) -> None:
    async def load() -> None:
        from regview.ui.dialogs.delete.flow import describe_delete

        conn = None
        try:
            conn = await flow.open_port(profile, repository)
            facts = await flow.gather(conn, repository)
            saved: dict[str, Any] = {}
            if conn.gitlab is not None:
                try:
                    saved = await conn.gitlab.api.cleanup_policy(conn.gitlab.project_id)
                except E.RegistryError:
                    saved = {}
        except Exception as exc:
            if conn is not None:
                await conn.close()
            flow.status.emit("")
            problem = describe_delete(exc)
            if problem is None:
                raise
            flow.problem.emit(problem)
            return
        flow.status.emit("")
        editor = PolicyEditor(
            flow,
            profile,
            repository,
            facts,
            conn.gitlab,
            saved,
            parent,
            reload=functools.partial(flow.gather, conn, repository),
            shown=shown,
        )
        editor.finished.connect(lambda _r: flow.tasks.start("policy-close", conn.close()))
        editor.open()
        flow.policyEditorShown.emit(editor)

    flow.tasks.start("policy-facts", load())


class PolicyEditor(QDialog):
    previewed = Signal(object)

    def __init__(
        self,
        flow: DeleteFlow,
        profile: str,
        repository: str,
        facts: RepositoryFacts,
        gitlab: GitLabContext | None = None,
        saved: dict[str, Any] | None = None,
        parent: QWidget | None = None,
        now: datetime | None = None,
        reload: Callable[[], Awaitable[RepositoryFacts]] | None = None,
        shown: tuple[list[TagInfo], TagSpace] | None = None,
    ) -> None:
        super().__init__(parent)
        # the tags table's rows and snapshot, when it shows this repository (`_snapshot`)
        self._shown = shown
        self._reload = reload  # reads the repository's facts again (after a run)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.flow, self.profile, self.repository = flow, profile, repository
        self.facts = facts
        self.gitlab = gitlab
        self.now = now or datetime.now(UTC)
        self.preview: PolicyPreview | None = None
        # what the tags free, worked out once per set of facts (the tags it is of, the
        # snapshot) rather than on every change to the policy
        self._space: tuple[object, TagSpace] | None = None
        self.tasks = Tasks(self)
        self.setWindowTitle(f"Cleanup policy — {repository}")
        resize_to_fit(self, 1120, 700)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._recompute)
        self._build()
        grow_to_content(self)  # the rules' rows at a large font need more than 700 px
        if saved:
            self._load_saved(saved)
        draft = _DRAFTS.get(flow, {}).get((profile, repository))
        if draft is not None:  # typed in this session after what was saved: it wins
            draft.apply(self)
        # after a run (Run now, or Del in the window) the preview is computed again on what is
        # left: a second run must not plan tags that are already gone
        flow.mutated.connect(self._repository_changed)
        # what the editor opened with: closing it untouched leaves no draft behind (one would
        # stand in for a saved policy next time)
        self._opened_with = PolicyDraft(self)
        self._changed()

    # --- building ------------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 16, 18, 14)
        root.setSpacing(10)
        title = QLabel(f"Cleanup policy for {self.repository}")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.35)
        f.setBold(True)
        title.setFont(f)
        root.addWidget(title)
        where = (
            f"GitLab project {self.gitlab.project_path or self.gitlab.project_id}"
            if self.gitlab
            else self.facts.registry
        )
        self._where = where
        self.sub = sub = QLabel(self._subtitle())
        sub.setWordWrap(True)
        root.addWidget(sub)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 6, 0)
        lv.setSpacing(10)

        # On a GitLab project these rules are its cleanup policy (saved, run on GitLab's
        # schedule); anywhere else regview runs them by hand, with GitLab's semantics — a
        # schedule there would be a promise nothing keeps.
        on_gitlab = self.gitlab is not None
        gl = QGroupBox("Rules (GitLab's cleanup policy)" if on_gitlab else "Rules")
        form = QFormLayout(gl)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.enabled = QCheckBox("Run on a schedule (GitLab)")
        self.enabled.setChecked(True)
        self.cadence = QComboBox()
        for value, text in CADENCES:
            self.cadence.addItem(text, value)
        self.delete_regex = QLineEdit(".*")
        self.delete_regex.setPlaceholderText("e.g. .*  or  (feature|mr)-.*")
        self.delete_error = QLabel()
        self.delete_error.setWordWrap(True)
        self.delete_error.hide()
        self.keep_regex = QLineEdit()
        self.keep_regex.setPlaceholderText(r"e.g. v\d+\.\d+\.\d+|main")
        self.keep_error = QLabel()
        self.keep_error.setWordWrap(True)
        self.keep_error.hide()
        self.keep_n = QComboBox()
        self.keep_n.setEditable(True)
        self.keep_n.addItem(NO_LIMIT)
        for n in GITLAB_KEEP_N:
            self.keep_n.addItem(str(n))
        self.older_than = QComboBox()
        self.older_than.setEditable(True)
        self.older_than.addItem(ANY_AGE)
        for a in GITLAB_OLDER_THAN:
            self.older_than.addItem(a)
        # a careful start where nothing is saved: GitLab's defaults (a saved policy or this
        # session's draft replaces them below)
        self.keep_n.setCurrentText(str(GITLAB_DEFAULT_KEEP_N))
        self.older_than.setCurrentText(GITLAB_DEFAULT_OLDER_THAN)
        self.other_error = QLabel()
        self.other_error.setWordWrap(True)
        self.other_error.hide()
        form.addRow(self.enabled)
        form.addRow("Runs", self.cadence)
        form.addRow("Delete tags matching", self.delete_regex)
        form.addRow("", self.delete_error)
        form.addRow("Keep tags matching", self.keep_regex)
        form.addRow("", self.keep_error)
        form.addRow("Keep the newest", self.keep_n)
        form.addRow("Only older than", self.older_than)
        form.addRow("", self.other_error)
        form.setRowVisible(self.enabled, on_gitlab)
        form.setRowVisible(self.cadence, on_gitlab)
        lv.addWidget(gl)

        own = QGroupBox(
            "regview's extra rules (not saved to GitLab)" if on_gitlab else "More rules"
        )
        of = QFormLayout(own)
        of.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.protected = QLineEdit()
        # short placeholders (the long ones were cut off at the dialog's size); the whole
        # explanation is in the tooltips
        self.protected.setPlaceholderText("e.g. prod, stable")
        self.protected.setToolTip("Tags never deleted, comma-separated: prod, stable")
        self.keep_list = QPlainTextEdit()
        self.keep_list.setPlaceholderText("group/app:v1.4.2\none per line")
        self.keep_list.setToolTip(
            "References in use, one per line: paste them, or read a compose or deployment "
            "file with From file…; the manifests they name are kept"
        )
        # three lines of the user's font (72 px cut the placeholder's last line at 15 pt)
        self.keep_list.setMaximumHeight(self.keep_list.fontMetrics().lineSpacing() * 3 + 14)
        kl = QHBoxLayout()
        kl.addWidget(self.keep_list, 1)
        self.keep_file = QPushButton("From file…")
        self.keep_file.clicked.connect(self._load_keep_file)
        kl.addWidget(self.keep_file, 0, Qt.AlignmentFlag.AlignTop)
        self.untagged = QCheckBox("Also delete untagged manifests nothing kept uses")
        of.addRow("Protected tags", self.protected)
        of.addRow("In use", kl)
        of.addRow(self.untagged)
        lv.addWidget(own)

        tester = QGroupBox("Try a tag name")
        tl = QVBoxLayout(tester)
        self.tester = QLineEdit()
        self.tester.setPlaceholderText("type a tag name, e.g. feature-login-3f2a")
        self.tester_result = QLabel()
        self.tester_result.setWordWrap(True)
        self.tester_result.setTextFormat(Qt.TextFormat.RichText)
        tl.addWidget(self.tester)
        tl.addWidget(self.tester_result)
        lv.addWidget(tester)
        lv.addStretch(1)
        split.addWidget(left)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 0, 0, 0)
        self.headline = QLabel()
        hf = self.headline.font()
        hf.setPointSizeF(hf.pointSizeF() * 1.1)
        hf.setBold(True)
        self.headline.setFont(hf)
        self.headline.setWordWrap(True)
        rv.addWidget(self.headline)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        rv.addWidget(self.warnings)
        self.tabs = QTabWidget()
        headers = ("Tag", "Created", "Size", "Reason")
        self.delete_model = RecordsModel(headers, tone_column=0)
        self.keep_model = RecordsModel(headers, tone_column=0)
        self.delete_view = records_table(self.delete_model, (150, 90, 76))
        self.keep_view = records_table(self.keep_model, (150, 90, 76))
        self.delete_view.setAccessibleName("Tags the policy deletes")
        self.keep_view.setAccessibleName("Tags the policy keeps")
        self.tabs.addTab(self.delete_view, "Delete")
        self.tabs.addTab(self.keep_view, "Keep")
        rv.addWidget(self.tabs, 1)
        split.addWidget(right)
        split.setSizes([430, 690])
        root.addWidget(split, 1)

        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save to GitLab")
        self.save_button.setToolTip(
            "Save these rules as the project's cleanup policy (GitLab runs it on its schedule)"
        )
        self.save_button.clicked.connect(self.save_to_gitlab)
        self.bulk_button = QPushButton("Run with GitLab's bulk API…")
        self.bulk_button.setToolTip(
            "Ask GitLab to delete by these rules now (GitLab decides; no recycle bin; refused "
            "while regview's extra rules are set, since GitLab would ignore them)"
        )
        self.bulk_button.clicked.connect(self.bulk_delete)
        for b in (self.save_button, self.bulk_button):
            b.setVisible(self.gitlab is not None)
        self.state = QLabel()
        self.state.setWordWrap(True)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.bulk_button)
        buttons.addWidget(self.state, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.run_button = QPushButton("Run now…")
        self.run_button.setToolTip("Plan the deletion of the Delete tab, review it, then run it")
        set_sheet(self.run_button, danger_sheet)
        self.run_button.clicked.connect(self.run_now)
        buttons.addWidget(close)
        buttons.addWidget(self.run_button)
        root.addLayout(buttons)

        for w in (self.delete_regex, self.keep_regex, self.protected, self.tester):
            w.textChanged.connect(self._changed)
        for c in (self.keep_n, self.older_than):
            c.currentTextChanged.connect(self._changed)
        self.keep_list.textChanged.connect(self._changed)
        self.untagged.toggled.connect(self._changed)

    def _load_saved(self, saved: dict[str, Any]) -> None:
        self.enabled.setChecked(bool(saved.get("enabled", True)))
        if (i := self.cadence.findData(str(saved.get("cadence", "")))) >= 0:
            self.cadence.setCurrentIndex(i)
        if saved.get("name_regex"):
            self.delete_regex.setText(str(saved["name_regex"]))
        self.keep_regex.setText(str(saved.get("name_regex_keep") or ""))
        # what is saved, "no limit" / "any age" included (not the defaults of a new policy)
        self.keep_n.setCurrentText(str(saved["keep_n"]) if saved.get("keep_n") else NO_LIMIT)
        self.older_than.setCurrentText(str(saved.get("older_than") or ANY_AGE))
        nxt = parse_time(saved.get("next_run_at")) if saved.get("enabled") else None
        if nxt is not None:
            self.state.setText(
                f"Saved in GitLab; next run: {nxt.astimezone().strftime('%Y-%m-%d %H:%M')}"
            )

    # --- the policy ----------------------------------------------------------------------
    def _keep_n(self) -> int | None:
        text = self.keep_n.currentText().strip()
        if not text or text == NO_LIMIT:
            return None
        if not text.isdigit():
            raise PolicyError(f"keep the newest {text!r}: use a whole number, or '{NO_LIMIT}'")
        return int(text)

    def _older_than(self) -> str:
        text = self.older_than.currentText().strip()
        return "" if text in ("", ANY_AGE) else text

    def policy(self) -> Policy:
        return Policy(
            name_regex_delete=self.delete_regex.text(),
            name_regex_keep=self.keep_regex.text(),
            keep_n=self._keep_n(),
            older_than=self._older_than(),
            protected=tuple(p.strip() for p in self.protected.text().split(",") if p.strip()),
            keep_list=parse_keep_list(self.keep_list.toPlainText(), self.repository),
            delete_untagged=self.untagged.isChecked(),
        )

    def gitlab_attributes(self) -> dict[str, Any]:
        """Exactly what Save sends: unset rules as null, so older saved values do not linger."""
        policy = self.policy()
        check_gitlab_policy(policy, "a policy saved to GitLab")
        check_gitlab_values(policy)
        return policy_attributes(
            policy, cadence=str(self.cadence.currentData()), enabled=self.enabled.isChecked()
        )

    def _target(self) -> GitLabTarget:
        assert self.gitlab is not None
        gl = self.gitlab
        return GitLabTarget(gl.project_id, gl.project_path, gl.repository_id, self.repository)

    def _field_errors(self) -> bool:
        """Inline complaints per field; True when everything is usable."""
        ok = True
        for edit, label, what, required in (
            (self.delete_regex, self.delete_error, "delete pattern", True),
            (self.keep_regex, self.keep_error, "keep pattern", False),
        ):
            text = edit.text()
            message = ""
            if not text and required:
                message = "Required: use .* to consider every tag."
            elif text:
                try:
                    compile_anchored(text, what)
                except PolicyError as exc:
                    message = str(exc)
            label.setText(message)
            set_sheet(label, error_sheet)
            label.setVisible(bool(message))
            ok = ok and not message
        return ok

    def _changed(self) -> None:
        self._update_tester()
        self._timer.start()

    def _recompute(self) -> None:
        fields_ok = self._field_errors()
        try:
            policy = self.policy()
            policy.validate()
            self.other_error.hide()
        except PolicyError as exc:
            if fields_ok:
                self.other_error.setText(str(exc))
                set_sheet(self.other_error, error_sheet)
                self.other_error.show()
            self._show_preview(None)
            return
        self.tasks.start("preview", self._compute(policy))

    async def _compute(self, policy: Policy) -> None:
        facts = self.facts
        if self._space is None or self._space[0] is not facts.tags:
            self._space = (facts.tags, await self._snapshot(facts.tags))
        result = await run_blocking(
            preview,
            policy,
            facts.tags,
            self.now,
            manifests=facts.manifests,
            referrers=facts.referrers,
            space=self._space[1],
        )
        self._show_preview(result)

    async def _snapshot(self, tags: Sequence[TagInfo]) -> TagSpace:
        """What `tags` free: the table's snapshot when they are the tags it shows (read again
        for the editor: new objects, the same manifests), else worked out from nothing."""
        if self._shown is not None:
            rows, space = self._shown
            self._shown = None  # once: after a run the facts differ from what was on show
            if await run_blocking(same_tags, rows, tags):
                return space
        return await run_blocking(TagSpace.of, tags)

    def _show_preview(self, result: PolicyPreview | None) -> None:
        self.preview = result
        self.run_button.setEnabled(
            result is not None
            and bool(result.delete or result.untagged)
            and not self.tasks.running("facts")
        )
        self.save_button.setEnabled(result is not None)
        self.bulk_button.setEnabled(result is not None)
        if result is None:
            self.headline.setText("Fix the rules on the left to see what they would do.")
            self.delete_model.set_records([])
            self.keep_model.set_records([])
            self.tabs.setTabText(0, "Delete")
            self.tabs.setTabText(1, "Keep")
            self.warnings.hide()
            self.previewed.emit(None)
            return

        def rec(d: Any, tone: str) -> Record:
            created = d.created.astimezone().strftime("%Y-%m-%d") if d.created else "unknown"
            return Record(
                (d.tag, created, human_size(d.size), d.reason),
                tone=tone,
                key=d.tag,
                raw=d,
                tooltip=f"{d.tag}: {d.reason}",
            )

        deletes = [rec(d, "fail") for d in result.delete]
        deletes += [
            Record(("(untagged)", "", "", reason), tone="fail", key=digest, tooltip=digest)
            for digest, reason in result.untagged
        ]
        self.delete_model.set_records(deletes)
        self.keep_model.set_records([rec(d, "ok") for d in result.keep])
        size = human_size(result.reclaimable_bytes)
        self.tabs.setTabText(0, f"Delete ({len(deletes):,} · {size})")
        self.tabs.setTabText(1, f"Keep ({len(result.keep):,})")
        self.headline.setText(
            f"{len(result.delete):,} of {len(self.facts.tags):,} tags would be deleted, "
            f"{len(result.keep):,} kept — frees {size} after garbage collection."
        )
        if result.warnings:
            self.warnings.setText("⚠ " + "<br>⚠ ".join(result.warnings))
            set_sheet(self.warnings, error_sheet)
        self.warnings.setVisible(bool(result.warnings))
        self.previewed.emit(result)

    # --- regex tester --------------------------------------------------------------------
    def _update_tester(self) -> None:
        name = self.tester.text().strip()
        if not name:
            self.tester_result.setText("")
            return
        parts: list[str] = []
        verdict = ""
        try:
            d = compile_anchored(self.delete_regex.text() or "(?!)", "delete pattern")
            delete_hit = bool(d.search(name))
            parts.append(f"delete pattern: {'<b>matches</b>' if delete_hit else 'no match'}")
            keep_hit = False
            if self.keep_regex.text():
                k = compile_anchored(self.keep_regex.text(), "keep pattern")
                keep_hit = bool(k.search(name))
                parts.append(f"keep pattern: {'<b>matches</b>' if keep_hit else 'no match'}")
        except PolicyError as exc:
            set_sheet(self.tester_result, error_sheet)
            self.tester_result.setText(html.escape(str(exc), quote=False))
            return
        set_sheet(self.tester_result, "")
        if name == "latest":
            verdict = "kept: 'latest' is never deleted"
        elif keep_hit:
            verdict = "kept: the keep pattern wins"
        elif delete_hit:
            verdict = "a candidate for deletion (then the newest-N and age rules apply)"
        else:
            verdict = "kept: the delete pattern does not match the whole name"
        self.tester_result.setText(" · ".join(parts) + f"<br>→ {verdict}")

    # --- actions -------------------------------------------------------------------------
    def _load_keep_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "References in use",
            "",
            "Text, YAML, compose (*.txt *.yml *.yaml *.list);;All (*)",
        )
        if path:
            self.load_keep_file(path)

    def load_keep_file(self, path: str | Path) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            self.state.setText(f"Cannot read {path}: {exc.strerror or exc}")
            return
        self.keep_list.setPlainText(text)

    def _subtitle(self) -> str:
        return (
            f"{self._where} · {len(self.facts.tags):,} tags. As GitLab's cleanup policy: keep "
            "rules win, regexes are RE2 and must match the whole tag name, 'latest' is always "
            "kept."
        )

    def _repository_changed(self, m: DeleteMutation) -> None:
        if (m.profile, m.repository) != (self.profile, self.repository):
            return
        gone = set(m.removed)
        if gone:  # at once: what was deleted leaves the preview before the facts are read again
            self.facts = replace(
                self.facts, tags=tuple(t for t in self.facts.tags if t.tag not in gone)
            )
            self.sub.setText(self._subtitle())
            self._recompute()
        if self._reload is not None:
            self.run_button.setEnabled(False)
            self.tasks.start("facts", self._refetch(self._reload))

    async def _refetch(self, reload: Callable[[], Awaitable[RepositoryFacts]]) -> None:
        from regview.ui.dialogs.delete.flow import describe_delete

        try:
            facts = await reload()
        except Exception as exc:
            problem = describe_delete(exc)
            if problem is None:
                raise
            self._say(f"Could not read the repository again: {problem.text()}", error=True)
            return
        finally:
            self.flow.status.emit("")
        self.facts = facts
        self.sub.setText(self._subtitle())
        self._recompute()

    def run_now(self) -> None:
        if self.preview is None or self.tasks.running("facts"):
            return
        self.flow.run_selection(
            self.profile, self.repository, self.preview.selection(), facts=self.facts
        )

    def _say(self, text: str, *, error: bool = False) -> None:
        self.state.setText(text)
        set_sheet(self.state, error_sheet if error else "")

    def save_to_gitlab(self) -> None:
        if self.gitlab is None:
            return
        try:
            policy = self.policy()
            self.gitlab_attributes()  # GitLab's own checks, before anything is sent
        except PolicyError as exc:
            self._say(f"Not saved: {exc}", error=True)
            return
        self._say("Saving…")
        self.save_button.setEnabled(False)
        self.tasks.start("save", self._save(policy))

    async def _save(self, policy: Policy) -> None:
        assert self.gitlab is not None
        try:
            saved = await save_policy(
                self.gitlab.api,
                self._target(),
                policy,
                cadence=str(self.cadence.currentData()),
                enabled=self.enabled.isChecked(),
            )
        except (E.RegistryError, PolicyError) as exc:
            self._say(f"Not saved: {getattr(exc, 'message', None) or exc}", error=True)
            return
        finally:
            self.save_button.setEnabled(self.preview is not None)
        if saved.enabled and saved.next_run_at is not None:
            when = saved.next_run_at.astimezone().strftime("%Y-%m-%d %H:%M")
            self._say(f"Saved to GitLab. Next run: {when}.")
        elif saved.enabled:
            self._say("Saved to GitLab; GitLab has not scheduled the next run yet.")
        else:
            self._say("Saved to GitLab, not scheduled (tick “Run on a schedule” to enable it).")

    def bulk_delete(self) -> None:
        if self.gitlab is None or self.preview is None:
            return
        try:
            policy = self.policy()
            check_gitlab_policy(policy, "GitLab's bulk delete")
        except PolicyError as exc:
            self._say(f"Not run: {exc}", error=True)
            return
        if self.gitlab.repository_id is None:
            self._say(
                f"Not run: GitLab lists no registry repository {self.repository} in project "
                f"{self.gitlab.project_path}; reload and try again.",
                error=True,
            )
            return
        answer = QMessageBox.warning(
            self,
            "Run GitLab's bulk delete?",
            f"GitLab will delete tags of {self.repository} by these rules itself, in the "
            f"background (the preview expects {len(self.preview.delete):,}). Nothing goes to "
            "regview's recycle bin, and GitLab allows this once an hour per repository.",
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._say("Asking GitLab…")
        self.bulk_button.setEnabled(False)
        self.tasks.start("bulk", self._bulk(policy))

    async def _bulk(self, policy: Policy) -> None:
        assert self.gitlab is not None
        try:
            await bulk_delete(self.gitlab.api, self._target(), policy)
        except (E.RegistryError, PolicyError) as exc:
            self._say(f"GitLab refused: {getattr(exc, 'message', None) or exc}", error=True)
            return
        finally:
            self.bulk_button.setEnabled(self.preview is not None)
        self._say(
            "GitLab accepted the bulk delete; it runs in the background (reload the tags in a "
            "moment to see the result)."
        )

    def done(self, result: int) -> None:
        draft = PolicyDraft(self)
        if draft != self._opened_with:
            _DRAFTS.setdefault(self.flow, {})[(self.profile, self.repository)] = draft
        self._timer.stop()  # a pending recompute would start a preview after the close
        self.tasks.cancel_all()
        super().done(result)
