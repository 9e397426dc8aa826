"""Deleting from the window, over `regview.ui.dialogs.delete.flow` (imported when wired).

    Deletion(window, sessions, controller, browser, tasks)
        wire(toolbar, menus)             after the window is shown: delete actions, menus, toolbar
        flow: DeleteFlow ; wired -> bool ; notifier ; policy_action, trash_action
        delete_tags(tags) ; open_policy_editor(path="") ; open_visibility(path) ; open_trash()
        apply_mutation(DeleteMutation)   refresh only what a deletion or restore changed

Every action takes its registry and repository from the binding of the page it was started on
(the tags table's, the repositories table's), never from a window-wide "current" attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from regview.core.model import RegistryKind, RepositoryInfo, TagInfo
from regview.services.sessions import SessionManager
from regview.ui.action_icons import action_icon
from regview.ui.controllers import BrowseController, repository_size
from regview.ui.errors import Problem
from regview.ui.notify import JobNotifier
from regview.ui.tasks import Tasks
from regview.ui.window.browse import Browser
from regview.ui.window.menus import WindowMenus
from regview.ui.words import plural

if TYPE_CHECKING:  # imported when first used: start-up shows the window without them
    from regview.ui.dialogs.delete.flow import DeleteFlow, DeleteMutation


class Deletion(QObject):
    def __init__(
        self,
        window: QMainWindow,
        sessions: SessionManager,
        controller: BrowseController,
        browser: Browser,
        tasks: Tasks,
    ) -> None:
        super().__init__(window)
        self.window, self.sessions, self.controller = window, sessions, controller
        self.browser, self.tasks = browser, tasks
        self._flow: DeleteFlow | None = None
        self.notifier: JobNotifier | None = None
        self.policy_action: QAction | None = None
        self.trash_action: QAction | None = None

    @property
    def wired(self) -> bool:
        return self._flow is not None

    @property
    def flow(self) -> DeleteFlow:
        if self._flow is None:
            raise RuntimeError("the deletion stack is wired when the window starts")
        return self._flow

    def wire(self, toolbar: QToolBar, menus: WindowMenus) -> None:
        from regview.ui.dialogs.delete.flow import DeleteFlow

        window, browser = self.window, self.browser
        flow = self._flow = DeleteFlow(self.sessions, window)
        flow.known_tags = self.controller.cached_tags  # plans revalidate these rows
        flow.mutated.connect(self.apply_mutation)
        flow.problem.connect(browser.stack.banner.show_problem)
        flow.status.connect(lambda text: window.statusBar().showMessage(text, 10000))
        self.notifier = JobNotifier(window)  # a deletion run ending while in the background
        self.notifier.watch_deletions(flow)
        browser.tags.tags_view.attach_delete_handler(self.delete_tags)
        table = browser.repositories.table
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self.repositories_menu)
        toolbar.addSeparator()
        self.policy_action = toolbar.addAction("Cleanup policy…", self.open_policy_editor)
        self.policy_action.setToolTip("Preview and run a cleanup policy on this repository")
        self.trash_action = toolbar.addAction("Recycle bin…", self.open_trash)
        self.trash_action.setToolTip("What regview deleted; restore it")
        menus.deletion_ready(self.policy_action, self.trash_action)
        self.tasks.start("pending-deletions", self._report_pending_deletions())

    def delete_tags(self, tags: list[TagInfo]) -> None:
        # the registry and repository the tags table is bound to, nothing window-wide: the rows
        # selected are that binding's rows (a reset clears both)
        page = self.browser.tags
        binding = page.binding.current
        if binding is None or not page.binding.holds(binding) or not tags:
            return
        if page.tags_view.model.repository != binding.repository:
            return
        self.flow.delete_tags(binding.profile, binding.repository, [t.tag for t in tags])

    def repositories_menu(self, pos: QPoint) -> QMenu | None:
        page = self.browser.repositories
        index = page.table.indexAt(pos)
        binding = page.binding.current
        if not index.isValid() or binding is None or not page.binding.holds(binding):
            return None
        name, path = binding.profile, page.model.row_at(index.row()).path
        menu = QMenu(self.window)
        menu.addAction(
            action_icon("document-open"),
            "Open",
            lambda: self.browser.open_repository(name, path),
        )
        menu.addAction(
            action_icon("edit-clear"), "Cleanup policy…", lambda: self._policy_editor(name, path)
        )
        profile = self.browser.registries.get(name)
        if profile is not None and profile.kind == RegistryKind.GITLAB and profile.api_url:
            menu.addAction("Registry visibility…", lambda: self.open_visibility(path))
        menu.addSeparator()
        menu.addAction(
            action_icon("edit-delete"),
            "Delete repository…",
            lambda: self.flow.delete_repository(name, path),
        )
        menu.popup(page.table.viewport().mapToGlobal(pos))
        return menu

    def open_policy_editor(self, path: str = "") -> None:
        """The cleanup policy of the repository on show (or `path` of the registry on show)."""
        stack = self.browser.stack
        binding = stack.view_binding()
        repo = path or (binding.repository if binding is not None else "")
        if binding is None or not stack.holds(binding) or not repo:
            # a cleanup policy works on one repository's tags: say why nothing opened
            self.window.statusBar().showMessage(
                "Open a repository first: a cleanup policy works on one repository's tags "
                "(or right-click a repository › Cleanup policy…)",
                10000,
            )
            return
        self._policy_editor(binding.profile, repo)

    def _policy_editor(self, name: str, repository: str) -> None:
        from regview.ui.dialogs.policy_editor import open_policy_editor

        # the table on show, with what its tags free: the editor's first preview uses that
        # snapshot when the tags it reads turn out the same (no computation from nothing)
        page, shown = self.browser.tags, None
        space = page.tags_view.model.space
        if space is not None and page.shows(name, repository):
            shown = (list(page.tags_view.model.rows), space)
        open_policy_editor(self.flow, name, repository, self.window, shown)

    def open_visibility(self, path: str) -> None:
        from regview.ui.visibility import VisibilityDialog

        page = self.browser.repositories
        binding = page.binding.current
        if binding is not None and page.binding.holds(binding):
            VisibilityDialog(self.flow, binding.profile, path, self.window).open()

    def open_trash(self) -> Any:
        return self.flow.open_trash()

    async def _report_pending_deletions(self) -> None:
        from regview.services.async_utils import run_blocking

        pending = await run_blocking(self.flow.journal.pending)
        if pending:
            self.browser.stack.banner.show_problem(
                Problem(
                    "A deletion did not finish",
                    f"{plural(len(pending), 'deletion run')} stopped before the end (regview "
                    "was closed or crashed); some items may or may not have been deleted.",
                    "Open the recycle bin to finish them (Resume) or restore what was deleted.",
                    "trash",
                )
            )

    def apply_mutation(self, m: DeleteMutation) -> None:
        """Refresh only what a deletion or restore changed (habit 6)."""
        page = self.browser.tags
        if m.removed:
            tags = self.controller.forget_tags(m.profile, m.repository, m.removed)
            if page.shows(m.profile, m.repository):
                page.remove_tags(m.removed)
                tags = page.tags_view.model.rows if tags is None else tags
            if tags is not None:
                self._measured(m.profile, m.repository, tags)
        if m.restored:
            self.tasks.start("restored", self._load_restored(m))

    async def _load_restored(self, m: DeleteMutation) -> None:
        from regview.core.inventory import load_tags

        client = await self.controller.client(m.profile)
        tags = await load_tags(client, m.repository, tags=list(m.restored))
        all_tags = self.controller.add_tags(m.profile, m.repository, tags)
        if self.browser.tags.shows(m.profile, m.repository):
            self.browser.tags.add_tags(tags)
        if all_tags is not None:
            self._measured(m.profile, m.repository, all_tags)

    def _measured(self, name: str, repository: str, tags: list[TagInfo]) -> None:
        self.browser.repositories.show_measured(
            name, RepositoryInfo(repository, tag_count=len(tags), size=repository_size(tags))
        )
