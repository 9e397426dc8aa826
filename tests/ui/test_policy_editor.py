"""The policy editor on the embedded registry's demo data: typed patterns update the keep/delete
tabs with reasons and counts; an invalid RE2 regex is shown inline in RE2's words; the regex
tester; "Run now" opens the same confirmation (typed, for >= 20 tags) and deletes nothing on
Cancel."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import (
    SCHEMES,
    head_digest,
    open_policy_editor,
    open_repo,
    open_window,
    shot,
    theme,
    three_tag_facts,
    until,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox
from pytestqt.qtbot import QtBot

from regview.core.deletion.policy import preview
from regview.core.frees import TagSpace
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.policy_editor import PolicyEditor

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/webshop/frontend"


def _retype(qtbot: QtBot, edit: Any, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_policy_preview_regex_errors_and_run_now(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        open_repo(qloop, window, REPO)
        total = len(window.tags_view.model.rows)
        editor = open_policy_editor(qloop, window)

        # GitLab semantics: ".*" + keep releases + keep the 5 newest + only older than 30d
        _retype(qtbot, editor.keep_regex, r"v\d+\.\d+\.\d+")
        editor.keep_n.setCurrentText("5")
        editor.older_than.setCurrentText("30d")
        run(
            qloop,
            until(
                lambda: (
                    editor.preview is not None
                    and editor.preview.keep
                    and any("keep pattern" in d.reason for d in editor.preview.keep)
                )
            ),
        )
        run(
            qloop,
            until(
                lambda: (
                    editor.preview is not None
                    and any("older than 30d" in d.reason for d in editor.preview.delete)
                )
            ),
        )
        p = editor.preview
        assert p is not None
        assert len(p.delete) + len(p.keep) == total
        reasons = {d.tag: d.reason for d in p.keep}
        assert "never deleted" in reasons["latest"]
        assert any("keep pattern" in r for t, r in reasons.items() if t.startswith("v"))
        assert sum("newest" in r for r in reasons.values()) == 5
        assert all(not d.tag.startswith("v") and d.tag != "latest" for d in p.delete)
        assert editor.delete_model.rowCount() == len(p.delete) + len(p.untagged)
        assert editor.keep_model.rowCount() == len(p.keep)
        assert editor.tabs.tabText(0).startswith(f"Delete ({len(p.delete)} ")
        assert editor.tabs.tabText(1) == f"Keep ({len(p.keep)})"
        assert editor.keep_model.record_at(0).cells[3]  # every row has its reason

        # the tester
        qtbot.keyClicks(editor.tester, "v1.2.3")
        assert "keep pattern wins" in editor.tester_result.text()
        _retype(qtbot, editor.tester, "feature-cart-00aa")
        assert "candidate for deletion" in editor.tester_result.text()

        editor.resize(1120, 700)
        shot(qloop, editor, tmp_path, "policy-editor", scheme)

        # an invalid regex (RE2 has no lookahead): inline complaint, no preview, no Run now
        _retype(qtbot, editor.keep_regex, "(?!v).*")
        run(qloop, until(lambda: editor.keep_error.isVisible()))
        assert "not a valid RE2 regex" in editor.keep_error.text()
        assert "lookahead" in editor.keep_error.text()
        assert editor.preview is None and not editor.run_button.isEnabled()
        assert editor.delete_model.rowCount() == 0

        # fix it: the preview comes back; Run now → the confirmation with the typed check
        _retype(qtbot, editor.keep_regex, r"v\d+\.\d+\.\d+")
        editor.older_than.setCurrentText("any age")
        editor.keep_n.setCurrentText("1")
        run(
            qloop,
            until(
                lambda: (
                    editor.preview is not None
                    and not editor.keep_error.isVisible()
                    and sum("newest" in d.reason for d in editor.preview.keep) == 1
                )
            ),
        )
        assert len(editor.preview.delete) >= 20
        shown: list[DeleteDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)
        qtbot.mouseClick(editor.run_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(shown)))
        dialog = shown[0]
        victims = sorted(d.tag for d in editor.preview.delete)
        assert sorted(a.tag for a in dialog.plan.tag_actions) == victims
        assert dialog.needs_typed_confirmation and dialog.confirm_row.isVisible()
        assert not dialog.delete_button.isEnabled()
        qtbot.keyClicks(dialog.confirm_edit, "12")
        assert not dialog.delete_button.isEnabled()
        _retype(qtbot, dialog.confirm_edit, str(len(victims)))
        assert dialog.delete_button.isEnabled()
        _retype(qtbot, dialog.confirm_edit, REPO)
        assert dialog.delete_button.isEnabled()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        run(qloop, asyncio.sleep(0.1))
        assert head_digest(url, REPO, victims[0]) is not None  # Cancel deleted nothing
        editor.reject()
        run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
        window.close()


def test_the_editor_works_out_what_the_tags_free_once_per_set_of_facts(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the tags free (for 100,000 tags a third of a preview's time) is not worked out on
    every change to the policy: the first preview takes the tags table's snapshot when the
    tags it read are the ones on show, later previews reuse it, and only new facts (after a
    run) or tags other than those on show are worked out from nothing — each time with the
    figure a preview from nothing gives."""
    snapshots: list[int] = []
    of = TagSpace.of.__func__  # type: ignore[attr-defined]

    def counting(cls: type[TagSpace], tags: Any) -> TagSpace:
        snapshots.append(len(list(tags)))
        return of(cls, tags)  # type: ignore[no-any-return]

    def from_nothing(editor: PolicyEditor) -> int:
        facts = editor.facts
        p = preview(
            editor.policy(),
            facts.tags,
            editor.now,
            manifests=facts.manifests,
            referrers=facts.referrers,
        )
        return p.reclaimable_bytes

    def previewed(editor: PolicyEditor, keep_n: str) -> None:
        before = editor.preview
        editor.keep_n.setCurrentText(keep_n)
        run(qloop, until(lambda: editor.preview is not before and editor.preview is not None))

    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        open_repo(qloop, window, REPO)
        table = window.tags_view.model
        run(qloop, until(lambda: table.space is not None))  # the Frees column is in
        monkeypatch.setattr(TagSpace, "of", classmethod(counting))
        editor = open_policy_editor(qloop, window)
        for keep_n in ("5", "1", "no limit"):
            previewed(editor, keep_n)
        assert snapshots == []  # four previews, the table's snapshot
        p = editor.preview
        assert p is not None and p.reclaimable_bytes > 0
        assert from_nothing(editor) == p.reclaimable_bytes and len(snapshots) == 1
        # new facts (as after a run): worked out again, once, for them
        facts = editor.facts
        editor.facts = replace(facts, tags=facts.tags[1:])
        previewed(editor, "5")
        previewed(editor, "no limit")
        assert snapshots[1:] == [len(facts.tags) - 1]
        assert from_nothing(editor) == editor.preview.reclaimable_bytes
        editor.reject()
        run(qloop, editor.tasks.aclose())

        # a table showing other tags than the editor reads: its snapshot is not taken
        other = PolicyEditor(
            window.delete_flow,
            "demo",
            REPO,
            facts,
            parent=window,
            shown=(list(table.rows)[1:], table.space),
        )
        run(qloop, until(lambda: other.preview is not None))
        assert snapshots[-1] == len(facts.tags)
        previewed(other, "25")
        assert from_nothing(other) == other.preview.reclaimable_bytes
        other.reject()
        run(qloop, other.tasks.aclose())
        run(qloop, window.aclose())
        window.close()


