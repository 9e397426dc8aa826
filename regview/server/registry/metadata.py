"""SQLite metadata: repositories, manifests (bytes as pushed), tags, references, uploads.

The schema version lives in `PRAGMA user_version`; `MIGRATIONS[i]` takes version i to i+1.
A database from a newer regview is refused, never downgraded. WAL mode lets readers (the event
loop serving GETs) run while a writer (a push in the thread pool) holds the write lock; each
thread has its own connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from regview.server.errors import SchemaTooNew, StoreError

MIGRATIONS: list[str] = [
    # 0 → 1
    """
    CREATE TABLE repositories(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created REAL NOT NULL
    );
    CREATE TABLE blobs(
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        created REAL NOT NULL,
        unreferenced_since REAL
    ) WITHOUT ROWID;
    CREATE TABLE repo_blobs(
        repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        PRIMARY KEY(repo_id, digest)
    ) WITHOUT ROWID;
    CREATE INDEX repo_blobs_digest ON repo_blobs(digest);
    CREATE TABLE manifests(
        id INTEGER PRIMARY KEY,
        repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        media_type TEXT NOT NULL,
        artifact_type TEXT NOT NULL DEFAULT '',
        annotations TEXT NOT NULL DEFAULT '{}',
        content BLOB NOT NULL,
        subject TEXT,
        config_digest TEXT,
        total_size INTEGER NOT NULL DEFAULT 0,
        image_created REAL,
        pushed REAL NOT NULL,
        unreferenced_since REAL,
        UNIQUE(repo_id, digest)
    );
    CREATE INDEX manifests_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;
    CREATE TABLE manifest_refs(
        manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('blob', 'child')),
        digest TEXT NOT NULL,
        PRIMARY KEY(manifest_id, kind, digest)
    ) WITHOUT ROWID;
    CREATE INDEX manifest_refs_digest ON manifest_refs(digest);
    CREATE TABLE tags(
        repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
        updated REAL NOT NULL,
        PRIMARY KEY(repo_id, name)
    ) WITHOUT ROWID;
    CREATE INDEX tags_manifest ON tags(manifest_id);
    CREATE TABLE uploads(
        id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        started REAL NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class Metadata:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the registry database {self.path}: {exc}") from exc
        with self._all_lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _migrate(self) -> None:
        conn = self.conn
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the registry database {self.path} has schema version {version}, written by a "
                f"newer regview (this one knows up to {SCHEMA_VERSION}); upgrade regview or use "
                "another --data directory"
            )
        for target in range(version, SCHEMA_VERSION):
            with self.write() as c:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute(f"PRAGMA user_version = {target + 1}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: writers queue instead of deadlocking)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for c in conns:
            with suppress(sqlite3.Error):
                c.close()
        self._local = threading.local()
