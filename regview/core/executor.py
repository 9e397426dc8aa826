"""Carry out a `DeletePlan` over a registry, item by item, and account for every item.

Rules the executor keeps, whatever the network does:
- it touches nothing outside the plan;
- before touching a tag it re-reads what the tag points at (one GET by tag, which also gives
  the bytes to keep), and skips it ("changed since the plan") when that is no longer the digest
  the plan was made for;
- the manifest bytes are saved to the recycle bin and the journal says `started` *before* the
  request that deletes;
- temporary failures (429 with `Retry-After`, 5xx, resets, timeouts) are retried a few times per
  item after the client's own retries; anything else fails the item with the registry's reason;
- `cancel()` lets in-flight items finish and reports the rest as not started;
- manifests go only after every tag action settled, and only if what referenced them really
  went (an index's children wait for the index, a subject waits for its referrers).

The registry is reached through `DeletePort`, a small protocol; `ClientPort` in
`regview.core.delete_port` adapts the real client to it.
"""

from __future__ import annotations

import asyncio
import enum
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from regview.core.journal import ItemState, Journal, JournalItem, JournalWriter
from regview.core.plan import (
    Capabilities,
    DeletePlan,
    DeleteSupport,
    ManifestAction,
    ManifestRole,
    Method,
    TagAction,
)
from regview.spec import mediatypes as mt

_T = TypeVar("_T")

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
        body = json.loads(data)
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("annotations"), dict)
        and THROWAWAY_ANNOTATION in body["annotations"]
        and not body.get("manifests")
    )


def _is_not_found(exc: BaseException) -> bool:
    return getattr(exc, "status", 0) == 404 or type(exc).__name__ == "NotFound"


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc) or type(exc).__name__


def _probe_detail(exc: BaseException) -> str:
    """What the registry answered the capability probe, in short: without the made-up digest
    the probe asked to delete, which would only puzzle the user."""
    status = getattr(exc, "status", 0)
    said = "; ".join(
        str(m).rstrip(".") for e in getattr(exc, "errors", ()) if (m := getattr(e, "message", ""))
    )
    short = ": ".join(p for p in (f"HTTP {status}" if status else "", said) if p)
    return short or _message(exc)


ResultCallback = Callable[[ItemResult], None]
Sleep = Callable[[float], Awaitable[None]]


