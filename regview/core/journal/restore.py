"""Restoring a journal entry: re-push the saved manifests (index children and subjects
first), then the tags, once HEAD shows every blob they reference is still there.

A port with a management API that keeps deleted images (`vendor_restore`: GitHub's 30-day
package-version restore, Quay's time machine) is asked first for a manifest that is gone: it
brings back the very version, blobs and all, where the local copy needs the blobs still there."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from regview.core.journal.types import ItemState
from regview.spec.errors import SpecError
from regview.spec.manifest import ImageIndex, parse_manifest

if TYPE_CHECKING:
    from regview.core.journal.journal import Journal


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
    by_vendor: set[str] = set()

    async def ensure(digest: str, trail: frozenset[str] = frozenset()) -> str:
        if digest in pushed:
            return pushed[digest]
        if digest in trail:
            return "reference cycle"
        if await _vendor_restored(port, entry.repository, digest):
            by_vendor.add(digest)
            pushed[digest] = ""
            return ""
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
            how = (
                "restored by the registry's own restore" if item.digest in by_vendor else "restored"
            )
            results.append(RestoreResult(item.digest, not problem, problem or how))
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
        how = "restored by the registry's own restore" if item.digest in by_vendor else "restored"
        if current is None and item.digest in by_vendor:
            # the vendor's restore is per tag (Quay's time machine): it may have put this one back
            current = await port.resolve_tag(entry.repository, item.name)
        if current is None:
            saved = journal.manifest(entry.id, item.digest)
            if saved is None:
                results.append(
                    RestoreResult(item.name, False, f"manifest {item.digest} was not saved")
                )
                continue
            await port.push_manifest(entry.repository, item.name, saved[0], saved[1])
        results.append(RestoreResult(item.name, True, how))
        restored_keys.append(item.key)
    journal.mark_restored(entry.id, restored_keys)
    return results


async def _vendor_restored(port: RestorePort, repository: str, digest: str) -> bool:
    """True when the port's management API put `digest` back (only tried when it is gone)."""
    if getattr(port, "vendor", None) is None:
        return False
    vendor_restore = getattr(port, "vendor_restore", None)
    if vendor_restore is None or await port.manifest_exists(repository, digest):
        return False
    return bool(await vendor_restore(repository, digest) == "")
