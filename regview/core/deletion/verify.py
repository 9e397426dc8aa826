"""Reading back what the registry holds after a deleting request had no clean answer.

A request that was retried until it gave up, or whose reply was lost, tells nothing certain: a
503 from a proxy means it never arrived, a dropped connection may come after the registry acted.
Before such an item is reported, the tag (or manifest) is read again — HEAD, then GET when the
HEAD says nothing usable — and the report says what that reading showed.

    await read_tag(port, repository, tag, planned_digest, attempt) -> Reading
    await read_manifest(port, repository, digest, attempt) -> Reading

`attempt` is the run's retry wrapper (temporary failures are retried like any other request);
a reading that still fails is `UNREADABLE`, and the item's status is then "unknown", never a
guess.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from regview.core.deletion.executor_types import (
    DeletePort,
    error_message,
    is_not_found,
    is_throwaway,
)

_T = TypeVar("_T")


class Attempt(Protocol):
    """The run's retry wrapper (`PlanRun.attempt`)."""

    def __call__(self, what: Callable[[], Awaitable[_T]]) -> Awaitable[_T]: ...


class Seen(enum.StrEnum):
    GONE = "gone"
    PLANNED = "planned"  # still at the digest the plan was made for
    PLACEHOLDER = "placeholder"  # regview's throw-away manifest
    OTHER = "other"  # some other manifest (someone re-pushed the tag)
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Reading:
    seen: Seen
    digest: str  # what the tag points at now ("" when gone or unreadable)
    evidence: str


async def read_tag(
    port: DeletePort, repository: str, tag: str, planned: str, attempt: Attempt
) -> Reading:
    """What `tag` points at now, compared with the digest of the plan."""
    head_note = ""
    try:
        digest = await attempt(lambda: port.resolve_tag(repository, tag))
    except Exception as exc:  # a HEAD the registry refuses (405, odd proxy): GET decides
        digest = None
        head_note = f"HEAD {tag} failed ({error_message(exc)}); "
        if is_not_found(exc):
            return Reading(Seen.GONE, "", f"HEAD {tag} → 404: the tag is gone")
    else:
        if digest is None:
            return Reading(Seen.GONE, "", f"HEAD {tag} → 404: the tag is gone")
        if digest == planned:
            return Reading(Seen.PLANNED, digest, f"HEAD {tag} → {digest}, the planned digest")
    # a different digest (is it our placeholder?) or no answer from HEAD: GET the bytes
    try:
        got = await attempt(lambda: port.fetch_manifest(repository, tag))
    except Exception as exc:
        if is_not_found(exc):
            return Reading(Seen.GONE, "", f"{head_note}GET {tag} → 404: the tag is gone")
        return Reading(
            Seen.UNREADABLE, "", f"{head_note}GET {tag} failed too ({error_message(exc)})"
        )
    d = got.digest
    if d == planned:
        return Reading(Seen.PLANNED, d, f"{head_note}GET {tag} → {d}, the planned digest")
    if is_throwaway(got.data):
        return Reading(
            Seen.PLACEHOLDER, d, f"{head_note}GET {tag} → {d}, a regview throw-away placeholder"
        )
    return Reading(Seen.OTHER, d, f"{head_note}GET {tag} → {d}, not the planned {planned}")


async def read_manifest(
    port: DeletePort, repository: str, digest: str, attempt: Attempt
) -> Reading:
    """Whether the manifest `digest` is still in the repository."""
    try:
        there = await attempt(lambda: port.manifest_exists(repository, digest))
    except Exception as exc:
        if is_not_found(exc):
            return Reading(Seen.GONE, "", f"HEAD {digest} → 404: the manifest is gone")
        return Reading(Seen.UNREADABLE, "", f"HEAD {digest} failed ({error_message(exc)})")
    if there:
        return Reading(Seen.PLANNED, digest, f"HEAD {digest} → 200: the manifest is still there")
    return Reading(Seen.GONE, "", f"HEAD {digest} → 404: the manifest is gone")