def test_a_new_policy_starts_from_gitlabs_defaults_and_a_saved_one_as_saved(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Opened where nothing is saved, the editor starts from GitLab's defaults for a new policy
    — the 10 newest kept, only tags older than 90 days removed — so its first preview is a
    careful one (it used to mark every tag but `latest`). A saved policy shows as saved, its
    "no limit" and "any age" included."""
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        open_repo(qloop, window, REPO)
        rows = window.tags_view.model.rows
        editor = open_policy_editor(qloop, window)
        assert (editor.keep_n.currentText(), editor.older_than.currentText()) == ("10", "90d")
        # not a GitLab project: no GitLab schedule is offered, nothing says "saved to GitLab"
        assert editor.gitlab is None
        assert editor.enabled.isHidden() and editor.cadence.isHidden()
        titles = [b.title() for b in editor.findChildren(QGroupBox)]
        assert titles and not any("GitLab" in t for t in titles), titles
        p = editor.preview
        assert p is not None and len(p.delete) + len(p.keep) == len(rows)
        newest = sorted(
            (t for t in rows if t.tag != "latest"),
            key=lambda t: (t.created or editor.now, t.tag),
            reverse=True,
        )[:10]
        assert {t.tag for t in newest} <= {d.tag for d in p.keep}
        old = editor.now - timedelta(days=90)
        assert all(d.created is not None and d.created < old for d in p.delete)
        editor.resize(1120, 700)
        shot(qloop, editor, tmp_path, "policy-editor-new", "light")
        editor.reject()

        saved = {"enabled": True, "name_regex": ".*", "keep_n": None, "older_than": None}
        again = PolicyEditor(
            window.delete_flow, "demo", REPO, editor.facts, saved=saved, parent=window
        )
        assert (again.keep_n.currentText(), again.older_than.currentText()) == (
            "no limit",
            "any age",
        )
        # typed, then closed: this session's draft comes back, over what is saved
        again.keep_n.setCurrentText("25")
        again.reject()
        run(qloop, again.tasks.aclose())
        third = PolicyEditor(
            window.delete_flow, "demo", REPO, editor.facts, saved=saved, parent=window
        )
        assert (third.keep_n.currentText(), third.older_than.currentText()) == ("25", "any age")
        third.reject()
        run(qloop, third.tasks.aclose())
        run(qloop, window.aclose())
        window.close()


def test_quitting_with_the_editor_open_starts_no_preview_after_the_close(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The editor recomputes its preview 120 ms after a change (and once when it opens). Quitting
    within those 120 ms must not let that timer start a preview after the window's tasks were
    awaited: it would run on after the loop stops (CI saw `PolicyEditor._compute` outlive a
    test this way)."""
    from window_support import local_window

    window = local_window(qtbot, tmp_path)
    facts = three_tag_facts()

    started: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        started.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kw)

    async def scenario() -> None:
        await window.start()
        editor = PolicyEditor(window.delete_flow, "reg", "team/app", facts, parent=window)
        editor.show()
        await window.aclose()
        started.clear()
        qloop.set_task_factory(factory)
        try:
            await asyncio.sleep(0.4)  # past the editor's 120 ms timer
        finally:
            qloop.set_task_factory(None)
        await window.local_mode.stop()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert started == []
