"""The executor's vocabulary: the `DeletePort` it reaches the registry through, and the
per-item results and the report it returns."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from regview.core.plan import DeletePlan

THROWAWAY_ANNOTATION = "io.github.regview.throwaway"


class PortError(Exception):
    """A registry request failed. Adapters translate client errors into this."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        temporary: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.temporary = temporary
        self.retry_after = retry_after


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


@dataclass(frozen=True, slots=True)
class ItemResult:
    kind: str  # "tag" | "manifest"
    name: str  # tag name, or digest
    digest: str
    outcome: Outcome
    reason: str
    method: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "digest": self.digest,
            "outcome": str(self.outcome),
            "reason": self.reason,
            "method": self.method,
        }


@dataclass(slots=True)
class ExecutionReport:
    plan: DeletePlan
    results: list[ItemResult] = field(default_factory=list)
    cancelled: bool = False
    journal_id: str = ""
    refusal: str = ""

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

    def to_json(self) -> dict[str, Any]:
        """The shape of `regview rm --json`."""

        def names(outcome: Outcome) -> list[str]:
            return [r.name for r in self._of(outcome, "tag")]

        return {
            "deleted": names(Outcome.DELETED),
            "failed": [
                {"tag": r.name, "error": r.reason}
                for r in self.results
                if r.outcome in (Outcome.FAILED, Outcome.NOT_STARTED) and r.kind == "tag"
            ],
            "skipped": [
                {"tag": r.name, "reason": r.reason} for r in self._of(Outcome.SKIPPED, "tag")
            ],
            "manifests": [r.to_json() for r in self.results if r.kind == "manifest"],
            "refused": self.refusal,
            "cancelled": self.cancelled,
            "journal": self.journal_id,
        }


def is_not_found(exc: BaseException) -> bool:
    return getattr(exc, "status", 0) == 404 or type(exc).__name__ == "NotFound"


def error_message(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc) or type(exc).__name__


ResultCallback = Callable[[ItemResult], None]
Sleep = Callable[[float], Awaitable[None]]
