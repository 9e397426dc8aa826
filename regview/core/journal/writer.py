"""Writing one journal entry as a run proceeds: the append-only event log, and the manifest
bytes saved to the recycle bin (atomically) before anything is deleted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regview.core.journal.types import ItemState, JournalBusy, JournalEntry, JournalError
from regview.util.atomic import write_atomic

if TYPE_CHECKING:
    from regview.core.journal.journal import Journal


def atomic_write(path: Path, data: bytes) -> None:
    """`write_atomic` in the journal's words: its failures are JournalErrors."""
    try:
        write_atomic(path, data, parents=False)
    except OSError as exc:  # e.g. the folder itself is gone or not a folder
        raise JournalError(f"could not write {path}: {exc.strerror or exc}") from exc


def hold(fd: int) -> bool:
    """Take the run's lock on its open event log (non-blocking); False when another open file
    holds it. A killed process's lock goes with it, so a crashed run can be resumed. Without
    POSIX locks (Windows), always True."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def trash_name(digest: str) -> str:
    return digest.replace(":", "-")


def save_pair(path: Path, media_type: bytes, data: bytes) -> None:
    if not path.exists():
        atomic_write(path.with_suffix(".type"), media_type)
        atomic_write(path, data)


class JournalWriter:
    """Records one run. Not thread-safe; used from one event loop (`keep_manifest` does its
    file work in a worker thread and touches no shared state there)."""

    def __init__(self, journal: Journal, entry: JournalEntry) -> None:
        self._journal = journal
        self.entry = entry
        self.id = entry.id
        self._trash = journal.trash_dir / entry.id
        self._events_path = journal.journal_dir / f"{entry.id}.events"
        self._saved: set[str] = set()
        self._saving: dict[str, asyncio.Future[None]] = {}
        try:
            self._trash.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(
                self._events_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
            )
        except OSError as exc:
            raise JournalError(
                f"could not open the journal in {journal.journal_dir}: {exc}"
            ) from exc
        if not hold(self._fd):
            os.close(self._fd)
            self._fd = None
            raise JournalBusy(
                f"deletion {entry.id} is running right now (in this or another regview "
                "process); let it finish, or stop it, first"
            )

    def _event(self, **fields: Any) -> None:
        if self._fd is None:
            raise JournalError(f"journal {self.id} is closed")
        line = json.dumps(fields, separators=(",", ":")) + "\n"
        try:
            os.write(self._fd, line.encode())  # O_APPEND: one write, one line
        except OSError as exc:
            raise JournalError(f"could not write the journal {self._events_path}: {exc}") from exc

    def has_manifest(self, digest: str) -> bool:
        return digest in self._saved or (self._trash / trash_name(digest)).exists()

    def save_manifest(self, digest: str, media_type: str, data: bytes) -> None:
        """Keep the exact bytes (and their media type) before the manifest goes: both files
        are fsynced and renamed into place before this returns."""
        if digest in self._saved:
            return
        path = self._trash / trash_name(digest)
        if not path.exists():
            # The type first: a manifest file present means its type is there too.
            atomic_write(path.with_suffix(".type"), media_type.encode())
            atomic_write(path, data)
        self._saved.add(digest)

    async def keep_manifest(self, digest: str, media_type: str, data: bytes) -> None:
        """`save_manifest` without blocking the event loop: the writes and fsyncs run in a
        worker thread, so items in flight overlap their disk waits (the file system groups
        their journal commits). Returns once the bytes are durable, like `save_manifest`; a
        digest being saved already is awaited, not written twice."""
        if digest in self._saved:
            return
        pending = self._saving.get(digest)
        if pending is not None:
            await asyncio.shield(pending)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._saving[digest] = fut
        try:
            path = self._trash / trash_name(digest)
            await asyncio.to_thread(save_pair, path, media_type.encode(), data)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved here; waiters get it from the shield
            raise
        else:
            fut.set_result(None)
            self._saved.add(digest)
        finally:
            del self._saving[digest]

    def started(self, key: str) -> None:
        item = self.entry.items[key]
        item.state, item.saved = ItemState.STARTED, self.has_manifest(item.digest)
        item.sent = True
        self._event(k=key, s=ItemState.STARTED, saved=item.saved)

    def outcome(
        self, key: str, state: str, reason: str = "", status: str = "", evidence: str = ""
    ) -> None:
        item = self.entry.items[key]
        item.state, item.reason = state, reason
        item.status, item.evidence = status, evidence
        fields: dict[str, Any] = {"k": key, "s": state, "r": reason}
        if status:
            fields["st"], fields["e"] = status, evidence
        self._event(**fields)

    def resumed(self) -> None:
        """Mark the entry running again (a resume appends to the same entry)."""
        self._event(resume=datetime.now(UTC).isoformat())
        self.entry.status, self.entry.finished = "running", None

    def close(self, status: str) -> None:
        if self._fd is None:
            return
        self._event(end=status, t=datetime.now(UTC).isoformat())
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        self.entry.status = status
