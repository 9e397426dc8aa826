"""Sidebar: registries → (GitLab) groups and projects → repositories.

    Sidebar(parent=None)
        set_registries([(name, url, is_gitlab)])      one top-level node each
        set_repositories(name, paths, listable=True)  fill a registry; GitLab paths nest by group
        set_gitlab_projects(name, [(namespace, project)], manual=(), disabled=())
                                                      GitLab API: groups → projects, each with a
                                                      "Listing repositories…" child until read
        set_project_repositories(name, project, [(path, status)]) / set_project_problem(...)
        add_manual_path(name, path)                   a hand-added path into the API tree
        remove_manual_path(name, path)                one taken out again (renamed or removed)
        hand_paths: (name) -> paths                   the profile's hand-added paths (the window
                                                      sets it): their menu offers Rename / Remove
        set_loading(name, text) / set_problem(name, text)
        select_repository(name, path)
        signals: registrySelected(str), repositorySelected(str, str), overviewSelected(str),
                 groupSelected(str, str), projectSelected(str, str), projectExpanded(str, str),
                 addPathRequested(str), addRegistryRequested()

Registries without a listable catalog (deploy tokens, GitLab.com) get "Add repository path…".
In the API tree a hand-added path sits under the project whose path is its longest prefix (unless
the API lists it there anyway), otherwise under an "Added by hand" node.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QFocusEvent, QFont
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem, QTreeWidgetItemIterator, QWidget

from regview.ui.action_icons import action_icon
from regview.ui.theme import muted, set_sheet

KIND_ROLE = int(Qt.ItemDataRole.UserRole) + 1
NAME_ROLE = int(Qt.ItemDataRole.UserRole) + 2
PATH_ROLE = int(Qt.ItemDataRole.UserRole) + 3
#: the item's text is secondary (a status line, a repository with a problem): its grey is set
#: again on a theme switch, an item's foreground being a colour, not a palette role
MUTED_ROLE = int(Qt.ItemDataRole.UserRole) + 4

REGISTRY, GROUP, REPOSITORY, OVERVIEW, ADD_PATH, STATUS, PROJECT, HAND = (
    "registry",
    "group",
    "repository",
    "overview",
    "add-path",
    "status",
    "project",
    "hand-added",
)
LISTING = "Listing repositories…"
NOT_LISTED = "Not listed yet: select the registry to list it"
NO_IMAGES = "No container images"
REGISTRY_OFF = "Container registry turned off"
HAND_LABEL = "Added by hand"

# a project's state in the tree: None = not read yet, str = a problem, list = its repositories
ProjectState = list[tuple[str, str]] | str | None


class Sidebar(QTreeWidget):
    registrySelected = Signal(str)
    repositorySelected = Signal(str, str)
    overviewSelected = Signal(str)
    groupSelected = Signal(str, str)
    projectSelected = Signal(str, str)
    projectExpanded = Signal(str, str)
    addPathRequested = Signal(str)
    renamePathRequested = Signal(str, str)  # (registry, hand-added path)
    removePathRequested = Signal(str, str)
    addRegistryRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setUniformRowHeights(True)
        self.setIndentation(14)
        self.setMinimumWidth(200)
        set_sheet(self, "QTreeView::item { padding: 3px 2px; }")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.currentItemChanged.connect(self._current_changed)
        self.itemActivated.connect(self._activated)
        self.itemExpanded.connect(self._expanded)
        self._registries: dict[str, QTreeWidgetItem] = {}
        self._gitlab: dict[str, bool] = {}
        # the GitLab API tree, per registry: project nodes, their state, hand-added paths
        self._projects: dict[str, dict[str, QTreeWidgetItem]] = {}
        self._states: dict[str, dict[str, ProjectState]] = {}
        self._manual: dict[str, list[str]] = {}
        self._disabled: dict[str, set[str]] = {}
        self.hand_paths: Callable[[str], Sequence[str]] | None = None

    def set_registries(self, registries: Iterable[tuple[str, str, bool]]) -> None:
        wanted = list(registries)
        names = [n for n, _, _ in wanted]
        for name in list(self._registries):
            if name not in names:
                item = self._registries.pop(name)
                self._forget_tree(name)
                self.takeTopLevelItem(self.indexOfTopLevelItem(item))
        for name, url, is_gitlab in wanted:
            existing = self._registries.get(name)
            if existing is None:
                item = QTreeWidgetItem([name])
                item.setData(0, KIND_ROLE, REGISTRY)
                item.setData(0, NAME_ROLE, name)
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
                self.addTopLevelItem(item)
                self._registries[name] = item
                self._child(item, "Storage overview", OVERVIEW, name)
                item.setExpanded(True)
            else:
                item = existing
            item.setToolTip(0, f"{name}\n{url}")  # the name whole where the column cuts it
            self._gitlab[name] = is_gitlab

    def _child(
        self, parent: QTreeWidgetItem, text: str, kind: str, name: str, path: str = ""
    ) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [text])
        item.setData(0, KIND_ROLE, kind)
        item.setData(0, NAME_ROLE, name)
        item.setData(0, PATH_ROLE, path)
        if kind in (OVERVIEW, ADD_PATH, STATUS):
            font: QFont = item.font(0)
            font.setItalic(kind != OVERVIEW)
            item.setFont(0, font)
            if kind != OVERVIEW:
                self._mute(item)
        return item

    def _mute(self, item: QTreeWidgetItem) -> None:
        item.setData(0, MUTED_ROLE, True)
        item.setForeground(0, muted(self.palette()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch: the new scheme's grey
            colour = muted(self.palette())
            it = QTreeWidgetItemIterator(self)
            while (item := it.value()) is not None:
                if item.data(0, MUTED_ROLE):
                    item.setForeground(0, colour)
                it += 1

    def _clear_children(self, item: QTreeWidgetItem, keep_overview: bool = True) -> None:
        for i in reversed(range(item.childCount())):
            child = item.child(i)
            if child is None:
                continue
            if keep_overview and child.data(0, KIND_ROLE) == OVERVIEW:
                continue
            item.removeChild(child)

    def set_loading(self, name: str, text: str = "Listing repositories…") -> None:
        root = self._registries.get(name)
        current = self.currentItem()
        if (
            root is not None
            and current is not None
            and current.data(0, NAME_ROLE) == name
            and current.data(0, KIND_ROLE) != OVERVIEW
        ):
            # the current node is about to go: the registry itself becomes current, quietly
            # (the window is already reading it; a signal would open another view)
            self.blockSignals(True)
            self.setCurrentItem(root)
            self.blockSignals(False)
        self.set_problem(name, text)

    def listing_stopped(self, name: str) -> None:
        """A listing of `name` was cancelled (another registry was opened meanwhile): its node
        must not say "Listing repositories…" for good."""
        item = self._registries.get(name)
        if item is None:
            return
        for i in range(item.childCount()):
            child = item.child(i)
            if (
                child is not None
                and child.data(0, KIND_ROLE) == STATUS
                and child.text(0) == LISTING
            ):
                self.set_problem(name, NOT_LISTED)
                return

    def focusInEvent(self, event: QFocusEvent) -> None:
        if self.currentItem() is not None:
            super().focusInEvent(event)
            return
        # A tree with no current node makes its first one current when it gets the focus (a
        # Tab, or the focused page hidden): that is not the user choosing a registry, and
        # announcing it opened one unasked. Arrows and clicks from there still announce.
        self.blockSignals(True)
        try:
            super().focusInEvent(event)
        finally:
            self.blockSignals(False)

    def select_registry(self, name: str) -> None:
        """Make a registry's own node current without announcing it (the view shows it)."""
        item = self._registries.get(name)
        if item is not None:
            self.blockSignals(True)
            self.setCurrentItem(item)
            self.blockSignals(False)

    def select_scope(self, name: str, path: str) -> bool:
        """Make a group or project node current without announcing it (the view shows it)."""
        item = self._find(name, GROUP, path) or self._find(name, PROJECT, path)
        if item is None:
            return False
        self.blockSignals(True)
        self.setCurrentItem(item)
        self.blockSignals(False)
        return True

    def _forget_tree(self, name: str) -> None:
        for table in (self._projects, self._states, self._manual, self._disabled):
            table.pop(name, None)

    def set_problem(self, name: str, text: str) -> None:
        item = self._registries.get(name)
        if item is None:
            return
        with self._rebuilding(name, item):
            self._forget_tree(name)
            self._clear_children(item)
            status = self._child(item, text, STATUS, name)
            status.setToolTip(0, text)
            # the paths added by hand are saved in the profile: they stay reachable whatever
            # the registry's state (a path added while it does not answer stays in view)
            for path in sorted(self.hand_paths(name) if self.hand_paths is not None else ()):
                self._child(item, path, REPOSITORY, name, path).setToolTip(0, path)
            self._child(item, "Add repository path…", ADD_PATH, name)

    @contextlib.contextmanager
    def _rebuilding(self, name: str, root: QTreeWidgetItem) -> Iterator[None]:
        """Rebuild `name`'s nodes quietly: the node on show going away must not open another
        view; it is current again afterwards where it is still there, else the registry."""
        shown = self._current_key()
        self.blockSignals(True)
        try:
            yield
            if shown is not None and shown[0] == name:
                self.setCurrentItem(self._find(*shown) or root)
        finally:
            self.blockSignals(False)

    def set_repositories(self, name: str, paths: Iterable[str], listable: bool = True) -> None:
        item = self._registries.get(name)
        if item is None:
            return
        self.setUpdatesEnabled(False)
        try:
            with self._rebuilding(name, item):
                self._forget_tree(name)
                self._clear_children(item)
                nested = self._gitlab.get(name, False)
                groups: dict[str, QTreeWidgetItem] = {}
                for path in sorted(paths, key=str.lower):
                    parent = item
                    parts = path.split("/")
                    if nested and len(parts) > 1:
                        for depth in range(1, len(parts)):
                            key = "/".join(parts[:depth])
                            group = groups.get(key)
                            if group is None:
                                group = self._child(parent, parts[depth - 1], GROUP, name, key)
                                group.setToolTip(0, key)
                                group.setExpanded(True)
                                groups[key] = group
                            parent = group
                        label = parts[-1]
                    else:
                        label = path
                    leaf = self._child(parent, label, REPOSITORY, name, path)
                    leaf.setToolTip(0, path)
                if not listable:
                    self._child(item, "Add repository path…", ADD_PATH, name)
                item.setExpanded(True)
        finally:
            self.setUpdatesEnabled(True)

    def set_gitlab_projects(
        self,
        name: str,
        projects: Iterable[tuple[str, str]],
        *,
        manual: Iterable[str] = (),
        disabled: Iterable[str] = (),
    ) -> None:
        """GitLab API: a group node per namespace (subgroups nested), a project node in each,
        "Listing repositories…" under every project until its repositories arrive; `manual`
        are the hand-added paths, `disabled` the projects whose container registry is off."""
        item = self._registries.get(name)
        if item is None:
            return
        wanted = sorted(projects, key=lambda p: p[1].lower())
        current = self._current_key()
        self.setUpdatesEnabled(False)
        self.blockSignals(True)
        try:
            self._clear_children(item)
            nodes: dict[str, QTreeWidgetItem] = {}
            self._projects[name] = nodes
            self._states[name] = {}
            self._manual[name] = list(dict.fromkeys(manual))
            self._disabled[name] = set(disabled)
            groups: dict[str, QTreeWidgetItem] = {}
            for namespace, project in wanted:
                parent = item
                parts = namespace.split("/") if namespace else []
                for depth in range(1, len(parts) + 1):
                    key = "/".join(parts[:depth])
                    group = groups.get(key)
                    if group is None:
                        group = self._child(parent, parts[depth - 1], GROUP, name, key)
                        group.setToolTip(0, f"Group {key}")
                        group.setExpanded(True)
                        groups[key] = group
                    parent = group
                node = self._child(parent, project.rsplit("/", 1)[-1], PROJECT, name, project)
                node.setToolTip(0, f"Project {project}")
                nodes[project] = node
                self._states[name][project] = None
            for project, node in nodes.items():
                self._render_project(name, project)
                node.setExpanded(len(wanted) <= 30)
            if not wanted:
                self._child(item, "No projects with this token", STATUS, name)
            self._child(item, "Add repository path…", ADD_PATH, name)
            self._render_hand(name)
            item.setExpanded(True)
        finally:
            self._restore_current(current)
            self.blockSignals(False)
            self.setUpdatesEnabled(True)

    def project_item(self, name: str, project: str) -> QTreeWidgetItem | None:
        return self._projects.get(name, {}).get(project)

    def set_project_repositories(
        self, name: str, project: str, repositories: Iterable[tuple[str, str]]
    ) -> None:
        """(path, status text) per repository of `project`; the label is the path inside it."""
        self._set_state(name, project, sorted(repositories, key=lambda r: r[0].lower()))

    def set_project_problem(self, name: str, project: str, text: str) -> None:
        self._set_state(name, project, text)

    def add_manual_path(self, name: str, path: str) -> None:
        """A path added by hand while the API tree is shown: under its project, or "Added by
        hand"."""
        manual = self._manual.get(name)
        if manual is not None and path not in manual:
            manual.append(path)
            self._render_manual(name, path)

    def remove_manual_path(self, name: str, path: str) -> None:
        manual = self._manual.get(name)
        if manual is not None and path in manual:
            manual.remove(path)
            self._render_manual(name, path)

    def _render_manual(self, name: str, path: str) -> None:
        """Draw again where a hand-added path shows: its project, or "Added by hand"."""
        owner = self._owner(name, path)
        if owner:
            self._set_state(name, owner, self._states[name].get(owner))
        else:
            self._render_hand(name)

    def _set_state(self, name: str, project: str, state: ProjectState) -> None:
        node = self.project_item(name, project)
        if node is None:
            return
        self._states[name][project] = state
        current = self.currentItem()
        # rebuilding must not look like the user picking another row; only a row inside this
        # project goes away and needs finding again afterwards
        inside = current is not None and current.parent() is node
        key = self._current_key() if inside else None
        self.blockSignals(True)
        try:
            self._render_project(name, project)
        finally:
            self._restore_current(key)
            self.blockSignals(False)

    def _owner(self, name: str, path: str) -> str:
        """The project of a repository path: the longest project path that is a prefix of it."""
        nodes = self._projects.get(name, {})
        parts = path.split("/")
        for depth in range(len(parts), 0, -1):
            prefix = "/".join(parts[:depth])
            if prefix in nodes:
                return prefix
        return ""

    def _current_key(self) -> tuple[str, str, str] | None:
        item = self.currentItem()
        if item is None:
            return None
        return (item.data(0, NAME_ROLE), item.data(0, KIND_ROLE), item.data(0, PATH_ROLE) or "")

    def _restore_current(self, key: tuple[str, str, str] | None) -> None:
        if key is not None and (item := self._find(*key)) is not None:
            self.setCurrentItem(item)

    def _render_project(self, name: str, project: str) -> None:
        node = self._projects[name][project]
        state = self._states[name].get(project)
        self._clear_children(node, keep_overview=False)
        listed = state if isinstance(state, list) else []
        known = {path for path, _status in listed}
        hand = [
            (p, "")
            for p in self._manual.get(name, ())
            if p not in known and self._owner(name, p) == project
        ]
        off = project in self._disabled.get(name, set())
        for path, status in sorted([*listed, *hand], key=lambda r: r[0].lower()):
            inner = path[len(project) + 1 :] if path.startswith(project + "/") else ""
            label = inner or path.rsplit("/", 1)[-1]
            by_hand = path not in known
            leaf = self._child(
                node, f"{label} ({status})" if status else label, REPOSITORY, name, path
            )
            tip = f"{path}\n{status}" if status else path
            leaf.setToolTip(0, f"{tip}\nAdded by hand" if by_hand else tip)
            if status:
                self._mute(leaf)
            if by_hand:
                font: QFont = leaf.font(0)
                font.setItalic(True)
                leaf.setFont(0, font)
        if state is None:
            text = REGISTRY_OFF if off else LISTING
        elif isinstance(state, str):
            text = state
        else:
            text = "" if listed or hand else (REGISTRY_OFF if off else NO_IMAGES)
        if text:
            self._child(node, text, STATUS, name, project).setToolTip(0, text)

    def _render_hand(self, name: str) -> None:
        """The "Added by hand" node: hand-added paths that belong to none of the projects."""
        root = self._registries.get(name)
        if root is None:
            return
        for i in range(root.childCount()):
            child = root.child(i)
            if child is not None and child.data(0, KIND_ROLE) == HAND:
                root.removeChild(child)
                break
        orphans = sorted(
            (p for p in self._manual.get(name, ()) if not self._owner(name, p)), key=str.lower
        )
        if not orphans:
            return
        node = QTreeWidgetItem([HAND_LABEL])
        node.setData(0, KIND_ROLE, HAND)
        node.setData(0, NAME_ROLE, name)
        node.setData(0, PATH_ROLE, "")
        node.setToolTip(0, "Repository paths you added (Add repository path…)")
        add_at = next(
            (
                i
                for i in range(root.childCount())
                if (c := root.child(i)) is not None and c.data(0, KIND_ROLE) == ADD_PATH
            ),
            root.childCount(),
        )
        root.insertChild(add_at, node)
        for path in orphans:
            leaf = self._child(node, path, REPOSITORY, name, path)
            leaf.setToolTip(0, f"{path}\nAdded by hand")
        node.setExpanded(True)

    def _find(self, name: str, kind: str, path: str) -> QTreeWidgetItem | None:
        root = self._registries.get(name)
        if root is None:
            return None
        stack = [root]
        while stack:
            node = stack.pop()
            if node.data(0, KIND_ROLE) == kind and node.data(0, PATH_ROLE) == path:
                return node
            stack.extend(c for i in range(node.childCount()) if (c := node.child(i)) is not None)
        return None

    def repository_item(self, name: str, path: str) -> QTreeWidgetItem | None:
        return self._find(name, REPOSITORY, path)

    def select_repository(self, name: str, path: str) -> bool:
        item = self.repository_item(name, path)
        if item is None:
            return False
        self.blockSignals(True)
        self.setCurrentItem(item)
        self.blockSignals(False)
        self.scrollToItem(item)
        return True

    def _current_changed(self, item: QTreeWidgetItem | None, _old: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        kind, name = item.data(0, KIND_ROLE), item.data(0, NAME_ROLE)
        if kind == REPOSITORY:
            self.repositorySelected.emit(name, item.data(0, PATH_ROLE))
        elif kind == GROUP:
            self.groupSelected.emit(name, item.data(0, PATH_ROLE))
        elif kind == PROJECT or (kind == STATUS and item.data(0, PATH_ROLE)):
            self.projectSelected.emit(name, item.data(0, PATH_ROLE))
        elif kind in (REGISTRY, STATUS):
            self.registrySelected.emit(name)
        elif kind == OVERVIEW:
            self.overviewSelected.emit(name)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        if item.data(0, KIND_ROLE) == PROJECT:
            self.projectExpanded.emit(item.data(0, NAME_ROLE), item.data(0, PATH_ROLE))

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, KIND_ROLE) == ADD_PATH:
            self.addPathRequested.emit(item.data(0, NAME_ROLE))

    def mouseReleaseEvent(self, event: object) -> None:  # type: ignore[override]
        super().mouseReleaseEvent(event)  # type: ignore[arg-type]
        item = self.currentItem()
        if item is not None and item.data(0, KIND_ROLE) == ADD_PATH:
            self.addPathRequested.emit(item.data(0, NAME_ROLE))

    def _menu(self, pos: QPoint) -> None:
        self.context_menu(self.itemAt(pos)).popup(self.viewport().mapToGlobal(pos))

    def context_menu(self, item: QTreeWidgetItem | None) -> QMenu:
        """The menu of `item` (or of the empty space): Add repository path…, Add registry…, and
        Rename path… / Remove path on a path added by hand."""
        menu = QMenu(self)
        if item is not None:
            name = item.data(0, NAME_ROLE)
            add = QAction(action_icon("list-add"), "Add repository path…", menu)
            add.triggered.connect(lambda: self.addPathRequested.emit(name))
            menu.addAction(add)
            path = item.data(0, PATH_ROLE)
            hand = self.hand_paths(name) if self.hand_paths is not None else ()
            if item.data(0, KIND_ROLE) == REPOSITORY and path in hand:
                rename = QAction("Rename path…", menu)
                rename.triggered.connect(lambda: self.renamePathRequested.emit(name, path))
                remove = QAction("Remove path", menu)
                remove.triggered.connect(lambda: self.removePathRequested.emit(name, path))
                menu.addAction(rename)
                menu.addAction(remove)
        new = QAction(action_icon("list-add"), "Add registry…", menu)
        new.triggered.connect(self.addRegistryRequested)
        menu.addAction(new)
        return menu
