"""The embedded registry's state and its reads: one data directory's blob store and metadata
database, the event listeners, and the indexed queries (catalog, tags, manifests, blob links,
referrers, and the listings the GitLab-instance modules use).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regview.server.errors import StoreClosed
from regview.server.registry.metadata import Metadata
from regview.server.registry.records import (
    Listener,
    ManifestRecord,
    RegistryEvent,
    RepositoryRecord,
    TagRecord,
)
from regview.server.registry.storage import BlobStore
from regview.spec.digest import Digest, Hasher


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _created_ts(created: float | None, pushed: float) -> datetime:
    """An image's creation time, else its push time. A database written before creation times
    were range-checked may hold one no UTC date can show (year 0, year 10000): that image shows
    its push time instead of failing the whole listing."""
    if created is not None:
        try:
            return _ts(created)
        except (OverflowError, ValueError, OSError):
            pass
    return _ts(pushed)


class RegistryIndex:
    """The state of one data directory and every read; `Registry` composes the writes with it."""

    def __init__(self, data_dir: Path, *, gc_delay: float = 86400) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.store = BlobStore(data_dir)
        self.meta = Metadata(data_dir / "metadata.db")
        self.gc_delay = gc_delay
        self._listeners: list[Listener] = []
        # Running hashes of chunked uploads: (bytes hashed, hasher). Lost on restart, then the
        # upload file is re-hashed at the end.
        self.hashers: dict[str, Hasher] = {}
        #: repository → when a push last touched it (upload started or finished, blob mounted,
        #: manifest stored). Online GC leaves such a repository's unreferenced content alone for
        #: a while: a client that found a layer already there (HEAD 200) skips uploading it and
        #: names it only in the manifest at the end. In memory: only this process's server
        #: pushes, and the data-directory lock keeps any other one out.
        self.push_activity: dict[str, float] = {}
        self._activity_lock = threading.Lock()
        self._lock = threading.Lock()
        # Background jobs (online GC, cleanup policies, GitLab's deferred deletions) run in
        # worker threads the server's shutdown cannot stop. Closing the database under one
        # crashed the process (sqlite3 used after close: a segfault, seen in CI), so close()
        # waits for the jobs in flight and refuses new ones.
        self._jobs = threading.Condition()
        self._running_jobs = 0
        self.closed = False

    @contextmanager
    def job(self) -> Iterator[None]:
        """Hold off close() while a background job uses the store; StoreClosed once closed."""
        with self._jobs:
            if self.closed:
                raise StoreClosed(f"the registry in {self.data_dir} is closed")
            self._running_jobs += 1
        try:
            yield
        finally:
            with self._jobs:
                self._running_jobs -= 1
                self._jobs.notify_all()

    def check_open(self) -> None:
        """A long job's checkpoint: stop early when close() is waiting for it."""
        if self.closed:
            raise StoreClosed(f"the registry in {self.data_dir} is closing")

    def close(self) -> None:
        with self._jobs:
            self.closed = True
            self._jobs.wait_for(lambda: self._running_jobs == 0)
            self.meta.close()

    # -- events ------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every push/deletion (from the thread that made it; keep it
        quick). Returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: RegistryEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    def note_push(self, name: str) -> None:
        with self._activity_lock:
            self.push_activity[name] = time.time()

    def note_blob_check(self, name: str) -> None:
        """A client asked whether a blob is in `name` (HEAD). A pusher does that to skip
        uploading what is there and names the blob only in its manifest PUT; when every blob of
        the image is there, no upload marks the repository busy, so the check itself must, or
        online GC could take a long-unreferenced layer between the HEAD and the PUT. A puller's
        HEAD only postpones collection in that repository by `push_grace`."""
        self.note_push(name)

    def busy_repositories(self, since: float) -> set[str]:
        """Repositories a push touched after `since`; older entries are forgotten."""
        with self._activity_lock:
            for name in [n for n, at in self.push_activity.items() if at <= since]:
                del self.push_activity[name]
            return set(self.push_activity)

    # -- reads -------------------------------------------------------------------------------
    def repo_id(self, name: str) -> int | None:
        row = self.meta.conn.execute("SELECT id FROM repositories WHERE name=?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def catalog(self, n: int, last: str) -> list[str]:
        rows = self.meta.conn.execute(
            "SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?", (last, n)
        ).fetchall()
        return [r[0] for r in rows]

    def tag_names(self, name: str, n: int | None, last: str) -> list[str] | None:
        repo = self.repo_id(name)
        if repo is None:
            return None
        rows = self.meta.conn.execute(
            "SELECT name FROM tags WHERE repo_id=? AND name > ? ORDER BY name LIMIT ?",
            (repo, last, -1 if n is None else n),
        ).fetchall()
        return [r[0] for r in rows]

    def get_manifest(self, name: str, reference: str) -> ManifestRecord | None:
        conn = self.meta.conn
        if ":" in reference:
            row = conn.execute(
                "SELECT m.digest, m.media_type, m.content, m.subject FROM manifests m "
                "JOIN repositories r ON r.id = m.repo_id WHERE r.name=? AND m.digest=?",
                (name, reference),
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT m.digest, m.media_type, m.content, m.subject FROM tags t "
                "JOIN repositories r ON r.id = t.repo_id JOIN manifests m ON m.id = t.manifest_id "
                "WHERE r.name=? AND t.name=?",
                (name, reference),
            ).fetchone()
        return None if row is None else ManifestRecord(row[0], row[1], bytes(row[2]), row[3])

    def blob_size(self, name: str, digest: str) -> int | None:
        """Size of a blob linked into repository `name`, None if unknown there."""
        row = self.meta.conn.execute(
            "SELECT b.size FROM repo_blobs rb JOIN repositories r ON r.id = rb.repo_id "
            "JOIN blobs b ON b.digest = rb.digest WHERE r.name=? AND rb.digest=?",
            (name, digest),
        ).fetchone()
        if row is None:
            return None
        return int(row[0]) if self.store.exists(Digest.parse(digest)) else None

    def referrers(self, name: str, digest: str, artifact_type: str | None) -> list[dict[str, Any]]:
        rows = self.meta.conn.execute(
            "SELECT m.digest, m.media_type, length(m.content), m.artifact_type, m.annotations "
            "FROM manifests m JOIN repositories r ON r.id = m.repo_id "
            "WHERE r.name=? AND m.subject=? ORDER BY m.pushed, m.digest",
            (name, digest),
        ).fetchall()
        out: list[dict[str, Any]] = []
        for d, media_type, size, kind, raw_annotations in rows:
            if artifact_type is not None and kind != artifact_type:
                continue
            desc: dict[str, Any] = {"mediaType": media_type, "digest": d, "size": size}
            if kind:
                desc["artifactType"] = kind
            ann = json.loads(raw_annotations)
            if ann:
                desc["annotations"] = ann
            out.append(desc)
        return out

    # -- the interface for the GitLab-instance modules ---------------------------------------
    def list_repositories(self) -> list[RepositoryRecord]:
        rows = self.meta.conn.execute(
            "SELECT r.name, r.created, (SELECT count(*) FROM tags t WHERE t.repo_id = r.id) "
            "FROM repositories r ORDER BY r.name"
        ).fetchall()
        return [RepositoryRecord(n, _ts(c), int(k)) for n, c, k in rows]

    def list_tags(self, name: str) -> list[TagRecord]:
        rows = self.meta.conn.execute(
            "SELECT t.name, m.digest, m.media_type, m.config_digest, m.total_size, "
            "m.image_created, m.pushed, t.updated FROM tags t "
            "JOIN repositories r ON r.id = t.repo_id JOIN manifests m ON m.id = t.manifest_id "
            "WHERE r.name=? ORDER BY t.name",
            (name,),
        ).fetchall()
        return [
            TagRecord(
                tag,
                d,
                media,
                cfg,
                int(size),
                _created_ts(created, pushed),
                _ts(updated),
            )
            for tag, d, media, cfg, size, created, pushed, updated in rows
        ]

    def repository_size(self, name: str) -> int:
        """De-duplicated bytes of the blobs the repository's manifests reference (GitLab's
        repository `size`)."""
        row = self.meta.conn.execute(
            "SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.digest IN ("
            "SELECT mr.digest FROM manifest_refs mr JOIN manifests m ON m.id = mr.manifest_id "
            "JOIN repositories r ON r.id = m.repo_id WHERE r.name=? AND mr.kind='blob')",
            (name,),
        ).fetchone()
        return int(row[0])

    def ensure_repo(self, conn: Any, name: str, now: float) -> int:
        conn.execute(
            "INSERT INTO repositories(name, created) VALUES(?, ?) ON CONFLICT(name) DO NOTHING",
            (name, now),
        )
        return int(conn.execute("SELECT id FROM repositories WHERE name=?", (name,)).fetchone()[0])
