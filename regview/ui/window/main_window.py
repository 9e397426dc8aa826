"""The main window: sidebar, repositories table, tags table + details, storage overview.

    MainWindow(accounts, sessions, local_mode, backend=None, ui_state=None)
        await start()                    load profiles; welcome view, or the last view
        open_profile(name) ; open_repository(name, path) ; show_overview(name)
        open_project(name, project) ; show_group(name, group)   GitLab API tree / catalog groups
        open_link(ViewLink)              a shared `regview://` view
        view_link() -> ViewLink | None   the view as a link ("Copy link to this view")
        ui_state() -> dict               window/columns/last view, for settings.json `ui`
        loaded                           Signal(str): a repository's tags finished loading
        tasks: Tasks                     every long job; closing the window cancels them all
        await aclose()                   cancel and await every task (dialogs too), close sessions

Errors appear in a banner above the view where they happened, in words, with the way out.

This module builds the window and its lifetime (start, close); the rest is in its parts, each a
`window.base.WindowBase` subclass: window.browse, window.tree (GitLab API tree), window.links,
window.actions (toolbar, dialogs) and window.deletion.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import RepositoryInfo
from regview.services.gitlab_browse import GitLabBrowser, GitLabProject, ProjectReader
from regview.services.sessions import Accounts, ConnectBackend, SessionManager
from regview.ui.controllers import BrowseController
from regview.ui.errors import ErrorBanner
from regview.ui.expiry import expiry_warning
from regview.ui.filter_box import escape_clears
from regview.ui.links import ViewLink
from regview.ui.local_mode import LocalMode
from regview.ui.models.filtering import FilterSpec
from regview.ui.models.repos_model import PATH, RepositoriesModel
from regview.ui.pages.details import DetailsPane
from regview.ui.pages.overview import OverviewPanel
from regview.ui.pages.tags_view import TagsView
from regview.ui.pages.welcome import WelcomeView
from regview.ui.repository_paths import HandPaths
from regview.ui.screen_fit import resize_to_fit, scaled
from regview.ui.sort_words import install_sort_words
from regview.ui.tasks import Tasks
from regview.ui.window.actions import WindowActions
from regview.ui.window.base import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, PAGE_WELCOME
from regview.ui.window.binding import Bindings
from regview.ui.window.browse import WindowBrowsing
from regview.ui.window.deletion import WindowDeletion
from regview.ui.window.links import WindowLinks
from regview.ui.window.menus import WindowMenus
from regview.ui.window.sidebar import Sidebar
from regview.ui.window.tree import TREE_BATCH_MS, TREE_WORKERS, WindowGitLabTree

__all__ = [
    "PAGE_OVERVIEW",
    "PAGE_REPOS",
    "PAGE_TAGS",
    "PAGE_WELCOME",
    "TREE_BATCH_MS",
    "TREE_WORKERS",
    "MainWindow",
]


class MainWindow(WindowBrowsing, WindowGitLabTree, WindowLinks, WindowActions, WindowDeletion):
    """The window itself: its widgets, start-up and closing; the behaviour is in its parts."""

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
        self.gitlab = GitLabBrowser(sessions)
        self._gitlab_projects: dict[str, dict[str, GitLabProject]] = {}
        self._readers: dict[str, ProjectReader] = {}  # the GitLab tree load per registry
        self._all_repos: dict[str, list[RepositoryInfo]] = {}
        self._measured: dict[str, dict[str, RepositoryInfo]] = {}
        self._sizes_for = ""
        self._sizes_whole = False
        self._scope = ""  # the group or project the repositories table shows ("" = all)
        self.tasks = Tasks(self)
        self.tasks.failed.connect(self._task_failed)
        self.profile = ""  # the registry (profile name) shown
        self.repository = ""
        self._pending_link: ViewLink | None = None
        self.bindings = Bindings()
        self._ui_state = dict(ui_state or {})
        self.setWindowTitle("regview")
        resize_to_fit(self, 1360, 820)
        self._build()
        self._restore_state()

    def _build(self) -> None:
        self.sidebar = Sidebar()
        self.sidebar.setAccessibleName("Registries and repositories")
        self.sidebar.registrySelected.connect(self.open_profile)
        self.sidebar.repositorySelected.connect(self.open_repository)
        self.sidebar.overviewSelected.connect(self.show_overview)
        self.sidebar.groupSelected.connect(self.show_group)
        self.sidebar.projectSelected.connect(self.open_project)
        self.sidebar.projectExpanded.connect(self._project_expanded)
        self.sidebar.addPathRequested.connect(self.add_repository_path)
        self.hand_paths = HandPaths(self)
        self.sidebar.hand_paths = self._hand_added
        self.sidebar.renamePathRequested.connect(self.hand_paths.rename)
        self.sidebar.removePathRequested.connect(self.hand_paths.remove)
        self.sidebar.addRegistryRequested.connect(self.add_registry)

        self.banner = ErrorBanner()
        self.banner.actionRequested.connect(self._banner_action)
        self.pages = QStackedWidget()
        self.welcome = WelcomeView(self.accounts, self.local_mode, self.backend)
        self.welcome.connected.connect(self._profile_added)
        self.pages.addWidget(self.welcome)

        repos_page = QWidget()
        rl = QVBoxLayout(repos_page)
        rl.setContentsMargins(0, 0, 0, 0)
        self.repo_filter = QLineEdit()
        self.repo_filter.setAccessibleName("Filter repositories")
        self.repo_filter.setPlaceholderText("Filter repositories…")
        self.repo_filter.setClearButtonEnabled(True)
        self.repos_model = RepositoriesModel(self)
        self.repo_filter.textChanged.connect(
            lambda text: self.repos_model.apply(FilterSpec(text=text))
        )
        self.repos_table = QTableView()
        self.repos_table.setAccessibleName("Repositories")
        self.repos_table.setModel(self.repos_model)
        self.repos_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.repos_table.setAlternatingRowColors(True)
        self.repos_table.setShowGrid(False)
        self.repos_table.setTabKeyNavigation(False)  # Tab: next pane, not next cell
        escape_clears(self.repo_filter, self.repos_table.setFocus)
        self.repos_table.verticalHeader().hide()
        self.repos_table.setSortingEnabled(True)
        # Qt's own default is the first column descending (Z → A); people expect paths A → Z
        self.repos_table.sortByColumn(PATH, Qt.SortOrder.AscendingOrder)
        self.repos_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header = self.repos_table.horizontalHeader()
        header.setDefaultSectionSize(scaled(header, header.defaultSectionSize()))
        self.repos_table.doubleClicked.connect(self._repository_activated)
        rl.addWidget(self.repo_filter)
        rl.addWidget(self.repos_table, 1)
        self.pages.addWidget(repos_page)

        self.tags_view = TagsView()
        self.details = DetailsPane()
        self.tags_split = QSplitter(Qt.Orientation.Horizontal)
        self.tags_split.addWidget(self.tags_view)
        self.tags_split.addWidget(self.details)
        self.tags_split.setStretchFactor(0, 3)
        self.tags_split.setStretchFactor(1, 1)
        self.tags_split.setSizes([780, 380])
        self.pages.addWidget(self.tags_split)
        self.tags_view.currentTagChanged.connect(self._current_tag)
        self.tags_view.selectionSummaryChanged.connect(self._tags_summary)
        # after the selection or the rows shown changed (filter, reload): the pane follows
        self.tags_view.selectionSummaryChanged.connect(lambda _text: self._sync_details())
        self.tags_view.refreshRequested.connect(self.refresh)
        self.tags_view.cancelRequested.connect(self.controller.cancel_load)
        self.tags_view.copyLinkRequested.connect(self.copy_link)

        self.overview = OverviewPanel()
        self.overview.repositoryActivated.connect(self._overview_activated)
        self.overview.tagActivated.connect(self._open_ranked_tag)
        self.pages.addWidget(self.overview)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(8, 8, 8, 0)
        rv.setSpacing(6)
        self.heading = QLabel()
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.heading.setFont(font)
        rv.addWidget(self.heading)
        rv.addWidget(self.banner)
        rv.addWidget(self.pages, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.sidebar)
        self.split.addWidget(right)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([230, 1130])
        self.setCentralWidget(self.split)
        self.counts = QLabel()
        self.statusBar().addPermanentWidget(self.counts)
        self.tree_progress = QLabel()  # "Reading repositories: 37 of 500 projects"
        self.statusBar().addWidget(self.tree_progress)
        self.tree_progress.hide()
        # GitLab projects arrive one by one; the table takes them in batches (a reset per project
        # of a 500-project tree would repaint it hundreds of times a second)
        self._tree_timer = QTimer(self)
        self._tree_timer.setSingleShot(True)
        self._tree_timer.setInterval(TREE_BATCH_MS)
        self._tree_timer.timeout.connect(self._flush_tree)
        self._make_toolbar()
        # the menu bar, over the toolbar's actions; View › Theme as last chosen
        self.menus = WindowMenus(self, str(self._ui_state.get("theme", "")))
        self.sort_words = install_sort_words(self)  # header tooltips: "newest first"

    async def start(self) -> None:
        if not hasattr(self, "delete_flow"):
            self._wire_deletion()  # after the window is shown (imports the deletion stack)
        profiles = await self.accounts.profiles()
        self._set_registries(profiles)
        if not profiles:
            self._page(PAGE_WELCOME, "Welcome to regview")
            return
        link = self._pending_link
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

    def _open_ranked_tag(self, path: str, tag: str) -> None:
        """A tag of the Storage overview's ranking: its table, sorted by Frees, tag selected."""
        binding = self.bindings.of(PAGE_OVERVIEW)  # the registry whose ranking was clicked
        if binding is None or not self._holds(binding):
            return
        self._pending_link = ViewLink(
            registry="", repository=path, tag=tag, sort="frees", descending=True
        )
        self.open_repository(binding.profile, path)

    def _tags_summary(self, text: str) -> None:
        if self.pages.currentIndex() == PAGE_TAGS:  # not over the overview's or the list's
            self._set_counts(text)

    def _repository_activated(self, index: QModelIndex) -> None:
        binding = self.bindings.of(PAGE_REPOS)  # the registry whose rows the table shows
        if binding is not None and self._holds(binding) and index.isValid():
            self.open_repository(binding.profile, self.repos_model.row_at(index.row()).path)

    def _overview_activated(self, path: str) -> None:
        binding = self.bindings.of(PAGE_OVERVIEW)
        if binding is not None and self._holds(binding):
            self.open_repository(binding.profile, path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tasks.cancel_all()
        self.welcome.tasks.cancel_all()
        if hasattr(self, "delete_flow"):
            self.delete_flow.cancel_all()
        super().closeEvent(event)

    async def aclose(self) -> None:
        """Cancel every task of this window and its dialogs, wait for them, close the sessions."""
        from regview.ui.window.close import close_task_owners

        if hasattr(self, "delete_flow"):
            self.delete_flow.cancel_all()  # also stops a running executor between items
        await close_task_owners(self, self.welcome.tasks)
        if hasattr(self, "delete_flow"):
            await self.delete_flow.aclose()  # GitLab clients whose close task was cancelled
        await self.controller.aclose()
        await self.sessions.close_all()
