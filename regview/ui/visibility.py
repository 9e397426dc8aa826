"""GitLab: who can pull from a project's container registry (`container_registry_access_level`).

    VisibilityDialog(flow, profile, repository, parent=None)
        reads the project and its level in a task; Apply changes it through `GitLabAPI`
        level_box: QComboBox of LEVELS ; current_level: str ; apply_button
        signals: levelChanged(str)

Levels (GitLab's words): enabled — everyone with access to the project; private — project
members only; disabled — the registry is off for the project (images stay stored).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from regview.core import errors as E
from regview.core.gitlab.api import ACCESS_LEVELS
from regview.ui.tasks import Tasks

if TYPE_CHECKING:
    from regview.ui.dialogs.delete.flow import DeleteFlow, GitLabContext

LEVELS: dict[str, str] = {
    "enabled": "Everyone with access to the project",
    "private": "Only project members",
    "disabled": "Registry turned off for this project",
}
DETAILS: dict[str, str] = {
    "enabled": "Anyone who can see the project can pull its images (public projects: anyone).",
    "private": "Only members (Reporter or above) can pull; CI jobs of the project still can.",
    "disabled": "Push and pull are refused; images already stored stay until deleted.",
}


class VisibilityDialog(QDialog):
    levelChanged = Signal(str)

    def __init__(
        self, flow: DeleteFlow, profile: str, repository: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.flow, self.profile, self.repository = flow, profile, repository
        self.gitlab: GitLabContext | None = None
        self.current_level = ""
        self.tasks = Tasks(self)
        self.setWindowTitle("Registry visibility")
        self.resize(520, 240)
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 16, 18, 14)
        self.title = QLabel(f"Who can pull {repository}?")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.title.setFont(f)
        root.addWidget(self.title)
        self.project = QLabel("Reading the project…")
        self.project.setWordWrap(True)
        root.addWidget(self.project)
        self.current = QLabel()
        self.current.setTextFormat(Qt.TextFormat.RichText)
        root.addWidget(self.current)
        self.level_box = QComboBox()
        for level in ACCESS_LEVELS:
            self.level_box.addItem(LEVELS.get(level, level), level)
        self.level_box.setEnabled(False)
        self.level_box.currentIndexChanged.connect(self._selected)
        root.addWidget(self.level_box)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        root.addWidget(self.detail)
        root.addStretch(1)
        row = QHBoxLayout()
        self.state = QLabel()
        self.state.setWordWrap(True)
        row.addWidget(self.state, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        row.addWidget(close)
        row.addWidget(self.apply_button)
        root.addLayout(row)
        self.tasks.start("load", self._load())

    async def _load(self) -> None:
        try:
            self.gitlab = await self.flow.gitlab_context(self.profile, self.repository)
            if self.gitlab is None:
                self.project.setText(
                    f"{self.repository} is not reachable through a GitLab API with this "
                    "registry's credentials (a personal, project or group token with the api "
                    "scope is needed)."
                )
                return
            level = await self.gitlab.api.registry_access_level(self.gitlab.project_id)
        except E.RegistryError as exc:
            self.project.setText(f"Cannot read the project: {exc.message}")
            return
        self._set_current(level)
        self.project.setText(
            f"GitLab project {self.gitlab.project_path or self.gitlab.project_id}. "
            "The setting applies to every image of the project."
        )
        if (i := self.level_box.findData(level)) >= 0:
            self.level_box.setCurrentIndex(i)
        self.level_box.setEnabled(True)
        self._selected()

    def _set_current(self, level: str) -> None:
        self.current_level = level
        words = LEVELS.get(level, "unknown")
        self.current.setText(f"Now: <b>{words}</b> (container_registry_access_level = {level})")

    def _selected(self) -> None:
        level = str(self.level_box.currentData() or "")
        self.detail.setText(DETAILS.get(level, ""))
        self.apply_button.setEnabled(bool(self.gitlab) and level != self.current_level)

    def apply(self) -> None:
        level = str(self.level_box.currentData() or "")
        if self.gitlab is None or not level:
            return
        self.apply_button.setEnabled(False)
        self.state.setText("Saving…")
        self.tasks.start("apply", self._apply(level))

    async def _apply(self, level: str) -> None:
        assert self.gitlab is not None
        try:
            await self.gitlab.api.set_registry_access_level(self.gitlab.project_id, level)
        except E.RegistryError as exc:
            self.state.setText(f"Not changed: {exc.message}")
            self._selected()
            return
        self._set_current(level)
        self.state.setText("Changed.")
        self._selected()
        self.levelChanged.emit(level)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        if self.gitlab is not None:
            api, self.gitlab = self.gitlab.api, None
            self.flow.release(api)
        super().done(result)
