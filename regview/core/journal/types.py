"""The journal's records: an entry per executed plan, its items and their states, and the
error every journal operation raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DEFAULT_RETENTION = timedelta(days=30)
FORMAT_VERSION = 1


class JournalError(Exception):
    """The journal or recycle bin cannot be read or written (disk full, permissions, damage)."""


class JournalBusy(JournalError):
    """The entry's run is going on right now (this or another regview process holds it)."""


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
    #: the executor's verdict (`deletion.executor_types.Status`) and how it was known; "" before one
    status: str = ""
    evidence: str = ""
    #: a deleting request was sent for it at some point (a `started` event was written)
    sent: bool = False

    @property
    def is_done(self) -> bool:
        """Nothing left to do for it: deleted (however verified), gone, left alone because it
        changed, or restored since (a resume must not delete that again)."""
        if self.state in (ItemState.DELETED, ItemState.RESTORED):
            return True
        if self.status:
            return self.status in DONE_STATUSES
        return self.state == ItemState.SKIPPED and self.kind == "tag"

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
            "status": self.status,
            "evidence": self.evidence,
        }


#: `deletion.executor_types.Status` values after which an item needs nothing more (spelled out here:
#: the journal sits below the executor)
DONE_STATUSES = frozenset({"deleted", "deleted-verified", "already-gone", "changed"})


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

    def unfinished(self) -> list[JournalItem]:
        """Items a resume would still act on."""
        return [i for i in self.items.values() if not i.is_done]

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
            "unfinished": len(self.unfinished()),
            "items": [i.to_json() for i in self.items.values()],
        }
