"""The main window: sidebar, repositories table, tags table + details, storage overview.

    MainWindow(accounts, sessions, local_mode, backend=None, ui_state=None)
        await start()                    load profiles; welcome view, or the last view
        open_profile(name) ; open_repository(name, path) ; show_overview(name) ; refresh()
        open_link(ViewLink) ; set_pending_link(link) ; open_link_when_ready(link)
        view_link() -> ViewLink | None   the view as a link ("Copy link to this view")
        ui_state() -> dict               window/columns/last view, for settings.json `ui`
        loaded, detailsLoaded            Signal(str): a repository's tags, a tag's details loaded
        tasks: Tasks                     every long job; closing the window cancels them all
        await aclose()                   cancel and await every task (dialogs too), close sessions

It composes objects that own their part and talk through signals:
    pages: welcome (WelcomeView), repositories (RepositoriesPage), tags (TagsPage),
           overview (OverviewPanel) — each owns its widgets, its state and its binding
    stack: PageStack                 heading, error banner, the page on show, status counts
    browser: Browser                 opens registries, repositories, overviews; its `tree`
                                     lists GitLab registries through their API
    links: ViewLinks ; commands: WindowActions (toolbar, dialogs, profile changes)
    hand_paths: HandPaths ; deletion: Deletion ; menus: WindowMenus
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTableView,
)

from regview.log import get_logger
from regview.services.gitlab_browse import GitLabBrowser
from regview.services.sessions import Accounts, ConnectBackend, SessionManager
from regview.ui.controllers import BrowseController
from regview.ui.errors import ErrorBanner
from regview.ui.expiry import expiry_warning
from regview.ui.links import ViewLink
from regview.ui.local_mode import LocalMode
from regview.ui.models import tags_model as tm
from regview.ui.models.repos_model import RepositoriesModel
from regview.ui.pages.context import PageContext
from regview.ui.pages.details import DetailsPane
from regview.ui.pages.overview import OverviewPanel
from regview.ui.pages.repositories import RepositoriesPage
from regview.ui.pages.tags_page import TagsPage
from regview.ui.pages.tags_view import TagsView
from regview.ui.pages.welcome import WelcomeView
from regview.ui.registries import Registries
from regview.ui.repository_paths import HandPaths
from regview.ui.screen_fit import resize_to_fit
from regview.ui.sort_words import install_sort_words
from regview.ui.tasks import Tasks
from regview.ui.window.actions import WindowActions
from regview.ui.window.binding import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, PAGE_WELCOME
from regview.ui.window.browse import Browser
from regview.ui.window.deletion import Deletion
from regview.ui.window.links import ViewLinks, b64, unb64
from regview.ui.window.menus import WindowMenus
from regview.ui.window.sidebar import Sidebar
from regview.ui.window.stack import PageStack
from regview.ui.window.tree import TREE_BATCH_MS, TREE_WORKERS

if TYPE_CHECKING:  # imported when the window starts: start-up shows the window without it
    from regview.ui.dialogs.delete.flow import DeleteFlow
    from regview.ui.notify import JobNotifier

__all__ = [
    "PAGE_OVERVIEW",
    "PAGE_REPOS",
    "PAGE_TAGS",
    "PAGE_WELCOME",
    "TREE_BATCH_MS",
    "TREE_WORKERS",
    "MainWindow",
]

log = get_logger("ui.window")


class MainWindow(QMainWindow):
    loaded = Signal(str)
    detailsLoaded = Signal(str)

    def __init__(
        self,
        accounts: Accounts,
        sessions: SessionManager,
        local_mode: LocalMode,
        backend: ConnectBackend | None = None,
        ui_state: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.accounts, self.sessions, self.local_mode = accounts, sessions, local_mode
        self.backend = backend
        self.controller = BrowseController(sessions)
        self.registries = Registries()
        self.tasks = Tasks(self)
        self.tasks.failed.connect(_task_failed)
        self._ui_state = dict(ui_state or {})
        self.setWindowTitle("regview")
        resize_to_fit(self, 1360, 820)

        generation = sessions.generation
        self.sidebar = Sidebar()
        self.sidebar.setAccessibleName("Registries and repositories")
        self.welcome = WelcomeView(accounts, local_mode, backend)
        pages = PageContext(
            controller=self.controller,
            tasks=self.tasks,
            registries=self.registries,
            generation=generation,
        )
        self.repositories = RepositoriesPage(pages)
        self.tags = TagsPage(pages)
        self.overview = OverviewPanel(generation=generation)
        self.stack = PageStack(
            self.welcome,
            [
                (self.repositories, self.repositories.binding),
                (self.tags, self.tags.binding),
                (self.overview, self.overview.binding),
            ],
        )
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.sidebar)
        self.split.addWidget(self.stack)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([230, 1130])
        self.setCentralWidget(self.split)
        self.statusBar().addPermanentWidget(self.stack.counts)
        self.tree_progress = QLabel()  # "Reading repositories: 37 of 500 projects"
        self.statusBar().addWidget(self.tree_progress)
        self.tree_progress.hide()

        status = self.statusBar().showMessage
        self.browser = Browser(
            self.stack,
            self.repositories,
            self.tags,
            self.overview,
            self.sidebar,
            self.controller,
            GitLabBrowser(sessions),
            self.registries,
            self.tasks,
            status,
            self.tree_progress,
            self,
        )
        self.links = ViewLinks(self.browser, self.registries, local_mode, status, self)
        self.hand_paths = HandPaths(self, accounts, sessions, self.browser, self.tasks)
        self.sidebar.hand_paths = self.registries.hand_added
        self.sidebar.addPathRequested.connect(self.hand_paths.add)
        self.sidebar.renamePathRequested.connect(self.hand_paths.rename)
        self.sidebar.removePathRequested.connect(self.hand_paths.remove)
        self.deletion = Deletion(self, sessions, self.controller, self.browser, self.tasks)
        self.commands = WindowActions(
            self,
            accounts,
            backend,
            sessions,
            self.browser,
            self.links,
            self.hand_paths,
            self.tasks,
            self.deletion.open_trash,
        )
        self.welcome.connected.connect(self.commands.profile_added)
        self.tags.tags_view.copyLinkRequested.connect(self.links.copy_link)
        self.browser.loaded.connect(self.loaded)
        self.tags.detailsLoaded.connect(self.detailsLoaded)
        # the menu bar, over the toolbar's actions; View › Theme as last chosen
        self.menus = WindowMenus(self, str(self._ui_state.get("theme", "")))
        self.sort_words = install_sort_words(self)  # header tooltips: "newest first"
        self._restore_state()

    # --- the parts' widgets and actions, as tests, menus and the screenshot tool reach them ----
    @property
    def banner(self) -> ErrorBanner:
        return self.stack.banner

    @property
    def pages(self) -> QStackedWidget:
        return self.stack.pages

    @property
    def heading(self) -> QLabel:
        return self.stack.heading

    @property
    def counts(self) -> QLabel:
        return self.stack.counts

    @property
    def repo_filter(self) -> QLineEdit:
        return self.repositories.filter

    @property
    def repos_model(self) -> RepositoriesModel:
        return self.repositories.model

    @property
    def repos_table(self) -> QTableView:
        return self.repositories.table

    @property
    def tags_view(self) -> TagsView:
        return self.tags.tags_view

    @property
    def details(self) -> DetailsPane:
        return self.tags.details

    @property
    def add_action(self) -> QAction:
        return self.commands.add_action

    @property
    def tokens_action(self) -> QAction:
        return self.commands.tokens_action

    @property
    def refresh_action(self) -> QAction:
        return self.commands.refresh_action

    @property
    def link_action(self) -> QAction:
        return self.commands.link_action

    @property
    def overview_action(self) -> QAction:
        return self.commands.overview_action

    @property
    def delete_flow(self) -> DeleteFlow:
        return self.deletion.flow

    @property
    def notifier(self) -> JobNotifier | None:
        return self.deletion.notifier

    @property
    def profile(self) -> str:
        """The registry last opened ("" = none)."""
        return self.browser.profile

    @property
    def repository(self) -> str:
        """The repository last opened ("" = none)."""
        return self.browser.repository

    # --- commands ------------------------------------------------------------------------
    def open_profile(self, name: str, scope: str = "") -> None:
        self.browser.open_profile(name, scope)

    def open_repository(self, name: str, path: str) -> None:
        self.browser.open_repository(name, path)

    def show_overview(self, name: str) -> None:
        self.browser.show_overview(name)

    def refresh(self) -> None:
        self.browser.refresh()

    def view_link(self) -> ViewLink | None:
        return self.links.view_link()

    def copy_link(self) -> None:
        self.links.copy_link()

    def open_link(self, link: ViewLink) -> None:
        self.links.open_link(link)

    def set_pending_link(self, link: ViewLink | None) -> None:
        """The view `start()` opens instead of the last one (None: the last one)."""
        self.browser.pending_link = link

    def open_link_when_ready(self, link: ViewLink) -> None:
        """Open `link` now, or once `start()` has read the registries."""
        if self.registries.read:
            self.open_link(link)
        else:
            self.set_pending_link(link)

    def manage_tokens(self, replace: str = "") -> Any:
        return self.commands.manage_tokens(replace)

    def add_repository_path(self, name: str) -> None:
        self.hand_paths.add(name)

    def open_policy_editor(self, path: str = "") -> None:
        self.deletion.open_policy_editor(path)

    def open_trash(self) -> Any:
        return self.deletion.open_trash()

    # --- lifetime ------------------------------------------------------------------------
    async def start(self) -> None:
        if not self.deletion.wired:  # after the window is shown (imports the deletion stack)
            self.deletion.wire(self.commands.toolbar, self.menus)
        profiles = await self.accounts.profiles()
        self.browser.set_registries(profiles)
        if not profiles:
            self.stack.show_page(PAGE_WELCOME, "Welcome to regview")
            return
        link = self.browser.pending_link
        if link is None and (last := self._ui_state.get("last_view")):
            from regview.ui.links import LinkError, parse_link

            try:
                link = parse_link(str(last))
            except LinkError:
                link = None
        if link is not None:
            self.open_link(link)
        else:
            self.open_profile(profiles[0].name)
        if (warning := expiry_warning(profiles)) is not None:  # after opening hid the banner
            self.banner.show_problem(warning)

    def _restore_state(self) -> None:
        s = self._ui_state
        if (geo := unb64(s.get("geometry"))) is not None:
            self.restoreGeometry(geo)
        if (state := unb64(s.get("window_state"))) is not None:
            self.restoreState(state)
        header = self.tags_view.table.horizontalHeader()
        if (cols := unb64(s.get("tags_columns"))) is not None:
            header.restoreState(cols)  # also the sort indicator: the model sorts the same way
        else:
            header.setSortIndicator(tm.CREATED, Qt.SortOrder.DescendingOrder)  # newest first
        for key, splitter in (("split", self.split), ("tags_split", self.tags)):
            if (data := unb64(s.get(key))) is not None:
                splitter.restoreState(data)

    def ui_state(self) -> dict[str, Any]:
        link = self.view_link()
        return {
            "geometry": b64(self.saveGeometry()),
            "window_state": b64(self.saveState()),
            "tags_columns": b64(self.tags_view.table.horizontalHeader().saveState()),
            "split": b64(self.split.saveState()),
            "tags_split": b64(self.tags.saveState()),
            "last_view": link.to_url() if link is not None else "",
            "theme": self.menus.theme_choice(),
        }

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tasks.cancel_all()
        self.welcome.tasks.cancel_all()
        if self.deletion.wired:
            self.delete_flow.cancel_all()
        super().closeEvent(event)

    async def aclose(self) -> None:
        """Cancel every task of this window and its dialogs, wait for them, close the sessions."""
        from regview.ui.window.close import close_task_owners

        if self.deletion.wired:
            self.delete_flow.cancel_all()  # also stops a running executor between items
        # The dialogs still open are closed first, each its own way (`done`): the policy editor's
        # 120 ms recompute timer would otherwise start a preview after the tasks below were
        # awaited, and that preview would outlive the loop.
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.done(QDialog.DialogCode.Rejected)
        await close_task_owners(self, self.welcome.tasks)
        if self.deletion.wired:
            await self.delete_flow.aclose()  # GitLab clients whose close task was cancelled
        await self.controller.aclose()
        await self.sessions.close_all()


def _task_failed(name: str, exc: BaseException) -> None:
    log.error("task %s failed: %s", name, exc)
