"""The embedded registry's blob writes: linking a stored blob into a repository, cross-repository
mounts, unlinking, and the upload lifecycle (start, touch, verify and commit, cancel).
"""

from __future__ import annotations

import sqlite3
import time

from regview.server.errors import RegistryError
from regview.server.registry.index import RegistryIndex
from regview.spec.digest import Digest, Hasher
from regview.spec.errors import ErrorCode


class BlobWrites:
    """Blob links and the upload lifecycle, over the index's store and metadata."""

    def __init__(self, index: RegistryIndex) -> None:
        self._ix = index

    def link_blob(self, name: str, digest: Digest, size: int, *, now: float | None = None) -> None:
        """Record a blob already in the store as present in repository `name`."""
        now = time.time() if now is None else now
        with self._ix.meta.write() as conn:
            self._link(conn, name, digest, size, now)

    def _link(
        self, conn: sqlite3.Connection, name: str, digest: Digest, size: int, now: float
    ) -> None:
        self._ix.note_push(name)
        repo = self._ix.ensure_repo(conn, name, now)
        conn.execute(
            "INSERT INTO blobs(digest, size, created) VALUES(?, ?, ?) "
            "ON CONFLICT(digest) DO UPDATE SET unreferenced_since = NULL",
            (str(digest), size, now),
        )
        conn.execute(
            "INSERT OR IGNORE INTO repo_blobs(repo_id, digest) VALUES(?, ?)",
            (repo, str(digest)),
        )

    def mount_blob(self, name: str, source: str, digest: Digest) -> bool:
        # check and link in one write transaction, so GC cannot free the blob in between
        with self._ix.meta.write() as conn:
            size = self._ix.blob_size(source, str(digest))
            if size is None:
                return False
            self._link(conn, name, digest, size, time.time())
        return True

    def unlink_blob(self, name: str, digest: str) -> bool:
        with self._ix.meta.write() as conn:
            cur = conn.execute(
                "DELETE FROM repo_blobs WHERE repo_id=(SELECT id FROM repositories WHERE name=?) "
                "AND digest=?",
                (name, digest),
            )
        return cur.rowcount > 0

    # -- uploads -----------------------------------------------------------------------------
    def start_upload(self, name: str) -> str:
        self._ix.note_push(name)
        upload_id = self._ix.store.new_upload()
        now = time.time()
        with self._ix.meta.write() as conn:
            conn.execute(
                "INSERT INTO uploads(id, repo, started, updated) VALUES(?, ?, ?, ?)",
                (upload_id, name, now, now),
            )
        self._ix.hashers[upload_id] = Hasher("sha256")
        return upload_id

    def upload_size(self, name: str, upload_id: str) -> int | None:
        row = self._ix.meta.conn.execute(
            "SELECT repo FROM uploads WHERE id=?", (upload_id,)
        ).fetchone()
        if row is None or row[0] != name:
            return None
        return self._ix.store.upload_size(upload_id)

    def touch_upload(self, upload_id: str) -> None:
        with self._ix.meta.write() as conn:
            conn.execute("UPDATE uploads SET updated=? WHERE id=?", (time.time(), upload_id))

    def finish_upload(self, name: str, upload_id: str, expected: Digest) -> int:
        """Verify the upload against `expected` and move it into the store; returns its size.
        On a mismatch the upload is discarded and DIGEST_INVALID raised."""
        size = self._ix.store.upload_size(upload_id) or 0
        hasher = self._ix.hashers.pop(upload_id, None)
        if hasher is None or hasher.size != size or hasher.algorithm != expected.algorithm:
            hasher = self._ix.store.hash_upload(upload_id, expected.algorithm)
        ok = hasher.verify(expected)
        if not ok:
            self._ix.store.discard_upload(upload_id)
            with self._ix.meta.write() as conn:
                conn.execute("DELETE FROM uploads WHERE id=?", (upload_id,))
            raise RegistryError(
                ErrorCode.DIGEST_INVALID,
                f"the uploaded content has digest {hasher.digest()}, not {expected}",
            )
        self._ix.store.sync_upload(upload_id)  # the slow part, outside the write lock
        # The rename and the row are one write transaction: GC deletes a blob file only under
        # the write lock and only while no row names it, so it never sees the file without
        # its row (it took such a file for a crash's orphan and deleted it under the push).
        now = time.time()
        with self._ix.meta.write() as conn:
            self._ix.store.commit_upload(upload_id, expected, sync=False)
            conn.execute("DELETE FROM uploads WHERE id=?", (upload_id,))
            self._link(conn, name, expected, size, now)
        return size

    def truncate_upload(self, upload_id: str, size: int) -> None:
        """Cut an upload back to `size` bytes (a chunk refused after it was written)."""
        self._ix.hashers.pop(upload_id, None)  # it has hashed the refused bytes too
        self._ix.store.truncate_upload(upload_id, size)

    def cancel_upload(self, upload_id: str) -> None:
        self._ix.hashers.pop(upload_id, None)
        self._ix.store.discard_upload(upload_id)
        with self._ix.meta.write() as conn:
            conn.execute("DELETE FROM uploads WHERE id=?", (upload_id,))
