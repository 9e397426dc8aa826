"""Journal and recycle bin of deletions.

One entry per executed plan:

    <journal_dir>/<id>.json        the plan and its items, written once, atomically
    <journal_dir>/<id>.events      one JSON line per item step, appended as the run proceeds
    <trash_dir>/<id>/<alg>-<hex>   the exact manifest bytes, saved before anything is deleted

Progress is an append-only log rather than a rewritten file so that a 10,000-tag run costs one
small write per step; a process killed mid-run leaves every completed step on disk (a torn last
line is ignored), and an item marked `started` without an outcome is reported as "unknown:
check the registry". `pending()` lists runs that never finished, for the app to report or resume.

`restore()` re-pushes saved manifests — index children and subjects first — and then the tags,
after checking with HEAD that every blob they reference still exists. Entries expire after
`retention` (30 days by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from regview.paths import Paths, default_paths
from regview.spec.errors import SpecError
from regview.spec.manifest import ImageIndex, parse_manifest

DEFAULT_RETENTION = timedelta(days=30)
FORMAT_VERSION = 1


class JournalError(Exception):
    """The journal or recycle bin cannot be read or written (disk full, permissions, damage)."""


class ItemState:
    PLANNED = "planned"
    STARTED = "started"  # bytes saved, deletion sent: outcome unknown if the run stops here
    DELETED = "deleted"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_STARTED = "not-started"
    RESTORED = "restored"


@dataclass(slots=True)
class JournalItem:
    key: str  # "tag:<name>" or "manifest:<digest>"
    kind: str  # "tag" | "manifest"
    name: str  # tag name, or digest for manifests
    digest: str
    media_type: str
    method: str = ""
    state: str = ItemState.PLANNED
    reason: str = ""
    saved: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "name": self.name,
            "digest": self.digest,
            "media_type": self.media_type,
            "method": self.method,
            "state": self.state,
            "reason": self.reason,
            "saved": self.saved,
        }


@dataclass(slots=True)
class JournalEntry:
    id: str
    registry: str
    repository: str
    created: datetime
    status: str  # running | finished | cancelled | refused
    items: dict[str, JournalItem] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    finished: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.status == "running"

    def deleted_tags(self) -> list[JournalItem]:
        return [
            i
            for i in self.items.values()
            if i.kind == "tag" and i.state in (ItemState.DELETED, ItemState.STARTED)
        ]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in self.items.values():
            out[i.state] = out.get(i.state, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "registry": self.registry,
            "repository": self.repository,
            "created": self.created.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "status": self.status,
            "counts": self.counts(),
            "items": [i.to_json() for i in self.items.values()],
        }


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. the folder itself is gone or not a folder
            tmp.unlink(missing_ok=True)
        raise JournalError(f"could not write {path}: {exc.strerror or exc}") from exc


def _blob_name(digest: str) -> str:
    return digest.replace(":", "-")


def _save_pair(path: Path, media_type: bytes, data: bytes) -> None:
    if not path.exists():
        _atomic_write(path.with_suffix(".type"), media_type)
        _atomic_write(path, data)


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

    def _event(self, **fields: Any) -> None:
        if self._fd is None:
            raise JournalError(f"journal {self.id} is closed")
        line = json.dumps(fields, separators=(",", ":")) + "\n"
        try:
            os.write(self._fd, line.encode())  # O_APPEND: one write, one line
        except OSError as exc:
            raise JournalError(f"could not write the journal {self._events_path}: {exc}") from exc

    def has_manifest(self, digest: str) -> bool:
        return digest in self._saved or (self._trash / _blob_name(digest)).exists()

    def save_manifest(self, digest: str, media_type: str, data: bytes) -> None:
        """Keep the exact bytes (and their media type) before the manifest goes: both files
        are fsynced and renamed into place before this returns."""
        if digest in self._saved:
            return
        path = self._trash / _blob_name(digest)
        if not path.exists():
            # The type first: a manifest file present means its type is there too.
            _atomic_write(path.with_suffix(".type"), media_type.encode())
            _atomic_write(path, data)
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
            path = self._trash / _blob_name(digest)
            await asyncio.to_thread(_save_pair, path, media_type.encode(), data)
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
        self._event(k=key, s=ItemState.STARTED, saved=item.saved)

    def outcome(self, key: str, state: str, reason: str = "") -> None:
        item = self.entry.items[key]
        item.state, item.reason = state, reason
        self._event(k=key, s=state, r=reason)

    def close(self, status: str) -> None:
        if self._fd is None:
            return
        self._event(end=status, t=datetime.now(UTC).isoformat())
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        self.entry.status = status


class Journal:
    def __init__(self, paths: Paths | None = None, *, retention: timedelta = DEFAULT_RETENTION):
        p = paths or default_paths()
        self.journal_dir = p.journal_dir
        self.trash_dir = p.trash_dir
        self.retention = retention

    # -- writing ---------------------------------------------------------------------------
    def begin(
        self,
        registry: str,
        repository: str,
        items: Iterable[JournalItem],
        plan: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> JournalWriter:
        created = now or datetime.now(UTC)
        entry_id = created.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        entry = JournalEntry(
            id=entry_id,
            registry=registry,
            repository=repository,
            created=created,
            status="running",
            items={i.key: i for i in items},
            plan=plan or {},
        )
        try:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"could not create {self.journal_dir}: {exc}") from exc
        head = {
            "version": FORMAT_VERSION,
            "id": entry_id,
            "registry": registry,
            "repository": repository,
            "created": created.isoformat(),
            "items": [i.to_json() for i in entry.items.values()],
            "plan": entry.plan,
        }
        _atomic_write(self.journal_dir / f"{entry_id}.json", json.dumps(head).encode())
        return JournalWriter(self, entry)

    # -- reading ---------------------------------------------------------------------------
    def ids(self) -> list[str]:
        if not self.journal_dir.is_dir():
            return []
        return sorted(p.stem for p in self.journal_dir.glob("*.json"))

    def load(self, entry_id: str) -> JournalEntry:
        matches = [i for i in self.ids() if i == entry_id or i.startswith(entry_id)]
        if len(matches) != 1:
            what = "no" if not matches else "more than one"
            raise JournalError(f"{what} recycle-bin entry matches {entry_id!r}")
        entry_id = matches[0]
        try:
            head = json.loads((self.journal_dir / f"{entry_id}.json").read_bytes())
        except (OSError, ValueError) as exc:
            raise JournalError(f"recycle-bin entry {entry_id} is unreadable: {exc}") from exc
        if head.get("version") != FORMAT_VERSION:
            raise JournalError(f"recycle-bin entry {entry_id} has an unknown format")
        items = {
            d["key"]: JournalItem(
                key=d["key"],
                kind=d["kind"],
                name=d["name"],
                digest=d["digest"],
                media_type=d["media_type"],
                method=d.get("method", ""),
                state=d.get("state", ItemState.PLANNED),
                reason=d.get("reason", ""),
                saved=bool(d.get("saved")),
            )
            for d in head["items"]
        }
        entry = JournalEntry(
            id=entry_id,
            registry=head["registry"],
            repository=head["repository"],
            created=datetime.fromisoformat(head["created"]),
            status="running",
            items=items,
            plan=head.get("plan", {}),
        )
        for event in self._events(entry_id):
            if "end" in event:
                entry.status = str(event["end"])
                entry.finished = datetime.fromisoformat(event["t"])
                continue
            item = items.get(str(event.get("k")))
            if item is None:
                continue
            item.state = str(event.get("s", item.state))
            if "r" in event:
                item.reason = str(event["r"])
            if event.get("saved"):
                item.saved = True
        if entry.status == "running":
            for item in items.values():
                if item.state == ItemState.STARTED and not item.reason:
                    item.reason = "interrupted: the deletion may or may not have happened"
        return entry

    def _events(self, entry_id: str) -> Iterator[dict[str, Any]]:
        path = self.journal_dir / f"{entry_id}.events"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # torn last line of a killed process
            if isinstance(event, dict):
                yield event

    def entries(self) -> list[JournalEntry]:
        out = []
        for entry_id in self.ids():
            try:
                out.append(self.load(entry_id))
            except JournalError:
                continue
        return out

    def pending(self) -> list[JournalEntry]:
        """Runs that never finished (the process was killed or crashed)."""
        return [e for e in self.entries() if e.is_pending]

    def manifest(self, entry_id: str, digest: str) -> tuple[bytes, str] | None:
        path = self.trash_dir / entry_id / _blob_name(digest)
        try:
            data = path.read_bytes()
            media_type = path.with_suffix(".type").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return data, media_type

    def mark_restored(self, entry_id: str, keys: Iterable[str]) -> None:
        path = self.journal_dir / f"{entry_id}.events"
        with path.open("a", encoding="utf-8") as f:
            for key in keys:
                f.write(json.dumps({"k": key, "s": ItemState.RESTORED, "r": "restored"}) + "\n")

    def expire(self, now: datetime | None = None) -> list[str]:
        """Forget entries older than the retention period (running ones are kept)."""
        limit = (now or datetime.now(UTC)) - self.retention
        gone = []
        for entry in self.entries():
            if entry.is_pending or entry.created >= limit:
                continue
            shutil.rmtree(self.trash_dir / entry.id, ignore_errors=True)
            for suffix in (".json", ".events"):
                (self.journal_dir / f"{entry.id}{suffix}").unlink(missing_ok=True)
            gone.append(entry.id)
        return gone


# -- restore ---------------------------------------------------------------------------------


class RestorePort(Protocol):
    async def resolve_tag(self, repository: str, tag: str) -> str | None: ...

    async def manifest_exists(self, repository: str, digest: str) -> bool: ...

    async def push_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str: ...

    async def blob_exists(self, repository: str, digest: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class RestoreResult:
    name: str  # tag, or digest for untagged manifests
    restored: bool
    reason: str


def _references(data: bytes, media_type: str) -> tuple[list[str], list[str], str]:
    """(child manifest digests, blob digests, subject) of saved manifest bytes."""
    m = parse_manifest(data, media_type)
    subject = str(m.subject.digest) if m.subject is not None else ""
    if isinstance(m, ImageIndex):
        return [str(d.digest) for d in m.manifests], [], subject
    return [], [str(d.digest) for d in m.blobs], subject


async def restore(
    journal: Journal,
    entry_id: str,
    port: RestorePort,
    *,
    tags: Iterable[str] | None = None,
) -> list[RestoreResult]:
    """Put back what an entry deleted while the registry still holds the blobs.

    A tag that meanwhile points somewhere else is left alone (and said so); a manifest whose
    blobs were garbage-collected cannot come back, and the result names the missing blob.
    """
    entry = journal.load(entry_id)
    wanted = set(tags) if tags is not None else None
    gone = [
        i
        for i in entry.items.values()
        if i.state in (ItemState.DELETED, ItemState.STARTED)
        and (wanted is None or (i.kind == "tag" and i.name in wanted))
    ]
    results: list[RestoreResult] = []
    pushed: dict[str, str] = {}  # digest → "" ok / reason it cannot be restored
    restored_keys: list[str] = []

    async def ensure(digest: str, trail: frozenset[str] = frozenset()) -> str:
        if digest in pushed:
            return pushed[digest]
        if digest in trail:
            return "reference cycle"
        saved = journal.manifest(entry.id, digest)
        if saved is None:
            if await port.manifest_exists(entry.repository, digest):
                pushed[digest] = ""
                return ""
            pushed[digest] = f"manifest {digest} was not saved and is no longer in the registry"
            return pushed[digest]
        data, media_type = saved
        try:
            children, blobs, _subject = _references(data, media_type)
        except SpecError as exc:
            pushed[digest] = f"the saved manifest {digest} cannot be read: {exc}"
            return pushed[digest]
        for child in children:
            problem = await ensure(child, trail | {digest})
            if problem:
                pushed[digest] = f"index child {child} cannot be restored: {problem}"
                return pushed[digest]
        for blob in blobs:
            if not await port.blob_exists(entry.repository, blob):
                pushed[digest] = (
                    f"blob {blob} is no longer in {entry.registry}/{entry.repository} "
                    "(garbage-collected since the deletion)"
                )
                return pushed[digest]
        if not await port.manifest_exists(entry.repository, digest):
            await port.push_manifest(entry.repository, digest, data, media_type)
        pushed[digest] = ""
        return ""

    # Untagged manifests (children, referrers) first, then the tags.
    for item in sorted(gone, key=lambda i: i.kind != "manifest"):
        if item.kind == "manifest":
            problem = await ensure(item.digest)
            results.append(RestoreResult(item.digest, not problem, problem or "restored"))
            if not problem:
                restored_keys.append(item.key)
            continue
        current = await port.resolve_tag(entry.repository, item.name)
        if current is not None and current != item.digest:
            results.append(
                RestoreResult(
                    item.name,
                    False,
                    f"tag {item.name} now points at {current}; not overwritten",
                )
            )
            continue
        problem = await ensure(item.digest)
        if problem:
            results.append(RestoreResult(item.name, False, problem))
            continue
        if current is None:
            saved = journal.manifest(entry.id, item.digest)
            if saved is None:
                results.append(
                    RestoreResult(item.name, False, f"manifest {item.digest} was not saved")
                )
                continue
            await port.push_manifest(entry.repository, item.name, saved[0], saved[1])
        results.append(RestoreResult(item.name, True, "restored"))
        restored_keys.append(item.key)
    journal.mark_restored(entry.id, restored_keys)
    return results
