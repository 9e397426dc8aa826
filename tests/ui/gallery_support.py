"""Every page of the main window and every dialog, opened with content (long tag names, a
finished deletion with failures, a recycle-bin entry, found logins), for tests that look at all
of them at once: clipped text at large fonts and scale factors, screenshots.

    await main_pages(window)                 -> [(name, setup)]  the pages, each shown by setup()
    await show_unreachable(window, name)     a registry where nothing answers, in its error state
    dialogs(window, tmp_path)                -> [(name, dialog)] built over a started window
    save_shot(widget, name)                  grab into $REGVIEW_GALLERY_DIR (when set)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QWidget
from window_support import until

from regview.core.deletion.executor_types import ExecutionReport, ItemResult, Outcome, Status
from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.journal.journal import Journal, JournalItem
from regview.core.journal.types import ItemState
from regview.core.model import ArtifactKind, CredentialKind, TagInfo
from regview.paths import default_paths
from regview.services.import_plan import Candidate
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.flow import DeleteFlow
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.dialogs.import_dialog import ImportDialog
from regview.ui.dialogs.policy_editor import PolicyEditor
from regview.ui.dialogs.tokens_dialog import TokensDialog
from regview.ui.local_mode import LOCAL_PROFILE
from regview.ui.pages.trash_view import TrashView
from regview.ui.repository_paths import PathDialog
from regview.ui.visibility import VisibilityDialog
from regview.ui.window.main_window import MainWindow

OCI = "application/vnd.oci.image.manifest.v1+json"
#: the name of a registry where nothing answers (http://127.0.0.1:1)
UNREACHABLE = "unreachable"
#: tag names as CI pipelines make them: long, few places to break
LONG_TAGS = (
    "release-2024.11.3-build.48213-amd64",
    "feature-extremely-long-branch-name-for-the-new-billing-service",
    "sha-0123456789abcdef0123456789abcdef01234567",
    "latest",
    "v1.2.3",
)


def facts() -> RepositoryFacts:
    return RepositoryFacts(
        "registry.gitlab.example.com",
        "platform-team/services/billing-service/api-gateway",
        tuple(
            TagInfo(
                "platform-team/services/billing-service/api-gateway",
                tag,
                f"sha256:{i % 3:064x}",
                OCI,
                ArtifactKind.IMAGE,
                size=123_456_789 * (i + 1),
            )
            for i, tag in enumerate(LONG_TAGS)
        ),
        Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True),
    )


def finished_deletion(parent: QWidget) -> DeleteProgressDialog:
    """The results of a deletion with each kind of card: deleted, verified, failed, skipped."""
    plan = make_plan(facts(), Selection.of_tags(list(LONG_TAGS[:3])))
    dialog = DeleteProgressDialog(plan, parent)
    report = ExecutionReport(plan, journal_id="20241103-101500-3f2a")
    digest = plan.tag_actions[0].digest
    report.results = [
        ItemResult(
            "tag",
            LONG_TAGS[0],
            digest,
            Outcome.DELETED,
            "deleted",
            status=Status.DELETED_VERIFIED,
            evidence="the reply was lost; a read-back found the tag gone (404 MANIFEST_UNKNOWN)",
        ),
        ItemResult(
            "tag",
            LONG_TAGS[1],
            digest,
            Outcome.FAILED,
            "HTTP 503 from registry.gitlab.example.com: the service is unavailable, "
            "three retries over 14 s",
            status=Status.NOT_DELETED,
            evidence="read back after the retries: the tag is still there",
        ),
        ItemResult("tag", LONG_TAGS[2], digest, Outcome.NOT_STARTED, "cancelled"),
    ]
    dialog.finish(report)
    return dialog


def trash(window: MainWindow, tmp_path: Path) -> TrashView:
    journal = Journal(default_paths(tmp_path / "gallery"))
    items = [
        JournalItem(f"tag:{tag}", "tag", tag, f"sha256:{i:064x}", OCI)
        for i, tag in enumerate(LONG_TAGS[:3])
    ]
    writer = journal.begin(
        "registry.gitlab.example.com", "platform-team/services/billing-service", items
    )
    for item in items:
        writer.started(item.key)
        writer.outcome(item.key, ItemState.DELETED)
    writer.close("done")
    return TrashView(DeleteFlow(window.sessions, None, journal), window)


def import_logins(window: MainWindow) -> ImportDialog:
    dialog = ImportDialog(window.accounts, window.backend, window)
    dialog.candidates = [
        Candidate(
            "registry.gitlab.example.com",
            "https://registry.gitlab.example.com",
            "ci-deploy-token-platform",
            "s3cret",
            CredentialKind.PERSONAL,
            "~/.docker/config.json (credential helper secretservice)",
            gitlab=True,
            api_url="https://gitlab.example.com/api/v4",
            checked="GitLab, token accepted",
        ),
        Candidate(
            "ghcr.io",
            "https://ghcr.io",
            "octocat",
            "s3cret",
            CredentialKind.PASSWORD,
            "${XDG_RUNTIME_DIR}/containers/auth.json",
            checked="Docker registry, login accepted",
        ),
    ]
    dialog._fill()
    return dialog


def dialogs(window: MainWindow, tmp_path: Path) -> list[tuple[str, QDialog]]:
    """Each dialog regview has, over `window` (started, local mode running)."""
    f = facts()
    flow = window.delete_flow
    return [
        ("add-registry", AddRegistryDialog(window.accounts, window.backend, window)),
        (
            "replace-credential",
            AddRegistryDialog(
                window.accounts,
                window.backend,
                window,
                profile=window.registries.get(LOCAL_PROFILE),
            ),
        ),
        ("tokens", TokensDialog(window.accounts, window.backend, window)),
        ("import-logins", import_logins(window)),
        (
            "delete-confirm",
            DeleteDialog(make_plan(f, Selection.of_tags(["latest"])), parent=window),
        ),
        ("delete-results", finished_deletion(window)),
        ("policy-editor", PolicyEditor(flow, "reg", f.repository, f, parent=window)),
        ("trash", trash(window, tmp_path)),
        ("visibility", VisibilityDialog(flow, "reg", f.repository, window)),
        ("path", PathDialog("Add a repository path", "platform-team/services/", window)),
        ("shortcuts", window.menus.show_shortcuts()),
        ("about", window.menus.show_about()),
    ]


def main_pages(window: MainWindow) -> list[tuple[str, Callable[[], object]]]:
    """The main window's pages; each setup() shows it as the window does, under its own heading
    and counts (the tags page must be open: its registry and repository are the ones shown)."""
    name, repository = window.browser.profile, window.browser.repository
    return [
        ("main-tags", lambda: _tags_page(window, name, repository, 0)),
        # the last details tab: its label was cut to "Re" behind the scroll arrows
        (
            "main-tags-referrers",
            lambda: _tags_page(window, name, repository, window.details.tabs.count() - 1),
        ),
        # switching the stack alone left the tags page's heading and counts over these
        ("main-repositories", lambda: _registry_page(window, name)),
        ("main-overview", lambda: window.show_overview(name)),
        ("main-welcome", lambda: _welcome_page(window)),
    ]


def _registry_page(window: MainWindow, name: str) -> None:
    window.open_profile(name)
    window.sidebar.select_registry(name)  # as after a click on it


def _welcome_page(window: MainWindow) -> None:
    from regview.ui.window.main_window import PAGE_WELCOME

    # as the window shows it (its last registry removed): no heading, no counts
    window.stack.set_counts("")
    window.stack.show_page(PAGE_WELCOME, "Welcome to regview")


def _tags_page(window: MainWindow, name: str, repository: str, details_tab: int) -> None:
    from regview.ui.window.main_window import PAGE_TAGS

    # the tags page keeps its repository bound; only the heading and counts follow the stack
    window.stack.show_page(PAGE_TAGS, f"{name}  ›  {repository}")
    window.stack.set_counts(window.tags_view.summary())
    window.sidebar.select_repository(name, repository)
    window.details.tabs.setCurrentIndex(details_tab)


async def show_unreachable(window: MainWindow, name: str) -> None:
    """Registry `name`, where nothing answers, in its error state: its own heading and
    banner, none of another registry's rows."""
    window.open_profile(name)
    window.sidebar.select_registry(name)  # as after a click on it
    await until(lambda: window.banner.isVisible(), 60)


def save_shot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("REGVIEW_GALLERY_DIR")
    if not folder:
        return
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    suffix = os.environ.get("REGVIEW_GALLERY_SUFFIX", "")
    widget.grab().save(str(target / f"{name}{suffix}.png"), "PNG")
