"""One run of one plan: the per-item operations (re-check a tag, keep its bytes, delete by
tag, throw-away manifest or digest, then the manifests), with retries, the semaphore and the
journal entries (`Executor` in `executor` starts and ends the run)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from regview.core.executor_types import (
    THROWAWAY_ANNOTATION,
    ExecutionReport,
    FetchedManifest,
    ItemResult,
    Outcome,
    error_message,
    is_not_found,
)
from regview.core.journal import ItemState, JournalWriter
from regview.core.plan import DeletePlan, ManifestAction, ManifestRole, Method, TagAction
from regview.spec import mediatypes as mt
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json

if TYPE_CHECKING:
    from regview.core.executor import Executor

_T = TypeVar("_T")

#: Reason notes for an item counted as deleted without a "deleted" answer (see `delete_ref`).
LOST_REPLY = "the registry's reply was lost; a second request found it already gone"
ALREADY_GONE = "it was already gone when the delete was sent (removed by someone else?)"


def with_note(reason: str, note: str) -> str:
    return f"{reason} — {note}" if note else reason


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


class PlanRun:
    """The state of one `Executor.run`: what was fetched, what each item came to."""

    def __init__(
        self, ex: Executor, plan: DeletePlan, writer: JournalWriter, report: ExecutionReport
    ) -> None:
        self.ex = ex
        self.port = ex._port
        self.plan = plan
        self.repo = plan.repository
        self.writer = writer
        self.report = report
        self.sem = asyncio.Semaphore(ex._concurrency)
        self.throwaway_lock = asyncio.Lock()
        self.fetches: dict[str, asyncio.Future[FetchedManifest]] = {}
        self.tag_outcome: dict[str, Outcome] = {}
        self.manifest_outcome: dict[str, Outcome] = {}

    def emit(self, result: ItemResult) -> None:
        self.report.results.append(result)
        key = f"{result.kind}:{result.name}"
        state = {
            Outcome.DELETED: ItemState.DELETED,
            Outcome.FAILED: ItemState.FAILED,
            Outcome.SKIPPED: ItemState.SKIPPED,
            Outcome.NOT_STARTED: ItemState.NOT_STARTED,
        }[result.outcome]
        self.writer.outcome(key, state, result.reason)
        if self.ex._on_result is not None:
            self.ex._on_result(result)

    async def attempt(self, what: Callable[[], Awaitable[_T]]) -> _T:
        """Retry temporary failures a few times, honouring Retry-After."""
        for n in range(self.ex._attempts):
            try:
                return await what()
            except Exception as exc:
                if not getattr(exc, "temporary", False) or n + 1 >= self.ex._attempts:
                    raise
                delay = getattr(exc, "retry_after", None)
                if delay is None:
                    delay = self.ex._backoff * (2**n)
                await self.ex._sleep(min(float(delay), 60.0))
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch(self, digest: str) -> FetchedManifest:
        """Fetch a manifest once per run, however many tags share it."""
        fut = self.fetches.get(digest)
        if fut is None:
            fut = asyncio.get_running_loop().create_future()
            self.fetches[digest] = fut
            try:
                got = await self.attempt(lambda: self.port.fetch_manifest(self.repo, digest))
            except BaseException as exc:
                del self.fetches[digest]
                fut.set_exception(exc)
                fut.exception()  # retrieved: the caller gets it via raise below
                raise
            fut.set_result(got)
            return got
        return await asyncio.shield(fut)

    # -- tags -----------------------------------------------------------------------------
    async def tags(self) -> None:
        digest_groups: dict[str, list[TagAction]] = {}
        singles: list[TagAction] = []
        for a in self.plan.tag_actions:
            if a.method is Method.DIGEST:
                digest_groups.setdefault(a.digest, []).append(a)
            else:
                singles.append(a)
        jobs = [self.guarded(self.one_tag, a) for a in singles]
        jobs += [self.guarded_group(g) for g in digest_groups.values()]
        await asyncio.gather(*jobs)

    async def guarded(self, fn: Callable[[TagAction], Awaitable[ItemResult]], a: TagAction) -> None:
        async with self.sem:
            if self.ex.cancelled:
                result = ItemResult(
                    "tag", a.tag, a.digest, Outcome.NOT_STARTED, "cancelled before it started"
                )
            else:
                try:
                    result = await fn(a)
                except Exception as exc:
                    result = ItemResult(
                        "tag", a.tag, a.digest, Outcome.FAILED, error_message(exc), str(a.method)
                    )
        self.tag_outcome[a.tag] = result.outcome
        self.emit(result)

    async def guarded_group(self, group: list[TagAction]) -> None:
        async with self.sem:
            if self.ex.cancelled:
                results = [
                    ItemResult("tag", a.tag, a.digest, Outcome.NOT_STARTED, "cancelled")
                    for a in group
                ]
            else:
                try:
                    results = await self.digest_group(group)
                except Exception as exc:
                    results = [
                        ItemResult(
                            "tag", a.tag, a.digest, Outcome.FAILED, error_message(exc), "digest"
                        )
                        for a in group
                    ]
        for a, r in zip(group, results, strict=True):
            self.tag_outcome[a.tag] = r.outcome
            self.emit(r)

    async def check(self, a: TagAction) -> tuple[FetchedManifest | None, str | None]:
        """Re-read the tag: (what it points at now, skip reason or None).

        One GET by tag with the full Accept list both re-verifies the digest (hashed from the
        bytes, so it does not depend on the registry sending Docker-Content-Digest) and gives
        the bytes the recycle bin keeps — no separate HEAD."""
        try:
            got = await self.attempt(lambda: self.port.fetch_manifest(self.repo, a.tag))
        except Exception as exc:
            if is_not_found(exc):
                return None, "the tag no longer exists (already deleted?)"
            raise
        if got.digest != a.digest:
            return got, f"changed since the plan: it now points at {got.digest}"
        if a.digest not in self.fetches:  # later tags on this digest need no fetch of their own
            fut: asyncio.Future[FetchedManifest] = asyncio.get_running_loop().create_future()
            fut.set_result(got)
            self.fetches[a.digest] = fut
        return got, None

    async def one_tag(self, a: TagAction) -> ItemResult:
        def res(outcome: Outcome, reason: str) -> ItemResult:
            return ItemResult("tag", a.tag, a.digest, outcome, reason, str(a.method))

        current, skip = await self.check(a)
        if (
            skip is not None
            and current is not None
            and a.method is Method.THROWAWAY
            and is_throwaway(current.data)
        ):
            # A previous run stopped between the push and the delete: finish it.
            self.writer.started(f"tag:{a.tag}")
            note = await self.delete_ref(current.digest)
            return res(
                Outcome.DELETED, with_note("finished an interrupted throw-away deletion", note)
            )
        if skip is not None:
            return res(Outcome.SKIPPED, skip)
        assert current is not None
        saved = current
        if a.method is Method.THROWAWAY and is_throwaway(saved.data):
            # A placeholder left by an earlier run: unique to this tag, nothing to keep.
            self.writer.started(f"tag:{a.tag}")
            note = await self.delete_ref(a.digest)
            return res(
                Outcome.DELETED, with_note("removed a placeholder left by an earlier run", note)
            )
        await self.writer.keep_manifest(a.digest, saved.media_type, saved.data)
        self.writer.started(f"tag:{a.tag}")
        note = ""
        if a.method is Method.TAG_DELETE:
            note = await self.delete_ref(a.tag)
        elif a.method is Method.GITLAB_API:
            pid, rid = self.plan.gitlab_project_id, self.plan.gitlab_repository_id
            if pid is None or rid is None:
                return res(Outcome.FAILED, "GitLab project of this repository is unknown")
            note = await self.delete_once(
                lambda: self.port.gitlab_delete_tag(pid, rid, a.tag), gone_at_first=False
            )
        elif a.method is Method.THROWAWAY:
            # One push+delete pair at a time: the CNCF registry 2.8 walks every tag's link on a
            # delete by digest, and a tag link being written concurrently makes that walk fail
            # after the manifest is already gone, leaving a dangling tag behind.
            async with self.throwaway_lock:
                data = throwaway_manifest()
                placeholder = await self.attempt(
                    lambda: self.port.push_manifest(self.repo, a.tag, data, mt.OCI_INDEX)
                )
                try:
                    note = await self.delete_ref(placeholder)
                except Exception as exc:
                    return res(
                        Outcome.FAILED,
                        f"the tag now points at a placeholder {placeholder} that could not be "
                        f"deleted ({error_message(exc)}); run the deletion again to finish",
                    )
        else:  # pragma: no cover - DIGEST goes through digest_group
            raise AssertionError(a.method)
        return res(Outcome.DELETED, with_note(a.method.description, note))

    async def delete_ref(self, reference: str) -> str:
        """Delete by tag or digest; "" when the registry confirmed it, else a note saying why
        it counts as deleted although no request was answered "deleted"."""
        return await self.delete_once(lambda: self.port.delete_manifest(self.repo, reference))

    async def delete_once(
        self, request: Callable[[], Awaitable[None]], *, gone_at_first: bool = True
    ) -> str:
        """Run a deleting request with retries; a 404 means gone already. After a failed
        attempt that most likely means the attempt went through and only its answer was lost;
        on the first attempt, someone else removed it (or, with `gone_at_first=False`, the 404
        is an error: GitLab's API also answers 404 for a project or repository it cannot see)."""
        tries = 0

        async def once() -> None:
            nonlocal tries
            tries += 1
            await request()

        try:
            await self.attempt(once)
        except Exception as exc:
            if not is_not_found(exc) or (tries == 1 and not gone_at_first):
                raise
            return LOST_REPLY if tries > 1 else ALREADY_GONE
        return ""

    async def digest_group(self, group: list[TagAction]) -> list[ItemResult]:
        """Tags that share a manifest nobody else uses: one delete by digest removes them all."""
        digest = group[0].digest
        checks = [await self.check(a) for a in group]
        if any(skip is not None for _cur, skip in checks):
            reasons = [skip or "" for _cur, skip in checks]
            return [
                ItemResult(
                    "tag",
                    a.tag,
                    digest,
                    Outcome.SKIPPED,
                    r or "another tag on the same manifest changed since the plan",
                    "digest",
                )
                for a, r in zip(group, reasons, strict=True)
            ]
        saved = await self.fetch(digest)
        await self.writer.keep_manifest(digest, saved.media_type, saved.data)
        for a in group:
            self.writer.started(f"tag:{a.tag}")
        note = await self.delete_ref(digest)
        self.manifest_outcome[digest] = Outcome.DELETED
        reason = with_note(Method.DIGEST.description, note)
        return [ItemResult("tag", a.tag, digest, Outcome.DELETED, reason, "digest") for a in group]

    # -- manifests ------------------------------------------------------------------------
    def blocked(self, a: ManifestAction) -> str:
        """Why a manifest must stay after how the tag phase went, or ""."""
        tags_on_it = [t for t in self.plan.tag_actions if t.digest == a.digest]
        for t in tags_on_it:
            if self.tag_outcome.get(t.tag) is not Outcome.DELETED:
                return f"its tag {t.tag} was not removed"
        if (
            a.parent
            and a.role in (ManifestRole.CHILD, ManifestRole.MANIFEST)
            and self.manifest_outcome.get(a.parent) is not Outcome.DELETED
        ):
            return f"the index {a.parent} that uses it was not deleted"
        if a.role is ManifestRole.REFERRER and a.parent:
            parent_tags = [t for t in self.plan.tag_actions if t.digest == a.parent]
            if any(self.tag_outcome.get(t.tag) is not Outcome.DELETED for t in parent_tags):
                return f"its subject {a.parent} is still tagged"
        return ""

    async def manifests(self) -> None:
        # Waves: an action waits for the action that deletes its parent (index or referrer's
        # subject order is already in the plan: referrers and parents come first).
        waves: list[list[ManifestAction]] = []
        level: dict[str, int] = {}
        for a in self.plan.manifest_actions:
            lv = 0
            if a.parent in level and a.role is ManifestRole.CHILD:
                lv = level[a.parent] + 1
            for r in self.plan.manifest_actions:
                if r.role is ManifestRole.REFERRER and r.parent == a.digest and r.digest in level:
                    lv = max(lv, level[r.digest] + 1)
            level[a.digest] = lv
            while len(waves) <= lv:
                waves.append([])
            waves[lv].append(a)
        for wave in waves:
            await asyncio.gather(*(self.one_manifest_guarded(a) for a in wave))

    async def one_manifest_guarded(self, a: ManifestAction) -> None:
        async with self.sem:
            if self.ex.cancelled:
                result = ItemResult(
                    "manifest", a.digest, a.digest, Outcome.NOT_STARTED, "cancelled"
                )
            else:
                why = self.blocked(a)
                if why:
                    result = ItemResult("manifest", a.digest, a.digest, Outcome.SKIPPED, why)
                else:
                    try:
                        result = await self.one_manifest(a)
                    except Exception as exc:
                        result = ItemResult(
                            "manifest", a.digest, a.digest, Outcome.FAILED, error_message(exc)
                        )
        self.manifest_outcome[a.digest] = result.outcome
        self.emit(result)

    async def one_manifest(self, a: ManifestAction) -> ItemResult:
        try:
            saved = await self.fetch(a.digest)
        except Exception as exc:
            if is_not_found(exc):
                return ItemResult("manifest", a.digest, a.digest, Outcome.SKIPPED, "already gone")
            raise
        await self.writer.keep_manifest(a.digest, saved.media_type, saved.data)
        self.writer.started(f"manifest:{a.digest}")
        note = await self.delete_ref(a.digest)
        return ItemResult(
            "manifest", a.digest, a.digest, Outcome.DELETED, with_note(a.reason, note)
        )