class Executor:
    """Runs plans; one instance may run several plans one after another."""

    def __init__(
        self,
        port: DeletePort,
        journal: Journal | None = None,
        *,
        concurrency: int = 8,
        item_attempts: int = 3,
        backoff: float = 0.5,
        on_result: ResultCallback | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._port = port
        self._journal = journal if journal is not None else Journal()
        self._concurrency = concurrency
        self._attempts = max(1, item_attempts)
        self._backoff = backoff
        self._on_result = on_result
        self._sleep = sleep
        self._cancel = asyncio.Event()

    def cancel(self) -> None:
        """Stop starting new items; items in flight finish and are reported."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    async def run(self, plan: DeletePlan) -> ExecutionReport:
        report = ExecutionReport(plan)
        if plan.refusal:
            report.refusal = plan.refusal
            return report
        items = [
            JournalItem(f"tag:{a.tag}", "tag", a.tag, a.digest, a.media_type, method=str(a.method))
            for a in plan.tag_actions
        ] + [
            JournalItem(f"manifest:{a.digest}", "manifest", a.digest, a.digest, a.media_type)
            for a in plan.manifest_actions
        ]
        writer = self._journal.begin(plan.registry, plan.repository, items, plan.to_json())
        report.journal_id = writer.id
        run = _Run(self, plan, writer, report)
        try:
            await run.tags()
            await run.manifests()
        finally:
            writer.close("cancelled" if self.cancelled else "finished")
        report.cancelled = self.cancelled
        return report


class _Run:
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
                        "tag", a.tag, a.digest, Outcome.FAILED, _message(exc), str(a.method)
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
                        ItemResult("tag", a.tag, a.digest, Outcome.FAILED, _message(exc), "digest")
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
            if _is_not_found(exc):
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
            await self.delete_ref(current.digest)
            return res(Outcome.DELETED, "finished an interrupted throw-away deletion")
        if skip is not None:
            return res(Outcome.SKIPPED, skip)
        assert current is not None
        saved = current
        if a.method is Method.THROWAWAY and is_throwaway(saved.data):
            # A placeholder left by an earlier run: unique to this tag, nothing to keep.
            self.writer.started(f"tag:{a.tag}")
            await self.delete_ref(a.digest)
            return res(Outcome.DELETED, "removed a placeholder left by an earlier run")
        await self.writer.keep_manifest(a.digest, saved.media_type, saved.data)
        self.writer.started(f"tag:{a.tag}")
        if a.method is Method.TAG_DELETE:
            await self.delete_ref(a.tag)
        elif a.method is Method.GITLAB_API:
            pid, rid = self.plan.gitlab_project_id, self.plan.gitlab_repository_id
            if pid is None or rid is None:
                return res(Outcome.FAILED, "GitLab project of this repository is unknown")
            await self.attempt(lambda: self.port.gitlab_delete_tag(pid, rid, a.tag))
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
                    await self.delete_ref(placeholder)
                except Exception as exc:
                    return res(
                        Outcome.FAILED,
                        f"the tag now points at a placeholder {placeholder} that could not be "
                        f"deleted ({_message(exc)}); run the deletion again to finish",
                    )
        else:  # pragma: no cover - DIGEST goes through digest_group
            raise AssertionError(a.method)
        return res(Outcome.DELETED, a.method.description)

    async def delete_ref(self, reference: str) -> None:
        try:
            await self.attempt(lambda: self.port.delete_manifest(self.repo, reference))
        except Exception as exc:
            if _is_not_found(exc):
                return  # gone already (an earlier attempt went through before a reset)
            raise

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
        await self.delete_ref(digest)
        self.manifest_outcome[digest] = Outcome.DELETED
        return [
            ItemResult("tag", a.tag, digest, Outcome.DELETED, Method.DIGEST.description, "digest")
            for a in group
        ]

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
                            "manifest", a.digest, a.digest, Outcome.FAILED, _message(exc)
                        )
        self.manifest_outcome[a.digest] = result.outcome
        self.emit(result)

    async def one_manifest(self, a: ManifestAction) -> ItemResult:
        try:
            saved = await self.fetch(a.digest)
        except Exception as exc:
            if _is_not_found(exc):
                return ItemResult("manifest", a.digest, a.digest, Outcome.SKIPPED, "already gone")
            raise
        await self.writer.keep_manifest(a.digest, saved.media_type, saved.data)
        self.writer.started(f"manifest:{a.digest}")
        await self.delete_ref(a.digest)
        return ItemResult("manifest", a.digest, a.digest, Outcome.DELETED, a.reason)


# -- probing ----------------------------------------------------------------------------------


class ProbePort(Protocol):
    async def supports_tag_delete(self, repository: str) -> bool: ...

    async def delete_manifest(self, repository: str, reference: str) -> None: ...


async def probe_capabilities(
    port: ProbePort, repository: str, *, gitlab_tag_api: bool = False, can_push: bool = True
) -> Capabilities:
    """Ask the registry what it allows, without changing anything.

    Deleting a digest that cannot exist tells us: 404 → deletion works, 405/400 UNSUPPORTED →
    disabled, 401/403 → these credentials may not delete.
    """
    nothing = "sha256:" + secrets.token_hex(32)
    support, detail = DeleteSupport.UNKNOWN, ""
    try:
        await port.delete_manifest(repository, nothing)
        support = DeleteSupport.ALLOWED  # accepted?! the digest did not exist anyway
    except Exception as exc:
        status = getattr(exc, "status", 0)
        name = type(exc).__name__
        detail = _probe_detail(exc)
        if _is_not_found(exc):
            support = DeleteSupport.ALLOWED
        elif status == 405 or name == "Unsupported":
            support = DeleteSupport.DISABLED
        elif status in (401, 403) or name in ("AccessDenied", "AuthenticationFailed"):
            support = DeleteSupport.DENIED
        elif status == 400:
            support = DeleteSupport.DISABLED
    tag_delete = False
    if support is DeleteSupport.ALLOWED:
        try:
            tag_delete = await port.supports_tag_delete(repository)
        except Exception:
            tag_delete = False
    return Capabilities(
        manifest_delete=support,
        tag_delete=tag_delete,
        gitlab_tag_api=gitlab_tag_api,
        can_push=can_push,
        detail=detail if support is not DeleteSupport.ALLOWED else "",
    )
