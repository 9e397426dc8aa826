"""The GitLab instance's own data: users, groups, projects, memberships, tokens, repository ids.

Kept in `gitlab.db` next to the registry's data (its own SQLite file, schema version in
`user_version`, forward migrations only, a newer major version is refused). Tokens are stored as
SHA-256 digests: they are 160-bit random strings, so a slow hash would add nothing but latency.

Paths are GitLab "full paths": a group `acme`, a subgroup `acme/tools`, a project `acme/webshop`.
A project sits in a group or in a user's personal namespace (`alice/sandbox`). Registry images
sit at the project path or up to two levels below it (`acme/webshop/frontend/nightly`).
"""

from __future__ import annotations

from datetime import datetime

from regview.server.gitlab.db import DB_NAME, SCHEMA_VERSION
from regview.server.gitlab.directory import DEFAULT_POLICY
from regview.server.gitlab.records import Repository, iso, now_iso, row_repo
from regview.server.gitlab.tokens import TokenStore

__all__ = ["DB_NAME", "DEFAULT_POLICY", "SCHEMA_VERSION", "GitLabStore"]


class GitLabStore(TokenStore):
    """Thread-safe access to `gitlab.db`. Every method is short and blocking (call it off the
    event loop from async code)."""

    # --- repositories (GitLab ids for registry repositories) ------------------------------

    def ensure_repository(
        self, path: str, project_id: int, created: datetime | None = None
    ) -> Repository:
        """The GitLab id record of a registry repository, made on first sight (listings call
        this for every repository, so the common case is one read and no write)."""
        row = self._one("SELECT * FROM repositories WHERE path = ?", path)
        if row is not None and row["project_id"] == project_id:
            return row_repo(row)
        with self._tx() as db:
            db.execute(
                "INSERT INTO repositories (path, project_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET project_id = excluded.project_id",
                (path, project_id, iso(created) if created else now_iso()),
            )
            row = db.execute("SELECT * FROM repositories WHERE path = ?", (path,)).fetchone()
            return row_repo(row)

    def repository(self, repo_id: int) -> Repository | None:
        row = self._one("SELECT * FROM repositories WHERE id = ?", repo_id)
        return None if row is None else row_repo(row)

    def repositories(self) -> list[Repository]:
        return [row_repo(r) for r in self._all("SELECT * FROM repositories ORDER BY id")]

    def set_repository_status(self, repo_id: int, status: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE repositories SET status = ? WHERE id = ?", (status, repo_id))

    def set_cleanup_started(self, repo_id: int, when: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE repositories SET cleanup_policy_started_at = ? WHERE id = ?",
                (when, repo_id),
            )

    def claim_bulk_delete(self, repo_id: int, now: float, interval: float = 3600.0) -> bool:
        """The once-an-hour lease of GitLab's bulk tag delete; False if taken within `interval`."""
        with self._tx() as db:
            row = db.execute(
                "SELECT last_bulk_delete FROM repositories WHERE id = ?", (repo_id,)
            ).fetchone()
            if row is None:
                return False
            last = row["last_bulk_delete"]
            if last is not None and now - last < interval:
                return False
            db.execute("UPDATE repositories SET last_bulk_delete = ? WHERE id = ?", (now, repo_id))
            return True

    def forget_repository(self, repo_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM repositories WHERE id = ?", (repo_id,))
