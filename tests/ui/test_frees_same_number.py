"""One number for "what this frees": the tags table's status bar, the delete dialog and the
cleanup policy's preview show the same "frees N after garbage collection" for the same tags, on
the embedded registry's demo data (release tags share their manifest with a commit tag; images
share base layers)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from connect_support import local_registry, run
from delete_support import open_policy_editor, open_repo, open_window, until
from pytestqt.qtbot import QtBot

from regview.core.frees import TagSpace
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.util.units import human_size

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/webshop/frontend"


def test_status_bar_delete_dialog_and_policy_preview_agree(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        open_repo(qloop, window, REPO)
        view = window.tags_view
        run(qloop, until(lambda: view.model.space is not None))
        rows = list(view.model.rows)
        by_digest: dict[str, list[str]] = {}
        for t in rows:
            by_digest.setdefault(t.digest, []).append(t.tag)
        # Both tags on one shared manifest, and two more tags: a shared manifest, shared layers.
        pair = next(tags for tags in by_digest.values() if len(tags) == 2)
        alone = [t.tag for t in rows if len(by_digest[t.digest]) == 1][:2]
        names = sorted([*pair, *alone])
        view.select_tags(names)
        freed = TagSpace.of(rows).freed_bytes(names)
        assert freed > 0
        words = f"{len(names)} selected — frees {human_size(freed)} after GC"
        assert words in view.summary()

        shown: list[DeleteDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)
        window.delete_flow.delete_tags("demo", REPO, names)
        run(qloop, until(lambda: bool(shown)))
        dialog = shown[0]
        assert dialog.plan.blast is not None and dialog.plan.blast.reclaimable_bytes == freed
        assert f"Frees <b>{human_size(freed)}</b> after garbage collection" in (
            dialog.blast_label.text()
        )
        dialog.reject()

        editor = open_policy_editor(qloop, window)
        editor.delete_regex.setText("|".join(re.escape(n) for n in names))
        editor.keep_regex.clear()
        editor.keep_n.setCurrentText("no limit")  # (a new policy keeps the 10 newest)
        editor.older_than.setCurrentText("any age")
        run(
            qloop,
            until(
                lambda: (
                    editor.preview is not None
                    and sorted(d.tag for d in editor.preview.delete) == names
                )
            ),
        )
        assert editor.preview is not None and editor.preview.reclaimable_bytes == freed
        assert f"frees {human_size(freed)} after garbage collection" in editor.headline.text()
        editor.close()
