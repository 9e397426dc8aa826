"""The main window's deletion entry points, over `regview.ui.dialogs.delete.flow` (imported when wired).

    WindowDeletion (a part of MainWindow, see window.base)
        _wire_deletion()                 after the window is shown: delete actions, menus, toolbar
        open_policy_editor(path="") ; open_visibility(path) ; open_trash()

A deletion or restore is applied as a mutation: only the rows and counts it changed refresh
(habit 6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from regview.core.model import RegistryKind, RepositoryInfo, TagInfo
from regview.ui.action_icons import action_icon
from regview.ui.controllers import repository_size
from regview.ui.errors import Problem
from regview.ui.notify import JobNotifier
from regview.ui.window.base import PAGE_REPOS, PAGE_TAGS, WindowBase
from regview.ui.words import plural

if TYPE_CHECKING:  # imported when first used: start-up shows the window without them
    from regview.ui.dialogs.delete.flow import DeleteFlow, DeleteMutation


class WindowDeletion(WindowBase):
    def _wire_deletion(self) -> None:
        from regview.ui.dialogs.delete.flow import DeleteFlow

        self.delete_flow: DeleteFlow = DeleteFlow(self.sessions, self)
        self.delete_flow.known_tags = self.controller.cached_tags  # plans revalidate these rows
        self.delete_flow.mutated.connect(self._apply_mutation)
        self.delete_flow.problem.connect(self.banner.show_problem)
        self.delete_flow.status.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.notifier = JobNotifier(self)  # a deletion run ending while in the background
        self.notifier.watch_deletions(self.delete_flow)
        self.tags_view.attach_delete_handler(self._delete_tags)
        self.repos_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.repos_table.customContextMenuRequested.connect(self._repos_menu)
        bar = self.findChild(QToolBar, "mainToolbar")
        if bar is not None:
            bar.addSeparator()
            self.policy_action = bar.addAction("Cleanup policy…", self.open_policy_editor)
            self.policy_action.setToolTip("Preview and run a cleanup policy on this repository")
            self.trash_action = bar.addAction("Recycle bin…", self.open_trash)
            self.trash_action.setToolTip("What regview deleted; restore it")
            self.menus.deletion_ready()
        self.tasks.start("pending-deletions", self._report_pending_deletions())

    def _delete_tags(self, tags: list[TagInfo]) -> None:
        # the registry and repository the tags table is bound to, nothing window-wide: the rows
        # selected are that binding's rows (a reset clears both)
        binding = self.bindings.of(PAGE_TAGS)
        if binding is None or not self._holds(binding) or not tags:
            return
        if self.tags_view.model.repository != binding.repository:
            return
        self.delete_flow.delete_tags(binding.profile, binding.repository, [t.tag for t in tags])

    def _repos_menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        index = self.repos_table.indexAt(pos)
        binding = self.bindings.of(PAGE_REPOS)
        if not index.isValid() or binding is None or not self._holds(binding):
            return
        name, path = binding.profile, self.repos_model.row_at(index.row()).path
        menu = QMenu(self)
        menu.addAction(
            action_icon("document-open"), "Open", lambda: self.open_repository(name, path)
        )
        menu.addAction(
            action_icon("edit-clear"), "Cleanup policy…", lambda: self._policy_editor(name, path)
        )
        profile = getattr(self, "_profiles", {}).get(name)
        if profile is not None and profile.kind == RegistryKind.GITLAB and profile.api_url:
            menu.addAction("Registry visibility…", lambda: self.open_visibility(path))
        menu.addSeparator()
        menu.addAction(
            action_icon("edit-delete"),
            "Delete repository…",
            lambda: self.delete_flow.delete_repository(name, path),
        )
        menu.popup(self.repos_table.viewport().mapToGlobal(pos))

    def open_policy_editor(self, path: str = "") -> None:
        """The cleanup policy of the repository on show (or `path` of the registry on show)."""
        binding = self.view_binding()
        if binding is None or not self._holds(binding):
            return
        repo = path or binding.repository
        if repo:
            self._policy_editor(binding.profile, repo)

    def _policy_editor(self, name: str, repository: str) -> None:
        from regview.ui.dialogs.policy_editor import open_policy_editor

        open_policy_editor(self.delete_flow, name, repository, self)

    def open_visibility(self, path: str) -> None:
        from regview.ui.visibility import VisibilityDialog

        binding = self.bindings.of(PAGE_REPOS)
        if binding is not None and self._holds(binding):
            VisibilityDialog(self.delete_flow, binding.profile, path, self).open()

    def open_trash(self) -> Any:
        return self.delete_flow.open_trash()

    async def _report_pending_deletions(self) -> None:
        from regview.services.async_utils import run_blocking

        pending = await run_blocking(self.delete_flow.journal.pending)
        if pending:
            self.banner.show_problem(
                Problem(
                    "A deletion did not finish",
                    f"{plural(len(pending), 'deletion run')} stopped before the end (regview "
                    "was closed or crashed); some items may or may not have been deleted.",
                    "Open the recycle bin to finish them (Resume) or restore what was deleted.",
                    "trash",
                )
            )

    def _apply_mutation(self, m: DeleteMutation) -> None:
        """Refresh only what a deletion or restore changed (habit 6)."""
        if m.removed:
            tags = self.controller.forget_tags(m.profile, m.repository, m.removed)
            if self._tags_show(m.profile, m.repository):
                gone = set(m.removed)
                keep = [t.tag for t in self.tags_view.selected_tags() if t.tag not in gone]
                rows = [t for t in self.tags_view.model.rows if t.tag not in gone]
                self.tags_view.set_tags(m.repository, rows)
                self.tags_view.select_tags(keep)
                self._sync_details()
                tags = rows if tags is None else tags
            if tags is not None:
                self._show_measured(
                    m.profile,
                    RepositoryInfo(m.repository, tag_count=len(tags), size=repository_size(tags)),
                )
        if m.restored:
            self.tasks.start("restored", self._load_restored(m))

    async def _load_restored(self, m: DeleteMutation) -> None:
        from regview.core.inventory import load_tags

        client = await self.controller.client(m.profile)
        tags = await load_tags(client, m.repository, tags=list(m.restored))
        all_tags = self.controller.add_tags(m.profile, m.repository, tags)
        if self._tags_show(m.profile, m.repository):
            self.tags_view.append_tags(tags)
            self.tags_view.finish_loading()
            self._sync_details()
        if all_tags is not None:
            self._show_measured(
                m.profile,
                RepositoryInfo(
                    m.repository, tag_count=len(all_tags), size=repository_size(all_tags)
                ),
            )

    def _tags_show(self, name: str, repository: str) -> bool:
        binding = self.bindings.of(PAGE_TAGS)
        return (
            binding is not None
            and self._holds(binding)
            and (binding.profile, binding.repository) == (name, repository)
            and self.tags_view.model.repository == repository
        )
