"""What the confirmation says about signatures and SBOMs, on the demo registry over loopback
(found walking the app: main, latest, feature-dark-mode-c0bc, c0bc0c15, 8919e4cb, develop of
acme/webshop/frontend, after the release tag on main's signed manifest was deleted; Del). A tag-only plan leaves its manifests in place, untagged: their
signatures stay attached, nothing is orphaned. The words name the real checkboxes (there is no
'delete referrers' option in the app) and show no HTML entity."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from delete_support import SCHEMES, confirm_with_del, demo_repository, shot, until
from pytestqt.qtbot import QtBot

from regview.ui.dialogs.delete.dialog import DeleteDialog

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/webshop/frontend"
WALKED = ["main", "latest", "feature-dark-mode-c0bc", "c0bc0c15", "8919e4cb", "develop"]
MANIFESTS_BOX = "“Also delete manifests left untagged”"
REFERRERS_BOX = "“…and their signatures and SBOMs”"


def _affected_words(dialog: DeleteDialog) -> list[str]:
    model = dialog.affected_model
    return [" ".join(map(str, model.record_at(r).cells)) for r in range(model.rowCount())]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_signature_words_are_true_and_name_the_checkboxes(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with demo_repository(qtbot, qloop, qapp, tmp_path, scheme, REPO) as (_url, window):
        view = window.tags_view
        digests = {t.tag: t.digest for t in view.model.rows}
        assert set(WALKED) <= set(digests)
        # the walk had deleted the release tag on main's (signed) manifest before: take it too
        chosen = sorted({*WALKED, *(t for t, d in digests.items() if d == digests["main"])})
        assert len(chosen) > len(WALKED)
        view.select_tags(chosen)
        assert sorted(t.tag for t in view.selected_tags()) == chosen
        dialog = confirm_with_del(qtbot, qloop, window)
        plan = dialog.plan
        assert plan.manifest_actions == ()  # tag-only: no manifest is deleted by digest
        blast = plan.blast
        assert blast is not None and blast.untagged_referrers, "the demo signs these images"
        assert blast.orphaned_referrers == ()  # their manifests stay: nothing points at nothing
        text = dialog.refusal_box.text()
        assert dialog.refusal_box.isVisible()
        assert "&#x27;" not in text and "&amp;" not in text
        assert "delete referrers" not in text
        assert "orphaned" not in text and "removes" not in text
        assert "leaves untagged" in text
        # what to tick, in the order the dialog allows it (the second is disabled until then)
        assert MANIFESTS_BOX in text and REFERRERS_BOX in text
        assert not dialog.delete_referrers.isEnabled()
        words = _affected_words(dialog)
        assert not any("subject goes" in w or "orphaned" in w for w in words), words
        assert any("stays, on its manifest left untagged" in w for w in words), words
        dialog.resize(900, 620)
        dialog.tabs.setCurrentIndex(1)
        shot(qloop, dialog, tmp_path, "delete-referrers-tag-only", scheme)

        # tick the first box: the manifests are deleted, their signatures would be orphaned
        dialog.delete_manifests.setChecked(True)
        run(qloop, until(lambda: dialog.plan.options.delete_manifests))
        plan = dialog.plan
        assert plan.manifest_actions
        blast = plan.blast
        assert blast is not None and blast.orphaned_referrers
        text = dialog.refusal_box.text()
        assert "this plan deletes" in text and "orphaned" in text
        assert REFERRERS_BOX in text and MANIFESTS_BOX not in text  # the first is ticked
        assert dialog.delete_referrers.isEnabled()
        words = _affected_words(dialog)
        assert any("the manifest it points at is deleted" in w for w in words), words
        shot(qloop, dialog, tmp_path, "delete-referrers-manifests", scheme)

        # and the second: nothing is left orphaned, nothing to warn about
        dialog.delete_referrers.setChecked(True)
        run(qloop, until(lambda: dialog.plan.options.delete_referrers))
        blast = dialog.plan.blast
        assert blast is not None and blast.deleted_referrers and not blast.orphaned_referrers
        assert not any("signature" in w for w in dialog.plan.warnings)
        assert not dialog.refusal_box.isVisible() or "signature" not in dialog.refusal_box.text()
        dialog.reject()
        window.close()
        run(qloop, window.sessions.close_all())
