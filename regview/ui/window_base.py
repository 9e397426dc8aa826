"""What every part of the main window shares: its page numbers, signals, state and widgets.

    WindowBase(QMainWindow)      declares the attributes `MainWindow.__init__`/`_build` set
        _page(page, heading) ; _set_counts(text) ; _show_problem(exc) ; _task_failed(name, exc)
        await _attempt(aw) -> result | Problem    an environment failure as words; a bug raises

`MainWindow` (main_window.py) is composed of parts that each subclass this base, the way
`RegistryClient` is composed over `RegistryHttp`: window_browse (registry → repositories → tags),
window_tree (the GitLab API tree), window_links (links and saved view state), window_actions
(toolbar and dialogs) and window_deletion (deletion entry points). A part calls another's method
through the declarations under TYPE_CHECKING below; at run time `MainWindow`'s MRO supplies it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMainWindow

from regview.log import get_logger
from regview.ui.errors import Problem, describe

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QLineEdit, QSplitter, QStackedWidget, QTableView

    from regview.core.model import RepositoryInfo
    from regview.settings.profiles import Profile
    from regview.ui.controllers import BrowseController
    from regview.ui.delete_flow import DeleteFlow
    from regview.ui.details import DetailsPane
    from regview.ui.errors import ErrorBanner
    from regview.ui.gitlab_browse import GitLabBrowser, GitLabProject, ProjectReader
    from regview.ui.links import ViewLink
    from regview.ui.local_mode import LocalMode
    from regview.ui.menus import WindowMenus
    from regview.ui.overview import OverviewPanel
    from regview.ui.registry_session import Accounts, ConnectBackend, SessionManager
    from regview.ui.repos_model import RepositoriesModel
    from regview.ui.sidebar import Sidebar
    from regview.ui.tags_view import TagsView
    from regview.ui.tasks import Tasks
    from regview.ui.welcome import WelcomeView

log = get_logger("ui.window")

T = TypeVar("T")

PAGE_WELCOME, PAGE_REPOS, PAGE_TAGS, PAGE_OVERVIEW = range(4)


class WindowBase(QMainWindow):
    loaded = Signal(str)
    detailsLoaded = Signal(str)

    # set by MainWindow.__init__
    accounts: Accounts
    sessions: SessionManager
    local_mode: LocalMode
    backend: ConnectBackend | None
    controller: BrowseController
    gitlab: GitLabBrowser
    _gitlab_projects: dict[str, dict[str, GitLabProject]]
    _readers: dict[str, ProjectReader]
    _all_repos: dict[str, list[RepositoryInfo]]
    _scope: str
    tasks: Tasks
    profile: str
    repository: str
    _pending_link: ViewLink | None
    _ui_state: dict[str, Any]
    # set by MainWindow._build and WindowActions._make_toolbar
    sidebar: Sidebar
    banner: ErrorBanner
    pages: QStackedWidget
    welcome: WelcomeView
    repo_filter: QLineEdit
    repos_model: RepositoriesModel
    repos_table: QTableView
    tags_view: TagsView
    details: DetailsPane
    tags_split: QSplitter
    overview: OverviewPanel
    heading: QLabel
    split: QSplitter
    counts: QLabel
    tree_progress: QLabel
    _tree_timer: QTimer
    add_action: QAction
    tokens_action: QAction
    refresh_action: QAction
    link_action: QAction
    overview_action: QAction
    menus: WindowMenus
    # set later: the registries once read (WindowBrowsing._set_registries), the deletion stack
    # once wired (WindowDeletion._wire_deletion); until then `getattr`/`hasattr` find nothing
    _profiles: dict[str, Profile]
    delete_flow: DeleteFlow
    policy_action: QAction
    trash_action: QAction

    if TYPE_CHECKING:  # defined by the other parts of MainWindow

        def _set_registries(self, profiles: list[Any]) -> None: ...
        def open_profile(self, name: str, scope: str = "") -> None: ...
        def _show_scope(self, name: str, counts: bool = True) -> None: ...
        def open_repository(self, name: str, path: str) -> None: ...
        def show_overview(self, name: str) -> None: ...
        def refresh(self) -> None: ...
        async def _load_gitlab_tree(self, name: str) -> list[str]: ...
        def open_project(self, name: str, project: str) -> None: ...
        def copy_link(self) -> None: ...
        def _apply_link_view(self, link: ViewLink) -> None: ...
        def open_trash(self) -> Any: ...

    def _page(self, page: int, heading: str) -> None:
        self.pages.setCurrentIndex(page)
        self.heading.setText(heading)
        self.heading.setVisible(page != PAGE_WELCOME)

    def _show_problem(self, exc: BaseException) -> None:
        problem = describe(exc)
        if problem is not None:
            self.banner.show_problem(problem)

    async def _attempt(self, aw: Awaitable[T]) -> T | Problem:
        """The result of `aw`, or the words for the environment failure it ran into (network,
        auth, registry refusal: shown, not a crash); any other exception is a bug and raises."""
        try:
            return await aw
        except Exception as exc:
            problem = describe(exc)
            if problem is None:
                raise
            return problem

    def _task_failed(self, name: str, exc: BaseException) -> None:
        log.error("task %s failed: %s", name, exc)

    def _set_counts(self, text: str) -> None:
        self.counts.setText(text)
