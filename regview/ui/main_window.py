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
"""

from __future__ import annotations

import asyncio
import base64
import functools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import RegistryKind, RepositoryInfo, TagInfo
from regview.log import get_logger
from regview.settings.profiles import registry_host
from regview.ui import tags_model as tm
from regview.ui.controllers import BrowseController, repository_size
from regview.ui.details import DetailsPane
from regview.ui.errors import ErrorBanner, Problem, describe
from regview.ui.filtering import FilterSpec
from regview.ui.gitlab_browse import GitLabBrowser, GitLabProject, ProjectReader
from regview.ui.links import SORT_COLUMNS, ViewLink
from regview.ui.local_mode import LocalMode
from regview.ui.overview import OverviewPanel
from regview.ui.registry_session import Accounts, ConnectBackend, SessionManager
from regview.ui.repos_model import RepositoriesModel, status_text
from regview.ui.sidebar import Sidebar
from regview.ui.tags_view import TagsView
from regview.ui.tasks import Tasks
from regview.ui.welcome import WelcomeView

if TYPE_CHECKING:  # imported when first used: start-up shows the window without them
    from regview.ui.delete_flow import DeleteFlow, DeleteMutation

log = get_logger("ui.window")

PAGE_WELCOME, PAGE_REPOS, PAGE_TAGS, PAGE_OVERVIEW = range(4)
TREE_WORKERS = 4  # GitLab API requests at a time while reading the projects' repositories
TREE_BATCH_MS = 250  # new repositories reach the table at most this often during a tree load


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _unb64(text: Any) -> QByteArray | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return QByteArray(base64.b64decode(text))
    except ValueError:
        return None


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
        self.gitlab = GitLabBrowser(sessions)
        self._gitlab_projects: dict[str, dict[str, GitLabProject]] = {}
        self._readers: dict[str, ProjectReader] = {}  # the GitLab tree load per registry
        self._all_repos: dict[str, list[RepositoryInfo]] = {}
        self._scope = ""  # the group or project the repositories table shows ("" = all)
        self.tasks = Tasks(self)
        self.tasks.failed.connect(self._task_failed)
        self.profile = ""  # the registry (profile name) shown
        self.repository = ""
        self._pending_link: ViewLink | None = None
        self._ui_state = dict(ui_state or {})
        self.setWindowTitle("regview")
        self.resize(1360, 820)
        self._build()
        self._restore_state()

    # --- building ------------------------------------------------------------------------
    def _build(self) -> None:
        self.sidebar = Sidebar()
        self.sidebar.registrySelected.connect(self.open_profile)
        self.sidebar.repositorySelected.connect(self.open_repository)
        self.sidebar.overviewSelected.connect(self.show_overview)
        self.sidebar.groupSelected.connect(self.show_group)
        self.sidebar.projectSelected.connect(self.open_project)
        self.sidebar.projectExpanded.connect(self._project_expanded)
        self.sidebar.addPathRequested.connect(self.add_repository_path)
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
        self.repo_filter.setPlaceholderText("Filter repositories…")
        self.repo_filter.setClearButtonEnabled(True)
        self.repos_model = RepositoriesModel(self)
        self.repo_filter.textChanged.connect(
            lambda text: self.repos_model.apply(FilterSpec(text=text))
        )
        self.repos_table = QTableView()
        self.repos_table.setModel(self.repos_model)
        self.repos_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.repos_table.setAlternatingRowColors(True)
        self.repos_table.setShowGrid(False)
        self.repos_table.verticalHeader().hide()
        self.repos_table.setSortingEnabled(True)
        self.repos_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.repos_table.doubleClicked.connect(
            lambda index: self.open_repository(
                self.profile, self.repos_model.row_at(index.row()).path
            )
        )
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
        self.tags_view.selectionSummaryChanged.connect(self._set_counts)
        self.tags_view.refreshRequested.connect(self.refresh)
        self.tags_view.cancelRequested.connect(self.controller.cancel_load)
        self.tags_view.copyLinkRequested.connect(self.copy_link)

        self.overview = OverviewPanel()
        self.overview.repositoryActivated.connect(lambda p: self.open_repository(self.profile, p))
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

    def _make_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setStyleSheet("QToolBar { spacing: 4px; padding: 3px 6px; }")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)

        def add(text: str, slot: Any, tip: str, keys: Any = None) -> QAction:
            action = QAction(text, self)
            action.setToolTip(tip)
            if keys is not None:
                action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            bar.addAction(action)
            return action

        self.add_action = add("Add registry…", self.add_registry, "Connect to another registry")
        self.tokens_action = add(
            "Tokens…", self.manage_tokens, "Stored credentials: add, test, replace, remove"
        )
        bar.addSeparator()
        self.refresh_action = add(
            "Refresh", self.refresh, "Read again (F5)", QKeySequence.StandardKey.Refresh
        )
        self.link_action = add(
            "Copy link",
            self.copy_link,
            "Copy a regview:// link to this view (registry, repository, filter, sort)",
        )
        self.overview_action = add(
            "Storage overview",
            lambda: self.show_overview(self.profile),
            "Size per repository and tag ages",
        )

    # --- state ---------------------------------------------------------------------------
    def _restore_state(self) -> None:
        s = self._ui_state
        if (geo := _unb64(s.get("geometry"))) is not None:
            self.restoreGeometry(geo)
        if (state := _unb64(s.get("window_state"))) is not None:
            self.restoreState(state)
        header = self.tags_view.table.horizontalHeader()
        if (cols := _unb64(s.get("tags_columns"))) is not None:
            header.restoreState(cols)  # also the sort indicator: the model sorts the same way
        else:
            header.setSortIndicator(tm.CREATED, Qt.SortOrder.DescendingOrder)  # newest first
        for key, splitter in (("split", self.split), ("tags_split", self.tags_split)):
            if (data := _unb64(s.get(key))) is not None:
                splitter.restoreState(data)

    def ui_state(self) -> dict[str, Any]:
        link = self.view_link()
        return {
            "geometry": _b64(self.saveGeometry()),
            "window_state": _b64(self.saveState()),
            "tags_columns": _b64(self.tags_view.table.horizontalHeader().saveState()),
            "split": _b64(self.split.saveState()),
            "tags_split": _b64(self.tags_split.saveState()),
            "last_view": link.to_url() if link is not None else "",
        }

    # --- flow ----------------------------------------------------------------------------
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

    def _set_registries(self, profiles: list[Any]) -> None:
        self.sidebar.set_registries(
            [(p.name, p.url, p.kind == RegistryKind.GITLAB) for p in profiles]
        )
        self._profiles = {p.name: p for p in profiles}

    def _page(self, page: int, heading: str) -> None:
        self.pages.setCurrentIndex(page)
        self.heading.setText(heading)
        self.heading.setVisible(page != PAGE_WELCOME)

    def open_profile(self, name: str) -> None:
        if not name:
            return
        self.profile = name
        self.repository = ""
        self._scope = ""
        self.banner.hide()
        self._page(PAGE_REPOS, name)
        self.sidebar.set_loading(name)
        self.tasks.start("repos", self._load_repositories(name))

    async def _load_repositories(self, name: str) -> list[str]:
        try:
            if await self.gitlab.uses_api(name):
                return await self._load_gitlab_tree(name)
            self._readers.pop(name, None)
            self._gitlab_projects.pop(name, None)
            repos, listable = await self.controller.list_repositories(name)
        except Exception as exc:
            if describe(exc) is None:
                raise
            self.sidebar.set_problem(name, "Repositories cannot be listed")
            self._show_problem(exc)
            return []
        self.sidebar.set_repositories(name, [r.path for r in repos], listable)
        self._all_repos[name] = repos
        if self.profile == name:
            self.repos_model.set_repositories(repos)
            self.overview.set_repositories(repos)
            self._set_counts(f"{len(repos):,} repositories")
            if self.repository:
                self.sidebar.select_repository(name, self.repository)
        return [r.path for r in repos]

    # --- GitLab API: groups → projects → repositories -------------------------------------
    async def _load_gitlab_tree(self, name: str) -> list[str]:
        projects = await self.gitlab.projects(name)
        manual = self._hand_added(name)
        self._gitlab_projects[name] = {p.path: p for p in projects}
        self.sidebar.set_gitlab_projects(
            name,
            [(p.namespace, p.path) for p in projects],
            manual=manual,
            disabled=[p.path for p in projects if p.registry_access == "disabled"],
        )
        reader = ProjectReader(
            projects,
            functools.partial(self._read_project, name),
            manual=manual,
            workers=TREE_WORKERS,
        )
        self._readers[name] = reader
        self._all_repos[name] = reader.repositories()
        if self.profile == name:
            self._show_scope(name, counts=self.pages.currentIndex() == PAGE_REPOS)
        self._tree_progress()
        try:
            await reader.run()
        finally:
            self._flush_tree()
        repos = self._all_repos[name] = reader.repositories()
        if self.profile == name:
            self.repos_model.resort()  # batches were appended at the end of the view
            if self.pages.currentIndex() == PAGE_REPOS:
                self._set_counts(f"{len(self.repos_model.rows):,} repositories")
            self.overview.set_repositories(repos)
            if self.repository:
                self.sidebar.select_repository(name, self.repository)
        return [r.path for r in repos]

    def _hand_added(self, name: str) -> list[str]:
        profile = getattr(self, "_profiles", {}).get(name)
        return list(profile.repositories) if profile is not None else []

    async def _read_project(self, name: str, project: GitLabProject) -> list[RepositoryInfo]:
        repos = await self._project_repositories(name, project)
        if not self._tree_timer.isActive():
            self._tree_timer.start()
        return repos

    def _project_expanded(self, name: str, project: str) -> None:
        reader = self._readers.get(name)
        if reader is not None:
            reader.prefer(project)  # read by the load's own task group, ahead of its queue

    def _flush_tree(self) -> None:
        """Hand what the tree load read since the last batch to the table and the counts."""
        self._tree_timer.stop()
        for name, reader in self._readers.items():
            new = reader.take_new()
            if not new:
                continue
            self._all_repos[name] = reader.repositories()
            if name == self.profile:
                scope = self._scope
                self.repos_model.append_rows(r for r in new if _in_scope(r.path, scope))
        self._tree_progress()

    def _tree_progress(self) -> None:
        reader = self._readers.get(self.profile)
        if reader is None or not reader.running:
            self.tree_progress.hide()
            return
        self.tree_progress.setText(
            f"Reading repositories: {reader.done:,} of {reader.total:,} projects"
        )
        self.tree_progress.show()
        if self.pages.currentIndex() == PAGE_REPOS:
            self._set_counts(f"{len(self.repos_model.rows):,} repositories so far")

    async def _project_repositories(
        self, name: str, project: GitLabProject
    ) -> list[RepositoryInfo]:
        try:
            repos = await self.gitlab.project_repositories(name, project)
        except Exception as exc:
            problem = describe(exc)
            if problem is None:
                raise
            self.sidebar.set_project_problem(name, project.path, problem.title)
            return []
        self.sidebar.set_project_repositories(
            name, project.path, [(r.path, status_text(r.status)) for r in repos]
        )
        return repos

    def _show_scope(self, name: str, counts: bool = True) -> None:
        scope = self._scope
        repos = [r for r in self._all_repos.get(name, []) if _in_scope(r.path, scope)]
        self.repos_model.set_repositories(repos)
        if counts:
            self._set_counts(f"{len(repos):,} repositories")
            self._tree_progress()

    def open_project(self, name: str, project: str) -> None:
        """A GitLab project: its repositories (read again) with their status in the table."""
        info = self._gitlab_projects.get(name, {}).get(project)
        if info is None:
            self.show_group(name, project)
            return
        self.profile, self.repository, self._scope = name, "", project
        self.banner.hide()
        self._page(PAGE_REPOS, f"{name}  ›  {project}")
        self._show_scope(name)
        self.tasks.start("project", self._load_project(name, info))

    async def _load_project(self, name: str, info: GitLabProject) -> None:
        reader = self._readers.get(name)
        if reader is not None and reader.running and not reader.is_read(info.path):
            # the tree load has not read it yet: read it now, once, ahead of its queue
            if await reader.want(info.path) is None:
                return
        else:
            repos = await self._project_repositories(name, info)  # deliberately read again
            if reader is not None:
                reader.update(info.path, repos)
        if reader is not None:
            self._all_repos[name] = reader.repositories()
        if self.profile == name and self._scope == info.path:
            self._show_scope(name)

    def show_group(self, name: str, group: str) -> None:
        """The repositories under a group (or a catalog path prefix), from the last listing."""
        if name != self.profile or name not in self._all_repos:
            self.open_profile(name)
            return
        self.repository, self._scope = "", group
        self.banner.hide()
        self._page(PAGE_REPOS, f"{name}  ›  {group}")
        self._show_scope(name)

    def open_repository(self, name: str, path: str) -> None:
        if not name or not path:
            return
        self.profile, self.repository = name, path
        self.banner.hide()
        self._page(PAGE_TAGS, f"{name}  ›  {path}")
        self.sidebar.select_repository(name, path)
        self.details.clear()
        self.tasks.cancel("details")
        self.tasks.start("tags", self._load_tags(name, path))

    async def _load_tags(self, name: str, path: str) -> None:
        try:
            await self.controller.load_tags(name, path, self.tags_view)
        except Exception as exc:
            if describe(exc) is None:
                raise
            self._show_problem(exc)
            return
        link, self._pending_link = self._pending_link, None
        if link is not None and link.repository == path:
            self._apply_link_view(link)
        elif self.tags_view.current_tag() is None and self.tags_view.model.rowCount():
            first = self.tags_view.model.row_at(0).tag
            self.tags_view.select_tags([first], current=first)
        self.loaded.emit(path)

    def _current_tag(self, tag: TagInfo | None) -> None:
        if tag is None:
            self.details.clear()
            return
        others = self.tags_view.model.shared_with(self.tags_view.model.backing_row(tag.tag) or 0)
        self.details.show_tag(tag, self.tags_view.reference(tag), others)
        if tag.error:
            return
        self.details.show_loading()
        self.tasks.start("details", self._load_details(self.profile, tag))

    async def _load_details(self, name: str, tag: TagInfo) -> None:
        await asyncio.sleep(
            0.08
        )  # moving through rows with the keyboard: fetch only where it stops
        try:
            details = await self.controller.load_details(name, tag)
        except Exception as exc:
            problem = describe(exc)
            if problem is None:
                raise
            self.details.show_error(problem.text())
            return
        self.details.show_details(details)
        self.detailsLoaded.emit(tag.tag)

    def show_overview(self, name: str) -> None:
        if not name:
            return
        if name != self.profile:
            self.open_profile(name)
        self._page(PAGE_OVERVIEW, f"{name}  ›  Storage overview")
        self.tasks.start("measure", self._measure(name))

    async def _measure(self, name: str) -> None:
        repos_task = self.tasks.task("repos")
        if repos_task is not None and not repos_task.done():
            await asyncio.wait([repos_task])
        paths = [r.path for r in self.repos_model.repositories()]
        self.overview.set_tags(
            self.controller.all_cached_tags(name), "all repositories read so far"
        )

        def on_repo(repo: Any, _tags: list[TagInfo]) -> None:
            self.repos_model.update_repository(repo)
            self.overview.set_repositories(self.repos_model.repositories())
            self.overview.set_tags(self.controller.all_cached_tags(name), "all repositories")

        try:
            await self.controller.measure(name, paths, on_repo)
        except Exception as exc:
            if describe(exc) is None:
                raise
            self._show_problem(exc)
        self.loaded.emit("overview")

    def refresh(self) -> None:
        if self.pages.currentIndex() == PAGE_TAGS and self.repository:
            self.open_repository(self.profile, self.repository)
        elif self.pages.currentIndex() == PAGE_OVERVIEW:
            self.show_overview(self.profile)
        elif self._scope in self._gitlab_projects.get(self.profile, {}):
            self.open_project(self.profile, self._scope)
        else:
            self.open_profile(self.profile)

    # --- links ---------------------------------------------------------------------------
    def view_link(self) -> ViewLink | None:
        profile = getattr(self, "_profiles", {}).get(self.profile)
        if profile is None:
            return None
        spec = self.tags_view.spec()
        model = self.tags_view.model
        on_tags = self.pages.currentIndex() == PAGE_TAGS
        current = self.tags_view.current_tag() if on_tags else None
        return ViewLink(
            registry=registry_host(profile.url),
            repository=self.repository if on_tags else "",
            tag=current.tag if current else "",
            filter=spec.text if on_tags else "",
            regex=spec.regex and on_tags,
            older_than_days=spec.older_than_days if on_tags else None,
            newer_than_days=spec.newer_than_days if on_tags else None,
            platform=spec.platform if on_tags else "",
            sort=SORT_COLUMNS[model.sort_column]
            if on_tags and model.sort_column is not None
            else "",
            descending=model.sort_descending,
            view="overview" if self.pages.currentIndex() == PAGE_OVERVIEW else "",
        )

    def copy_link(self) -> None:
        link = self.view_link()
        if link is not None:
            QGuiApplication.clipboard().setText(link.to_url())
            self.statusBar().showMessage("Link to this view copied", 4000)

    def open_link(self, link: ViewLink) -> None:
        profiles = getattr(self, "_profiles", {})
        match = next(
            (p.name for p in profiles.values() if registry_host(p.url) == link.registry), None
        )
        if match is None and self.local_mode.running and link.registry in ("local", "localhost"):
            match = next(iter(profiles), None)
        if match is None:
            self.banner.show_problem(_no_registry(link.registry))
            return
        if link.view == "overview":
            self.show_overview(match)
        elif link.repository:
            self._pending_link = link
            self.open_profile(match)
            self.open_repository(match, link.repository)
        else:
            self.open_profile(match)

    def _apply_link_view(self, link: ViewLink) -> None:
        self.tags_view.set_spec(
            FilterSpec(
                text=link.filter,
                regex=link.regex,
                older_than_days=link.older_than_days,
                newer_than_days=link.newer_than_days,
                platform=link.platform,
            )
        )
        if link.sort_column is not None:
            self.tags_view.sort_by(link.sort_column, link.descending)
        if link.tag:
            self.tags_view.select_tags([link.tag], current=link.tag)

    # --- dialogs and fixes ---------------------------------------------------------------
    def add_registry(self) -> None:
        from regview.ui.connect_dialog import AddRegistryDialog

        dialog = AddRegistryDialog(self.accounts, self.backend, self)
        dialog.registryAdded.connect(self._profile_added)
        dialog.open()

    def manage_tokens(self) -> None:
        from regview.ui.tokens_dialog import TokensDialog

        dialog = TokensDialog(self.accounts, self.backend, self)
        dialog.accountsChanged.connect(
            lambda: self.tasks.start("profiles", self._reload_profiles())
        )
        dialog.open()

    def _profile_added(self, name: str) -> None:
        self.tasks.start("profiles", self._reload_profiles(select=name))

    async def _reload_profiles(self, select: str = "") -> None:
        profiles = await self.accounts.profiles()
        self._set_registries(profiles)
        if select:
            await self.sessions.discard(select)
            self.open_profile(select)

    def add_repository_path(self, name: str) -> None:
        path, ok = QInputDialog.getText(
            self,
            "Add repository path",
            "Repository path (e.g. group/project/image). Use this where the registry does not "
            "list its repositories, e.g. with a deploy token:",
        )
        path = path.strip().strip("/")
        if ok and path:
            self.tasks.start("profiles", self._add_path(name, path))

    async def _add_path(self, name: str, path: str) -> None:
        profile = getattr(self, "_profiles", {}).get(name)
        if profile is None:
            return
        reader = self._readers.get(name)
        if path not in profile.repositories:
            profile = await self.accounts.save(
                replace(profile, repositories=(*profile.repositories, path))
            )
            self._profiles[name] = profile
            if reader is None:  # the catalog's session lists hand-added paths: a fresh one
                await self.sessions.discard(name)
        if reader is not None:  # the API tree: add the leaf, no reload of every project
            reader.add_manual(path)
            self.sidebar.add_manual_path(name, path)
            self._all_repos[name] = reader.repositories()
        else:
            self.open_profile(name)
        self.open_repository(name, path)

    def trust_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trust a CA certificate", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path and self.profile:
            self.tasks.start("profiles", self._set_ca(self.profile, path))

    async def _set_ca(self, name: str, path: str) -> None:
        profile = self._profiles.get(name)
        if profile is not None:
            self._profiles[name] = await self.accounts.save(replace(profile, ca_file=path))
            await self.sessions.discard(name)
            self.refresh()

    def _banner_action(self, action: str) -> None:
        if action == "trust-ca":
            self.trust_ca_file()
        elif action == "tokens":
            self.manage_tokens()
        elif action == "add-path":
            self.add_repository_path(self.profile)
        elif action == "retry":
            self.refresh()
        elif action == "trash":
            self.open_trash()

    # --- errors and status ---------------------------------------------------------------
    def _show_problem(self, exc: BaseException) -> None:
        problem = describe(exc)
        if problem is not None:
            self.banner.show_problem(problem)

    # --- deletion (regview.ui.delete_flow) -----------------------------------------------
    def _wire_deletion(self) -> None:
        from regview.ui.delete_flow import DeleteFlow

        self.delete_flow: DeleteFlow = DeleteFlow(self.sessions, self)
        self.delete_flow.mutated.connect(self._apply_mutation)
        self.delete_flow.problem.connect(self.banner.show_problem)
        self.delete_flow.status.connect(lambda text: self.statusBar().showMessage(text, 10000))
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
        self.tasks.start("pending-deletions", self._report_pending_deletions())

    def _delete_tags(self, tags: list[TagInfo]) -> None:
        if self.profile and self.repository and tags:
            self.delete_flow.delete_tags(self.profile, self.repository, [t.tag for t in tags])

    def _repos_menu(self, pos: Any) -> None:
        from PySide6.QtWidgets import QMenu

        index = self.repos_table.indexAt(pos)
        if not index.isValid():
            return
        path = self.repos_model.row_at(index.row()).path
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_repository(self.profile, path))
        menu.addAction("Cleanup policy…", lambda: self.open_policy_editor(path))
        profile = getattr(self, "_profiles", {}).get(self.profile)
        if profile is not None and profile.kind == RegistryKind.GITLAB and profile.api_url:
            menu.addAction("Registry visibility…", lambda: self.open_visibility(path))
        menu.addSeparator()
        menu.addAction(
            "Delete repository…", lambda: self.delete_flow.delete_repository(self.profile, path)
        )
        menu.popup(self.repos_table.viewport().mapToGlobal(pos))

    def open_policy_editor(self, path: str = "") -> None:
        from regview.ui.policy_editor import open_policy_editor

        repo = path or self.repository
        if self.profile and repo:
            open_policy_editor(self.delete_flow, self.profile, repo, self)

    def open_visibility(self, path: str) -> None:
        from regview.ui.visibility import VisibilityDialog

        VisibilityDialog(self.delete_flow, self.profile, path, self).open()

    def open_trash(self) -> Any:
        return self.delete_flow.open_trash()

    async def _report_pending_deletions(self) -> None:
        from regview.ui.async_utils import run_blocking

        pending = await run_blocking(self.delete_flow.journal.pending)
        if pending:
            self.banner.show_problem(
                Problem(
                    "A deletion did not finish",
                    f"{len(pending)} deletion run(s) stopped before the end (regview was closed "
                    "or crashed); some items may or may not have been deleted.",
                    "Open the recycle bin to see their state and restore what was deleted.",
                    "trash",
                )
            )

    def _apply_mutation(self, m: DeleteMutation) -> None:
        """Refresh only what a deletion or restore changed (habit 6)."""
        if m.removed:
            tags = self.controller.forget_tags(m.profile, m.repository, m.removed)
            if m.profile == self.profile and self.tags_view.model.repository == m.repository:
                gone = set(m.removed)
                keep = [t.tag for t in self.tags_view.selected_tags() if t.tag not in gone]
                rows = [t for t in self.tags_view.model.rows if t.tag not in gone]
                self.tags_view.set_tags(m.repository, rows)
                self.tags_view.select_tags(keep)
                self.details.clear()
                tags = rows if tags is None else tags
            if tags is not None and m.profile == self.profile:
                self.repos_model.update_repository(
                    RepositoryInfo(m.repository, tag_count=len(tags), size=repository_size(tags))
                )
        if m.restored:
            self.tasks.start("restored", self._load_restored(m))

    async def _load_restored(self, m: DeleteMutation) -> None:
        from regview.core.inventory import load_tags

        client = await self.controller.client(m.profile)
        tags = await load_tags(client, m.repository, tags=list(m.restored))
        all_tags = self.controller.add_tags(m.profile, m.repository, tags)
        if m.profile == self.profile and self.tags_view.model.repository == m.repository:
            self.tags_view.append_tags(tags)
            self.tags_view.finish_loading()
        if all_tags is not None and m.profile == self.profile:
            self.repos_model.update_repository(
                RepositoryInfo(
                    m.repository, tag_count=len(all_tags), size=repository_size(all_tags)
                )
            )

    def _task_failed(self, name: str, exc: BaseException) -> None:
        log.error("task %s failed: %s", name, exc)

    def _set_counts(self, text: str) -> None:
        self.counts.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tasks.cancel_all()
        self.welcome.tasks.cancel_all()
        if hasattr(self, "delete_flow"):
            self.delete_flow.cancel_all()
        super().closeEvent(event)

    async def aclose(self) -> None:
        """Cancel every task of this window and its dialogs, wait for them, close the sessions."""
        from regview.ui.window_close import close_task_owners

        if hasattr(self, "delete_flow"):
            self.delete_flow.cancel_all()  # also stops a running executor between items
        await close_task_owners(self, self.welcome.tasks)
        if hasattr(self, "delete_flow"):
            await self.delete_flow.aclose()  # GitLab clients whose close task was cancelled
        await self.controller.aclose()
        await self.sessions.close_all()


def _in_scope(path: str, scope: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")


def _no_registry(host: str) -> Problem:
    return Problem(
        "Registry not configured",
        f"The link points at {host}, which is not one of your registries.",
        "Add it with Add registry…, then open the link again.",
        "",
    )
