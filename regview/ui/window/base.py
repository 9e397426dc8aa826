"""What every part of the main window shares: its page numbers, signals, state and widgets.

    WindowBase(QMainWindow)      declares the attributes `MainWindow.__init__`/`_build` set
        _page(page, heading) ; _set_counts(text) ; _task_failed(name, exc)
        _bind(page, profile, …) -> Binding ; _holds(binding) ; view_binding() ; _lists(name)
        _report(binding, problem)        the banner, only under the registry it is about
        await _attempt(aw) -> result | Problem    an environment failure as words; a bug raises

`MainWindow` (main_window.py) is composed of parts that each subclass this base, the way
`RegistryClient` is composed over `RegistryHttp`: window.browse (registry → repositories → tags),
window.tree (the GitLab API tree), window.links (links and saved view state), window.actions
(toolbar and dialogs) and window.deletion (deletion entry points). A part calls another's method
through the declarations under TYPE_CHECKING below; at run time `MainWindow`'s MRO supplies it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMainWindow

from regview.log import get_logger
from regview.ui.errors import Problem, describe
from regview.ui.expiry import explain_refusal

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QLabel, QLineEdit, QSplitter, QStackedWidget, QTableView

    from regview.core.model import RepositoryInfo
    from regview.services.gitlab_browse import GitLabBrowser, GitLabProject, ProjectReader
    from regview.services.sessions import Accounts, ConnectBackend, SessionManager
    from regview.settings.profiles import Profile
    from regview.ui.controllers import BrowseController
    from regview.ui.dialogs.delete.flow import DeleteFlow
    from regview.ui.errors import ErrorBanner
    from regview.ui.links import ViewLink
    from regview.ui.local_mode import LocalMode
    from regview.ui.models.repos_model import RepositoriesModel
    from regview.ui.pages.details import DetailsPane
    from regview.ui.pages.overview import OverviewPanel
    from regview.ui.pages.tags_view import TagsView
    from regview.ui.pages.welcome import WelcomeView
    from regview.ui.repository_paths import HandPaths
    from regview.ui.tasks import Tasks
    from regview.ui.window.binding import Binding, Bindings
    from regview.ui.window.menus import WindowMenus
    from regview.ui.window.sidebar import Sidebar

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
    _measured: dict[str, dict[str, RepositoryInfo]]  # profile → path → tag count and size
    _sizes_for: str  # the registry the "sizes" task measures
    _sizes_whole: bool  # … and whether it reads every repository of it
    _scope: str
    tasks: Tasks
    profile: str
    repository: str
    _pending_link: ViewLink | None
    bindings: Bindings  # what each page shows (window.binding)
    _ui_state: dict[str, Any]
    # set by MainWindow._build and WindowActions._make_toolbar
    sidebar: Sidebar
    hand_paths: HandPaths
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
        def _sync_details(self, reread: bool = False) -> None: ...
        def _repositories_of(self, name: str) -> list[RepositoryInfo]: ...
        def _show_measured(self, name: str, measure: RepositoryInfo) -> None: ...
        async def _load_gitlab_tree(self, name: str) -> list[str]: ...
        def open_project(self, name: str, project: str) -> None: ...
        def copy_link(self) -> None: ...
        def _apply_link_view(self, link: ViewLink) -> None: ...
        def open_trash(self) -> Any: ...

    def _bind(self, page: int, profile: str, repository: str = "", scope: str = "") -> Binding:
        return self.bindings.bind(
            page, profile, self.sessions.generation(profile), repository, scope
        )

    def _holds(self, binding: Binding) -> bool:
        """Is `binding` still what its page shows, with the session it was read through?"""
        return self.bindings.holds(binding) and binding.generation == self.sessions.generation(
            binding.profile
        )

    def _lists(self, name: str) -> bool:
        """Does the repositories page show registry `name` (with its current session)?"""
        binding = self.bindings.of(PAGE_REPOS)
        return binding is not None and binding.profile == name and self._holds(binding)

    def view_binding(self) -> Binding | None:
        """What the page on screen shows (None: the welcome page, or nothing bound)."""
        return self.bindings.of(self.pages.currentIndex())

    def _report(self, binding: Binding, problem: Problem) -> None:
        """Show `problem` in the banner only while the page on screen shows `binding`'s registry:
        one registry's failure never appears under another's name."""
        shown = self.view_binding()
        if self._holds(binding) and shown is not None and shown.profile == binding.profile:
            self.banner.show_problem(problem)

    def _page(self, page: int, heading: str) -> None:
        self.pages.setCurrentIndex(page)
        self.heading.setText(heading)
        self.heading.setVisible(page != PAGE_WELCOME)

    async def _attempt(self, aw: Awaitable[T]) -> T | Problem:
        """The result of `aw`, or the words for the environment failure it ran into (network,
        auth, registry refusal: shown, not a crash); any other exception is a bug and raises."""
        try:
            return await aw
        except Exception as exc:
            problem = explain_refusal(
                describe(exc), exc, getattr(self, "_profiles", {}).get(self.profile)
            )
            if problem is None:
                raise
            return problem

    def _task_failed(self, name: str, exc: BaseException) -> None:
        log.error("task %s failed: %s", name, exc)

    def _set_counts(self, text: str) -> None:
        self.counts.setText(text)
