"""The GitLab instance's database file `gitlab.db`: schema, forward migrations, the connection
and its transactions (every other store module builds on `StoreBase`)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from regview.server.errors import SchemaTooNew, StoreError

SCHEMA_VERSION = 1
DB_NAME = "gitlab.db"

_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    visibility TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    visibility TEXT NOT NULL,
    registry_access TEXT NOT NULL,
    policy TEXT NOT NULL,
    policy_next_run_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE members (
    source_type TEXT NOT NULL,      -- 'project' | 'group'
    source_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    access_level INTEGER NOT NULL,
    PRIMARY KEY (source_type, source_id, user_id)
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    username TEXT,                  -- deploy tokens only
    token_sha256 TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    project_id INTEGER REFERENCES projects(id),
    group_id INTEGER REFERENCES groups(id),
    expires_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    created_at TEXT NOT NULL,
    status TEXT,
    cleanup_policy_started_at TEXT,
    last_bulk_delete REAL
);
"""


class StoreBase:
    """The connection to `gitlab.db`, one lock around it, and short transactions."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the GitLab database {self.path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{self.path} was written by a newer regview (schema {version}, this one "
                    f"knows {SCHEMA_VERSION}); upgrade regview or use another --data folder"
                )
            if version == 0:
                self._db.executescript(
                    "BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())
