"""The repositories table of one registry (or one GitLab group/project)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from regview.core.model import RepositoryInfo
from regview.ui.models.filtering import UNKNOWN_TIME
from regview.ui.models.table_model import IndexedTableModel
from regview.ui.models.tags_model import exact_time, relative_time
from regview.util.units import human_size

PATH, TAGS, SIZE, CREATED, STATUS = range(5)

HEADERS = ("Repository", "Tags", "Size", "Created", "Status")
HEADER_TIPS = (
    "Repository path inside the registry",
    "Number of tags (blank until counted)",
    "Stored size, each layer and config counted once however many tags use it: where the "
    "registry reports it (GitLab) or once its tags were read",
    "When the repository was created, where the registry says",
    "Registry-side state, e.g. scheduled for deletion",
)

_STATUS_TEXT = {
    "delete_scheduled": "delete scheduled",
    "delete_ongoing": "being deleted",
    "delete_failed": "deletion failed",
}


def status_text(status: str) -> str:
    """A registry-side repository state in words ('' when there is none)."""
    return _STATUS_TEXT.get(status, status.replace("_", " "))


class RepositoriesModel(IndexedTableModel[RepositoryInfo]):
    HEADERS = HEADERS
    HEADER_TIPS = HEADER_TIPS
    RIGHT_ALIGNED = frozenset({TAGS, SIZE})

    def set_repositories(self, repos: Iterable[RepositoryInfo]) -> None:
        self.set_rows(repos)

    def update_repository(self, repo: RepositoryInfo) -> None:
        """New facts for one repository (tag count and size after its tags loaded)."""
        self.append_rows([repo])

    def repositories(self) -> list[RepositoryInfo]:
        return list(self.rows)

    def row_identity(self, row: RepositoryInfo) -> Hashable:
        return row.path

    def row_keys(self, row: RepositoryInfo) -> Sequence[Any]:
        return (
            row.path.lower(),
            -1 if row.tag_count is None else row.tag_count,
            -1 if row.size is None else row.size,
            row.created.timestamp() if row.created else UNKNOWN_TIME,
            row.status,
        )

    def row_haystack(self, row: RepositoryInfo) -> str:
        return f"{row.path}\n{_STATUS_TEXT.get(row.status, row.status)}\n{row.location}"

    def row_name(self, row: RepositoryInfo) -> str:
        return row.path

    def row_time(self, row: RepositoryInfo) -> float:
        return row.created.timestamp() if row.created else UNKNOWN_TIME

    def display_text(self, row: int, column: int) -> str:
        repo = self.rows[row]
        if column == PATH:
            return repo.path
        if column == TAGS:
            return "" if repo.tag_count is None else f"{repo.tag_count:,}"
        if column == SIZE:
            return human_size(repo.size)
        if column == CREATED:
            return relative_time(repo.created)
        if column == STATUS:
            return status_text(repo.status)
        return ""

    def tooltip_text(self, row: int, column: int) -> str | None:
        repo = self.rows[row]
        if column == PATH:
            return repo.location or repo.path
        if column == CREATED and repo.created:
            return exact_time(repo.created)
        if column == SIZE and repo.size is not None:
            return f"{repo.size:,} bytes"
        return None
