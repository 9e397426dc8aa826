"""The executor's vocabulary: the `DeletePort` it reaches the registry through, and the
per-item results and the report it returns."""

from __future__ import annotations

import enum
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from regview.core.deletion.plan import DeletePlan
from regview.core.errors import ConnectionFailed, RegistryError
from regview.core.journal.types import JournalError
from regview.log import get_logger
from regview.spec import mediatypes as mt
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json

THROWAWAY_ANNOTATION = "io.github.regview.throwaway"


log = get_logger("core.executor")


class PortError(Exception):
    """A registry request failed. Adapters translate client errors into this; `unreachable`:
    no answer came at all (refused, reset, timeout), as the client's `ConnectionFailed`."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        temporary: bool = False,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.temporary = temporary
        self.retry_after = retry_after
        self.unreachable = unreachable


class RegistryStopped(PortError):
    """Not sent: the run stopped sending after the registry stopped answering."""


def is_unreachable(exc: BaseException) -> bool:
    """No answer at all — connection refused, reset, timed out: the registry (or the way to it)
    is down, which is no verdict on the item. A certificate or address problem is not this."""
    if isinstance(exc, RegistryStopped):
        return False
    if isinstance(exc, PortError):
        return exc.unreachable
    if isinstance(exc, ConnectionFailed):
        return exc.temporary
    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError)


@dataclass(frozen=True, slots=True)
class FetchedManifest:
    digest: str
    media_type: str
    data: bytes


class DeletePort(Protocol):
    """What the executor (and restore) need from a registry."""

    async def resolve_tag(self, repository: str, tag: str) -> str | None: ...

    async def manifest_exists(self, repository: str, digest: str) -> bool: ...

    async def fetch_manifest(self, repository: str, reference: str) -> FetchedManifest: ...

    async def push_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str: ...

    async def delete_manifest(self, repository: str, reference: str) -> None: ...

    async def blob_exists(self, repository: str, digest: str) -> bool: ...

    async def gitlab_delete_tag(self, project_id: int, repository_id: int, tag: str) -> None: ...


class Outcome(enum.StrEnum):
    DELETED = "deleted"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_STARTED = "not-started"


class Status(enum.StrEnum):
    """What the registry really holds for an item once the run settled it. `Outcome` says what
    the run did; the status says what is true, and `ItemResult.evidence` how it is known."""

    DELETED = "deleted"  # the registry answered the deleting request with success
    DELETED_VERIFIED = "deleted-verified"  # no clean answer, but read back: gone
    ALREADY_GONE = "already-gone"  # gone before anything was sent (someone else?)
    NOT_DELETED = "not-deleted"  # unchanged: nothing sent, or read back at the planned digest
    PLACEHOLDER = "placeholder"  # read back: the tag points at regview's throw-away manifest
    CHANGED = "changed"  # points somewhere else than the plan says: left alone
    UNKNOWN = "unknown"  # sent, and the registry could not be read back
    NOT_STARTED = "not-started"  # cancelled or blocked before anything was sent

    @property
    def label(self) -> str:
        return _STATUS_LABEL[self]

    @property
    def gone(self) -> bool:
        """The item is verifiably not in the registry any more."""
        return self in (Status.DELETED, Status.DELETED_VERIFIED, Status.ALREADY_GONE)

    @property
    def done(self) -> bool:
        """Nothing is left to do for this item (a resume leaves it alone)."""
        return self.gone or self is Status.CHANGED


_STATUS_LABEL = {
    Status.DELETED: "deleted",
    Status.DELETED_VERIFIED: "deleted (reply lost; verified)",
    Status.ALREADY_GONE: "already gone",
    Status.NOT_DELETED: "not deleted",
    Status.PLACEHOLDER: "left on a placeholder",
    Status.CHANGED: "changed since the plan (left alone)",
    Status.UNKNOWN: "unknown (could not read it back)",
    Status.NOT_STARTED: "not started",
}

_DEFAULT_STATUS = {
    Outcome.DELETED: Status.DELETED,
    Outcome.FAILED: Status.UNKNOWN,  # a failure nobody read back: say we do not know
    Outcome.SKIPPED: Status.NOT_DELETED,
    Outcome.NOT_STARTED: Status.NOT_STARTED,
}


@dataclass(frozen=True, slots=True)
class ItemResult:
    kind: str  # "tag" | "manifest"
    name: str  # tag name, or digest
    digest: str
    outcome: Outcome
    reason: str
    method: str = ""
    status: Status | None = None  # None: what the outcome implies (see `_DEFAULT_STATUS`)
    evidence: str = ""  # what was sent and read back to know the status
    earlier: bool = False  # settled by the run a resume finishes (no request in this one)

    @property
    def verdict(self) -> Status:
        return self.status if self.status is not None else _DEFAULT_STATUS[self.outcome]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "digest": self.digest,
            "outcome": str(self.outcome),
            "status": str(self.verdict),
            "label": self.verdict.label,
            "gone": self.verdict.gone,
            "reason": self.reason,
            "evidence": self.evidence,
            "method": self.method,
            "earlier": self.earlier,
        }


@dataclass(slots=True)
class ExecutionReport:
    plan: DeletePlan
    results: list[ItemResult] = field(default_factory=list)
    cancelled: bool = False
    journal_id: str = ""
    refusal: str = ""
    resumed: str = ""  # the journal entry this run finished, when it is a resume
    stopped: str = ""  # why the run stopped sending (the registry stopped answering), or ""

    def _of(self, outcome: Outcome, kind: str | None = None) -> list[ItemResult]:
        return [r for r in self.results if r.outcome is outcome and kind in (None, r.kind)]

    @property
    def deleted(self) -> list[ItemResult]:
        return self._of(Outcome.DELETED)

    @property
    def failed(self) -> list[ItemResult]:
        return self._of(Outcome.FAILED)

    @property
    def skipped(self) -> list[ItemResult]:
        return self._of(Outcome.SKIPPED)

    @property
    def not_started(self) -> list[ItemResult]:
        return self._of(Outcome.NOT_STARTED)

    @property
    def ok(self) -> bool:
        return not self.refusal and not self.failed and not self.not_started

    @property
    def all_gone(self) -> bool:
        """Every tag of the plan is verifiably gone (what `rm --json` exits 0 on)."""
        return not self.refusal and all(r.verdict.gone for r in self.results if r.kind == "tag")

    def totals(self) -> dict[str, int]:
        """Tags per status, plus `asked` and `gone` (the run report's totals)."""
        tags = [r for r in self.results if r.kind == "tag"]
        out = {str(s).replace("-", "_"): 0 for s in Status}
        for r in tags:
            out[str(r.verdict).replace("-", "_")] += 1
        out["asked"] = len(tags)
        out["gone"] = sum(1 for r in tags if r.verdict.gone)
        return out

    def to_json(self) -> dict[str, Any]:
        """The shape of `regview rm --json`: the old lists (`deleted`, `failed`, `skipped`) plus
        every tag with its status and evidence, and the totals."""

        def names(outcome: Outcome) -> list[str]:
            return [r.name for r in self._of(outcome, "tag")]

        return {
            "deleted": names(Outcome.DELETED),
            "failed": [
                {
                    "tag": r.name,
                    "error": r.reason,
                    "status": str(r.verdict),
                    "evidence": r.evidence,
                }
                for r in self.results
                if r.outcome in (Outcome.FAILED, Outcome.NOT_STARTED) and r.kind == "tag"
            ],
            "skipped": [
                {"tag": r.name, "reason": r.reason, "status": str(r.verdict)}
                for r in self._of(Outcome.SKIPPED, "tag")
            ],
            "tags": [r.to_json() for r in self.results if r.kind == "tag"],
            "manifests": [r.to_json() for r in self.results if r.kind == "manifest"],
            "totals": self.totals(),
            "verified": self.all_gone,
            "refused": self.refusal,
            "cancelled": self.cancelled,
            "stopped": self.stopped,
            "journal": self.journal_id,
            "resumed": self.resumed,
        }


def throwaway_manifest() -> bytes:
    """A unique empty OCI index: references no blob, so any registry accepts it anywhere."""
    body = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [],
        "annotations": {THROWAWAY_ANNOTATION: secrets.token_hex(16)},
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def is_throwaway(data: bytes) -> bool:
    try:
        body = parse_json(data, what="manifest")
    except SpecError:  # not JSON, or nested absurdly deep: not one of ours
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("annotations"), dict)
        and THROWAWAY_ANNOTATION in body["annotations"]
        and not body.get("manifests")
    )


def is_not_found(exc: BaseException) -> bool:
    return getattr(exc, "status", 0) == 404 or type(exc).__name__ == "NotFound"


#: What the environment does to a deletion (registry answers, network, disk, the journal,
#: malformed content): reported per item in words. Anything else is a bug in regview.
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (
    RegistryError,
    JournalError,
    PortError,
    SpecError,
    OSError,
    httpx.HTTPError,
)


def error_message(exc: BaseException) -> str:
    """The words an item's failure is reported with. A bug (an exception none of
    EXPECTED_FAILURES) still fails only its item, but says it is one and is logged with its
    traceback: "no running event loop" alone told nobody what happened, or where to look."""
    text = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    if isinstance(exc, EXPECTED_FAILURES):
        return text
    log.error("deleting an item hit a bug", exc_info=exc)
    return f"regview hit a bug ({type(exc).__name__}: {text}); the log file has the details"


ResultCallback = Callable[[ItemResult], None]
Sleep = Callable[[float], Awaitable[None]]
