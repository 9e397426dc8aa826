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

This module holds `Journal` (start an entry, read, list, expire); the records are in
`journal.types`, the writer of a running entry in `journal.writer`, restore in
`journal.restore`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from regview.core.journal.restore import RestorePort, RestoreResult, restore
from regview.core.journal.types import (
    DEFAULT_RETENTION,
    FORMAT_VERSION,
    ItemState,
    JournalBusy,
    JournalEntry,
    JournalError,
    JournalItem,
)
from regview.core.journal.writer import JournalWriter, atomic_write, hold, trash_name
from regview.paths import Paths, default_paths

__all__ = [
    "DEFAULT_RETENTION",
    "FORMAT_VERSION",
    "ItemState",
    "Journal",
    "JournalBusy",
    "JournalEntry",
    "JournalError",
    "JournalItem",
    "JournalWriter",
    "RestorePort",
    "RestoreResult",
    "restore",
]


class Journal:
    """The journal and recycle-bin folders: start an entry, read entries back, list the runs
    that never finished, expire old ones."""

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
        atomic_write(self.journal_dir / f"{entry_id}.json", json.dumps(head).encode())
        return JournalWriter(self, entry)

    def reopen(self, entry_id: str) -> JournalWriter:
        """Append to an existing entry: a resume records its steps where the run it finishes
        recorded its own, so the entry (and the recycle bin's manifests) stay one."""
        entry = self.load(entry_id)
        writer = JournalWriter(self, entry)
        writer.resumed()
        return writer

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
                status=str(d.get("status", "")),
                evidence=str(d.get("evidence", "")),
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
            if "resume" in event:  # a resume reopened the entry; its own "end" follows
                entry.status, entry.finished = "running", None
                continue
            item = items.get(str(event.get("k")))
            if item is None:
                continue
            item.state = str(event.get("s", item.state))
            if item.state == ItemState.STARTED:  # a new attempt: what an earlier one said is moot
                item.sent = True
                item.reason, item.status, item.evidence = "", "", ""
            if "r" in event:
                item.reason = str(event["r"])
            if "st" in event:
                item.status, item.evidence = str(event["st"]), str(event.get("e", ""))
            elif "s" in event and item.state != ItemState.STARTED:
                item.status, item.evidence = "", ""
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
        """Runs that never finished (the process was killed or crashed); a run going on right
        now is not one of them."""
        return [e for e in self.entries() if e.is_pending and not self.busy(e.id)]

    def busy(self, entry_id: str) -> bool:
        """The entry's run is going on right now (its writer holds the event log's lock)."""
        path = self.journal_dir / f"{entry_id}.events"
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return False
        try:
            return not hold(fd)
        finally:
            os.close(fd)  # closing drops the lock taken to probe

    def manifest(self, entry_id: str, digest: str) -> tuple[bytes, str] | None:
        path = self.trash_dir / entry_id / trash_name(digest)
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
