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
