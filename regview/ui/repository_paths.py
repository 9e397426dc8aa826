"""Repository paths added by hand (where the registry will not list them): add, rename, remove.

    check_path(text) -> str                  "" when `text` is a valid image path, else what is
                                             wrong, naming the bad part (GitLab's image-name rules)
    PathDialog(title, initial="", parent)    a line edit with that complaint shown as you type;
                                             OK only for a valid path; `path()`
    HandPaths(parent, accounts, sessions, browser, tasks)   add / rename / remove, saving the profile
        add(name) ; await add_path(name, path) ; rename(name, path) ; remove(name, path)

A path is checked before it is saved: `group/project-` is refused with "component 'project-' ends
with a trailing hyphen" (GitLab refuses such names; `docker push` to them fails with a confusing
connection error). Saving goes through `Accounts.save`, like every profile change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from regview.spec.errors import InvalidReference
from regview.spec.reference import validate_repository
from regview.ui.theme import error_sheet, set_sheet

if TYPE_CHECKING:
    from regview.services.sessions import Accounts, SessionManager
    from regview.ui.tasks import Tasks
    from regview.ui.window.browse import Browser

HELP = (
    "Repository path (e.g. group/project/image). Use this where the registry does not list its "
    "repositories, e.g. with a deploy token:"
)


RULE = (
    "Each part is lowercase letters and digits, joined by '.', '_', '__' or '-', and starts and "
    "ends with a letter or digit (GitLab's image-name rules)."
)


def check_path(text: str) -> str:
    path = text.strip().strip("/")
    if not path:
        return "Type a repository path."
    try:
        validate_repository(path)
    except InvalidReference as exc:
        what = str(exc).split("; each path component", 1)[0]
        return f"Not a valid image path: {what}. {RULE}"
    return ""


class PathDialog(QDialog):
    def __init__(self, title: str, initial: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        label = QLabel(HELP)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.edit = QLineEdit(initial)
        self.edit.setPlaceholderText("group/project/image")
        layout.addWidget(self.edit)
        self.error = QLabel()
        self.error.setWordWrap(True)
        set_sheet(self.error, error_sheet)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.edit.textChanged.connect(self._check)
        self._check(initial)

    @property
    def ok_button(self) -> QWidget:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    def _check(self, text: str) -> None:
        problem = check_path(text) if text.strip() else ""
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        self.adjustSize()  # the complaint wraps over a few lines: make room for all of it
        self.ok_button.setEnabled(bool(text.strip()) and not problem)

    def accept(self) -> None:
        if check_path(self.edit.text()):  # Enter in the line edit with an invalid path
            return
        super().accept()

    def path(self) -> str:
        return self.edit.text().strip().strip("/")


class HandPaths:
    """Add, rename and remove the paths added by hand to a registry, saving its profile."""

    def __init__(
        self,
        parent: QWidget,
        accounts: Accounts,
        sessions: SessionManager,
        browser: Browser,
        tasks: Tasks,
    ) -> None:
        self.parent, self.accounts, self.sessions = parent, accounts, sessions
        self.browser, self.tasks = browser, tasks
        self.dialog: PathDialog | None = None  # the one open (tests drive it)
        self.confirm: QMessageBox | None = None

    def _open(self, title: str, initial: str, done: object) -> PathDialog:
        dialog = PathDialog(title, initial, self.parent)
        dialog.accepted.connect(done)  # type: ignore[arg-type]
        self.dialog = dialog
        dialog.open()
        return dialog

    def add(self, name: str) -> None:
        """Ask for a path (checked with GitLab's image-name rules before it is saved)."""

        def done() -> None:
            assert self.dialog is not None
            self.tasks.start("profiles", self.add_path(name, self.dialog.path()))

        self._open("Add repository path", "", done)

    async def add_path(self, name: str, path: str) -> None:
        """Save `path` in the profile, show it in the tree and open it."""
        browser = self.browser
        registries = browser.registries
        profile = registries.get(name)
        if profile is None:
            return
        reader = browser.tree.reader(name)
        if path not in profile.repositories:
            profile = await self.accounts.save(
                replace(profile, repositories=(*profile.repositories, path))
            )
            registries.put(profile)
            if reader is None:  # the catalog's session lists hand-added paths: a fresh one
                await self.sessions.discard(name)
        if reader is not None:  # the API tree: add the leaf, no reload of every project
            reader.add_manual(path)
            browser.sidebar.add_manual_path(name, path)
            browser.repositories.listed[name] = reader.repositories()
        else:
            browser.open_profile(name)
        browser.open_repository(name, path)

    def rename(self, name: str, old: str) -> None:
        def done() -> None:
            assert self.dialog is not None
            new = self.dialog.path()
            if new != old:
                self.tasks.start("profiles", self._save(name, old, new))

        self._open("Rename repository path", old, done)

    def remove(self, name: str, path: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove repository path",
            f"Remove {path} from the paths you added to {name}? Nothing is deleted from the "
            "registry.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self.parent,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        yes = box.button(QMessageBox.StandardButton.Yes)
        assert yes is not None
        yes.setText("Remove")
        yes.clicked.connect(lambda: self.tasks.start("profiles", self._save(name, path, "")))
        self.confirm = box
        box.open()

    async def _save(self, name: str, old: str, new: str) -> None:
        """Replace `old` by `new` ("" removes it) in the profile, then in the tree."""
        browser = self.browser
        registries = browser.registries
        profile = registries.get(name)
        if profile is None:
            return
        paths = [p for p in profile.repositories if p != old]
        if new and new not in paths:
            at = list(profile.repositories).index(old) if old in profile.repositories else 0
            paths.insert(at, new)
        registries.put(await self.accounts.save(replace(profile, repositories=tuple(paths))))
        reader = browser.tree.reader(name)
        if reader is not None:  # the API tree: move the leaf, no reload of every project
            if old in reader.manual:
                reader.manual.remove(old)
            browser.sidebar.remove_manual_path(name, old)
            if new:
                reader.add_manual(new)
                browser.sidebar.add_manual_path(name, new)
            browser.repositories.listed[name] = reader.repositories()
        else:  # the catalog's session lists hand-added paths: a fresh one
            await self.sessions.discard(name)
            browser.open_profile(name)
        if browser.repository == old and browser.profile == name:
            if new:
                browser.open_repository(name, new)
            else:
                browser.open_profile(name)
