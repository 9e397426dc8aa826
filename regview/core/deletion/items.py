"""One run of one plan: the per-item operations (re-check a tag, keep its bytes, delete by
tag, throw-away manifest or digest, then the manifests), with retries, the semaphore and the
journal entries (`Executor` in `executor` starts and ends the run).

No item is reported from a request's answer alone when that answer was not a clean "deleted":
after retries gave up, or when a retry found the item gone (the first reply was lost), the tag
or manifest is read back (`deletion.verify`) and the result carries the status that reading
showed — deleted (verified), not deleted, left on a placeholder (removed once more first), or
unknown — with the evidence. A resumed run (`resume`) settles the items its journal entry
already counts as done without a request, and re-checks every other one against the plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from regview.core.deletion.executor_types import (
    ExecutionReport,
    FetchedManifest,
    ItemResult,
    Outcome,
    RegistryStopped,
    Status,
    error_message,
    is_not_found,
    is_throwaway,
    is_unreachable,
    throwaway_manifest,
)
from regview.core.deletion.fallback import DeletionRefused, RunLearning, untag
from regview.core.deletion.plan import DeletePlan, ManifestAction, ManifestRole, Method, TagAction
from regview.core.deletion.verify import Reading, Seen, read_manifest, read_tag
from regview.core.journal.journal import ItemState, JournalItem, JournalWriter

if TYPE_CHECKING:
    from regview.core.deletion.executor import Executor

__all__ = ["ALREADY_GONE", "LOST_REPLY", "PlanRun", "is_throwaway", "throwaway_manifest"]

_T = TypeVar("_T")

#: Reason notes for an item counted as deleted without a "deleted" answer (see `delete_ref`).
LOST_REPLY = "the registry's reply was lost; a second request found it already gone"
ALREADY_GONE = "it was already gone when the delete was sent (removed by someone else?)"
#: Attempts of a read-back: more than a delete gets, since the report waits on its answer.
VERIFY_ATTEMPTS = 5
#: Requests in a row that got no answer at all, each after its retries, before a run stops
#: sending: a registry that died would otherwise be sent every remaining item, one failure at
#: a time (a flaky link loses single requests, and any answer in between starts the count over).
UNREACHABLE_IN_A_ROW = 3


def is_temporary(exc: BaseException) -> bool:
    """Worth another try: the error says so, or it is a 429 or a 5xx (GitLab's API errors
    carry only the status)."""
    if getattr(exc, "temporary", False):
        return True
    status = getattr(exc, "status", 0)
    return isinstance(status, int) and (status == 429 or (status >= 500 and status != 501))


def with_note(reason: str, note: str) -> str:
    return f"{reason} — {note}" if note else reason


_STATE = {
    Outcome.DELETED: ItemState.DELETED,
    Outcome.FAILED: ItemState.FAILED,
    Outcome.SKIPPED: ItemState.SKIPPED,
    Outcome.NOT_STARTED: ItemState.NOT_STARTED,
}


class PlanRun:
    """The state of one `Executor.run`: what was fetched, what each item came to."""

    def __init__(
        self,
        ex: Executor,
        plan: DeletePlan,
        writer: JournalWriter,
        report: ExecutionReport,
        earlier: Mapping[str, JournalItem] | None = None,
    ) -> None:
        self.ex = ex
        self.port = ex._port
        self.plan = plan
        self.repo = plan.repository
        self.writer = writer
        self.report = report
        #: the journal's items of the run being resumed (empty for a fresh run)
        self.earlier: Mapping[str, JournalItem] = earlier or {}
        self.sem = asyncio.Semaphore(ex._concurrency)
        self.throwaway_lock = asyncio.Lock()
        self.fetches: dict[str, asyncio.Future[FetchedManifest]] = {}
        self.tag_outcome: dict[str, Outcome] = {}
        self.manifest_outcome: dict[str, Outcome] = {}
        self.learning = RunLearning()
        #: why the run stopped sending ("" while the registry answers); see `UNREACHABLE_IN_A_ROW`
        self.stopped = ""
        self.unanswered = 0

    @property
    def halted(self) -> bool:
        """No new item starts: cancelled, or the registry stopped answering."""
        return self.ex.cancelled or bool(self.stopped)

    def not_started(self, kind: str, name: str, digest: str, method: str = "") -> ItemResult:
        """An item the run never sent anything deleting for, because it was halted."""
        if self.stopped:
            reason = f"not started: the registry stopped answering ({self.stopped}); resume the run to finish"
        else:
            reason = "cancelled before it started"
        return ItemResult(kind, name, digest, Outcome.NOT_STARTED, reason, method)

    def _heard(self, exc: BaseException | None) -> None:
        """Count requests that got no answer at all; any answer (even an error) resets it."""
        if exc is None or not is_unreachable(exc):
            self.unanswered = 0
            return
        self.unanswered += 1
        if self.unanswered >= UNREACHABLE_IN_A_ROW and not self.stopped:
            self.stopped = error_message(exc)
            self.report.stopped = self.stopped

    def emit(self, result: ItemResult, *, record: bool = True) -> None:
        self.report.results.append(result)
        if record:
            key = f"{result.kind}:{result.name}"
            self.writer.outcome(
                key, _STATE[result.outcome], result.reason, str(result.verdict), result.evidence
            )
        if self.ex._on_result is not None:
            self.ex._on_result(result)

    async def attempt(
        self, what: Callable[[], Awaitable[_T]], tries: int = 0, *, after_cancel: bool = False
    ) -> _T:
        """Retry temporary failures a few times, honouring Retry-After. Once the run is
        cancelled a failed request is not tried again (Cancel would wait on every item in
        flight retrying against a registry that stopped answering), except a read-back
        (`after_cancel`): a report waits on what it finds."""
        tries = tries or self.ex._attempts
        for n in range(tries):
            if self.stopped:  # nothing more is sent to a registry that stopped answering
                raise RegistryStopped(f"not sent: the registry stopped answering ({self.stopped})")
            try:
                got = await what()
            except Exception as exc:
                if not is_unreachable(exc):
                    self._heard(exc)
                last = n + 1 >= tries or (self.ex.cancelled and not after_cancel)
                if not is_temporary(exc) or last:
                    if is_unreachable(exc):
                        self._heard(exc)  # given up on: one more request without an answer
                    raise
                delay = getattr(exc, "retry_after", None)
                if delay is None:
                    delay = self.ex._backoff * (2 ** min(n, 4))
                await self.ex._sleep(min(float(delay), 60.0))
                if self.ex.cancelled and not after_cancel:
                    raise  # cancelled while waiting to try again
            else:
                self._heard(None)
                return got
        raise AssertionError("unreachable")  # pragma: no cover

    async def verify_attempt(self, what: Callable[[], Awaitable[_T]]) -> _T:
        return await self.attempt(what, max(VERIFY_ATTEMPTS, self.ex._attempts), after_cancel=True)

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

    # -- what an earlier run already settled ---------------------------------------------
    def done_earlier(self, kind: str, name: str, digest: str, method: str) -> ItemResult | None:
        """The result of an item the resumed entry counts as done (no request is made)."""
        item = self.earlier.get(f"{kind}:{name}")
        if item is None or not item.is_done:
            return None
        status = Status(item.status) if item.status in set(Status) else None
        if item.state == ItemState.RESTORED:
            return ItemResult(
                kind,
                name,
                digest,
                Outcome.SKIPPED,
                "restored from the recycle bin since: left alone",
                method,
                Status.CHANGED,
                "journal: restored",
                earlier=True,
            )
        outcome = Outcome.DELETED if item.state == ItemState.DELETED else Outcome.SKIPPED
        return ItemResult(
            kind,
            name,
            digest,
            outcome,
            f"done in the earlier run: {item.reason}" if item.reason else "done in the earlier run",
            method,
            status,
            f"journal {self.writer.id}: {item.state}"
            + (f"; {item.evidence}" if item.evidence else ""),
            earlier=True,
        )

    def sent_earlier(self, key: str) -> bool:
        item = self.earlier.get(key)
        return item is not None and item.sent

    def unsent_failure(self, key: str) -> Status:
        """The status of an item whose step raised: not deleted while nothing deleting was sent
        for it (in this run or the resumed one), else unknown."""
        item = self.writer.entry.items.get(key)
        if (item is not None and item.state == ItemState.STARTED) or self.sent_earlier(key):
            return Status.UNKNOWN
        return Status.NOT_DELETED

    def failed_unreported(
        self,
        kind: str,
        name: str,
        digest: str,
        exc: BaseException,
        method: str = "",
        *,
        with_evidence: bool = True,
    ) -> ItemResult:
        """The result of an item whose step raised before anything was read back: failed, with
        the status `unsent_failure` gives (and, `with_evidence`, whether a delete was sent)."""
        status = self.unsent_failure(f"{kind}:{name}")
        if status is Status.NOT_DELETED and (
            (self.halted and is_unreachable(exc)) or isinstance(exc, RegistryStopped)
        ):
            # nothing deleting went out for it: the run can finish it later, like a cancel
            return self.not_started(kind, name, digest, method)
        evidence = ""
        if with_evidence:
            evidence = (
                "no deleting request was sent"
                if status is Status.NOT_DELETED
                else "a deleting request may have been sent; nothing was read back"
            )
        return ItemResult(
            kind, name, digest, Outcome.FAILED, error_message(exc), method, status, evidence
        )

    # -- tags -----------------------------------------------------------------------------
    @staticmethod
    def tag_result(
        a: TagAction, outcome: Outcome, reason: str, status: Status, evidence: str
    ) -> ItemResult:
        method = "digest" if a.method is Method.DIGEST else str(a.method)
        return ItemResult("tag", a.tag, a.digest, outcome, reason, method, status, evidence)

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
        done = self.done_earlier("tag", a.tag, a.digest, str(a.method))
        if done is not None:
            self.tag_outcome[a.tag] = done.outcome
            self.emit(done, record=False)
            return
        async with self.sem:
            if self.halted:
                result = self.not_started("tag", a.tag, a.digest)
            else:
                try:
                    result = await fn(a)
                except Exception as exc:
                    result = self.failed_unreported("tag", a.tag, a.digest, exc, str(a.method))
        self.tag_outcome[a.tag] = result.outcome
        self.emit(result)

    async def guarded_group(self, group: list[TagAction]) -> None:
        settled: dict[str, ItemResult] = {}
        for a in group:
            done = self.done_earlier("tag", a.tag, a.digest, "digest")
            if done is not None:
                settled[a.tag] = done
                self.tag_outcome[a.tag] = done.outcome
                self.emit(done, record=False)
        group = [a for a in group if a.tag not in settled]
        if not group:
            return
        async with self.sem:
            if self.halted:
                results = [self.not_started("tag", a.tag, a.digest) for a in group]
            else:
                try:
                    results = await self.digest_group(group)
                except Exception as exc:
                    results = [
                        self.failed_unreported("tag", a.tag, a.digest, exc, "digest") for a in group
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

    def gone_before(self, a: TagAction, method: str) -> ItemResult:
        """A tag not there when this run came to it: gone already, or — resuming a run that
        had sent its deletion — deleted by that run, which never heard the answer."""
        key = f"tag:{a.tag}"
        if self.sent_earlier(key):
            earlier = self.earlier[key]
            return ItemResult(
                "tag",
                a.tag,
                a.digest,
                Outcome.DELETED,
                "the earlier run's deletion went through (its answer never arrived)",
                method,
                Status.DELETED_VERIFIED,
                f"journal {self.writer.id}: {earlier.state} after the deletion was sent; "
                f"read back: GET {a.tag} → 404",
            )
        return ItemResult(
            "tag",
            a.tag,
            a.digest,
            Outcome.SKIPPED,
            "the tag no longer exists (already deleted?)",
            method,
            Status.ALREADY_GONE,
            f"GET {a.tag} → 404 before anything was sent",
        )

    async def one_tag(self, a: TagAction) -> ItemResult:
        key = f"tag:{a.tag}"
        current, skip = await self.check(a)
        if current is None:
            return self.gone_before(a, str(a.method))
        placeholders = (Method.THROWAWAY, Method.VENDOR_API)  # a vendor may use one too (GHCR)
        if skip is not None and a.method in placeholders and is_throwaway(current.data):
            # A previous run stopped between the push and the delete: finish it.
            self.writer.started(key)
            return await self.remove_placeholder(
                a, current.digest, "finished an interrupted throw-away deletion"
            )
        if skip is not None:
            evidence = f"GET {a.tag} → {current.digest}"
            return self.tag_result(a, Outcome.SKIPPED, skip, Status.CHANGED, evidence)
        if a.method in placeholders and is_throwaway(current.data):
            # A placeholder left by an earlier run: unique to this tag, nothing to keep.
            self.writer.started(key)
            return await self.remove_placeholder(
                a, a.digest, "removed a placeholder left by an earlier run"
            )
        await self.writer.keep_manifest(a.digest, current.media_type, current.data)
        self.writer.started(key)
        what = a.how
        try:
            method, note = await untag(self, a, current)
        except DeletionRefused as exc:
            if exc.message.startswith("not attempted"):
                return self.tag_result(
                    a,
                    Outcome.FAILED,
                    exc.message,
                    Status.NOT_DELETED,
                    "no deleting request was sent for it",
                )
            return await self.settle_tag(a, what, exc.message)
        except Exception as exc:
            return await self.settle_unanswered(a, what, exc)
        if note:
            how = a.how if method is a.method else method.description
            return await self.settle_tag(a, how, note)
        return ItemResult(
            "tag",
            a.tag,
            a.digest,
            Outcome.DELETED,
            a.how if method is a.method else method.description,
            str(method),
            Status.DELETED,
            "the registry answered the delete with success",
        )

    async def delete_verified(
        self,
        a: TagAction,
        what: str,
        request: Callable[[], Awaitable[None]],
        *,
        gone_at_first: bool = True,
    ) -> ItemResult:
        """Send a deleting request; report it from a clean answer, else from a read-back."""
        try:
            note = await self.delete_once(request, gone_at_first=gone_at_first)
        except Exception as exc:
            return await self.settle_unanswered(a, what, exc)
        if note:
            return await self.settle_tag(a, what, note)
        return self.tag_result(
            a,
            Outcome.DELETED,
            what,
            Status.DELETED,
            "the registry answered the delete with success",
        )

    async def remove_placeholder(self, a: TagAction, placeholder: str, what: str) -> ItemResult:
        """Delete the placeholder the tag was moved to (by digest): that takes the tag along."""
        try:
            note = await self.delete_ref(placeholder)
        except Exception as exc:
            return await self.settle_tag(
                a,
                what,
                f"the tag was moved to the placeholder {placeholder}, whose delete failed "
                f"({error_message(exc)})",
            )
        if note:
            return await self.settle_tag(a, what, f"placeholder {placeholder}: {note}")
        return self.tag_result(
            a,
            Outcome.DELETED,
            what,
            Status.DELETED,
            f"the tag was moved to the placeholder {placeholder}; the registry answered its "
            "delete with success",
        )

    async def settle_unanswered(self, a: TagAction, what: str, exc: Exception) -> ItemResult:
        """The deleting request(s) got no clean answer (retries gave up, a reply lost): the
        registry decides, read back."""
        return await self.settle_tag(
            a, what, f"the delete failed ({error_message(exc)})", unanswered=True
        )

    async def settle_tag(
        self,
        a: TagAction,
        what: str,
        happened: str,
        *,
        placeholder_retried: bool = False,
        unanswered: bool = False,
    ) -> ItemResult:
        """Read the tag back after a step without a clean answer and report what is true. A
        tag left on a placeholder gets one more delete of that placeholder first.

        `unanswered`: the deleting request(s) got no clean answer (retries gave up on errors or
        a dropped connection); found gone then, the registry acted and its reply was lost.

        Gone after a deleting request was sent counts as deleted (verified), even when the
        first answer seen was a 404: a lower layer (a proxy, the HTTP client) may have retried
        a request whose reply was lost, so "someone else did it" cannot be told apart; the
        evidence says what was seen."""
        reading: Reading = await read_tag(
            self.port, self.repo, a.tag, a.digest, self.verify_attempt
        )
        evidence = f"read back: {reading.evidence} — after: {happened}"

        def res(outcome: Outcome, reason: str, status: Status) -> ItemResult:
            return self.tag_result(a, outcome, reason, status, evidence)

        if reading.seen is Seen.GONE:
            if unanswered and not placeholder_retried:
                happened = f"the registry's reply was lost ({happened}); reading back found it gone"
            return res(Outcome.DELETED, with_note(what, happened), Status.DELETED_VERIFIED)
        if reading.seen is Seen.PLACEHOLDER and not placeholder_retried:
            try:
                note = await self.delete_ref(reading.digest)
            except Exception as exc:
                again = f"deleting the placeholder once more failed ({error_message(exc)})"
            else:
                again = "the placeholder was deleted on a second try" + (
                    f" ({note})" if note else ""
                )
            return await self.settle_tag(a, what, f"{evidence}; {again}", placeholder_retried=True)
        if reading.seen is Seen.PLACEHOLDER:
            return res(
                Outcome.FAILED,
                f"the tag now points at the placeholder {reading.digest}, which could not be "
                "deleted; resume the run to finish",
                Status.PLACEHOLDER,
            )
        if reading.seen is Seen.PLANNED:
            return res(
                Outcome.FAILED,
                f"not deleted, the tag is unchanged — {happened}",
                Status.NOT_DELETED,
            )
        if reading.seen is Seen.OTHER:
            return res(
                Outcome.FAILED,
                f"not deleted: the tag now points at {reading.digest} (changed by someone "
                "else; left alone)",
                Status.CHANGED,
            )
        return res(
            Outcome.FAILED,
            f"unknown: {happened}, and the tag could not be read back; resume the run to "
            "check and finish",
            Status.UNKNOWN,
        )

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
        checks = [(a, *await self.check(a)) for a in group]
        results: dict[str, ItemResult] = {
            a.tag: self.gone_before(a, "digest") for a, cur, _skip in checks if cur is None
        }
        if any(cur is not None and skip is not None for _a, cur, skip in checks):
            for a, cur, skip in checks:
                if a.tag in results:
                    continue
                results[a.tag] = ItemResult(
                    "tag",
                    a.tag,
                    digest,
                    Outcome.SKIPPED,
                    skip or "another tag on the same manifest changed since the plan",
                    "digest",
                    Status.CHANGED if skip else Status.NOT_DELETED,
                    f"GET {a.tag} → {cur.digest}" if cur is not None else "",
                )
            return [results[a.tag] for a in group]
        rest = [a for a in group if a.tag not in results]
        if rest:
            saved = await self.fetch(digest)
            await self.writer.keep_manifest(digest, saved.media_type, saved.data)
            for a in rest:
                self.writer.started(f"tag:{a.tag}")
            what = Method.DIGEST.description
            try:
                note = await self.delete_ref(digest)
            except Exception as exc:
                note = f"the delete of {digest} failed ({error_message(exc)})"
            for a in rest:
                if note:
                    results[a.tag] = await self.settle_tag(a, what, note)
                else:
                    results[a.tag] = self.tag_result(
                        a,
                        Outcome.DELETED,
                        what,
                        Status.DELETED,
                        f"the registry answered the delete of {digest} with success",
                    )
        if all(results[a.tag].outcome is Outcome.DELETED for a in group):
            self.manifest_outcome[digest] = Outcome.DELETED
        return [results[a.tag] for a in group]

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
        done = self.done_earlier("manifest", a.digest, a.digest, "digest")
        if done is not None:
            self.manifest_outcome[a.digest] = done.outcome
            self.emit(done, record=False)
            return
        async with self.sem:
            if self.halted:
                result = self.not_started("manifest", a.digest, a.digest)
            else:
                why = self.blocked(a)
                if why:
                    result = ItemResult(
                        "manifest",
                        a.digest,
                        a.digest,
                        Outcome.SKIPPED,
                        why,
                        status=Status.NOT_DELETED,
                        evidence="no deleting request was sent",
                    )
                else:
                    try:
                        result = await self.one_manifest(a)
                    except Exception as exc:
                        result = self.failed_unreported(
                            "manifest", a.digest, a.digest, exc, with_evidence=False
                        )
        self.manifest_outcome[a.digest] = result.outcome
        self.emit(result)

    async def keep_children_of(self, digest: str) -> None:
        """Save the index children this plan deletes before their parent goes: a registry may
        take them with it (Harbor's API deletes an index's unshared children), and a child read
        only at its own turn would then be gone unsaved, beyond the recycle bin's reach."""
        for c in self.plan.manifest_actions:
            if c.role is ManifestRole.CHILD and c.parent == digest:
                try:
                    child = await self.fetch(c.digest)
                except Exception as exc:
                    if not is_not_found(exc):
                        raise
                    continue
                await self.writer.keep_manifest(c.digest, child.media_type, child.data)

    async def one_manifest(self, a: ManifestAction) -> ItemResult:
        key = f"manifest:{a.digest}"
        try:
            saved = await self.fetch(a.digest)
        except Exception as exc:
            if not is_not_found(exc):
                raise
            if self.sent_earlier(key):
                return ItemResult(
                    "manifest",
                    a.digest,
                    a.digest,
                    Outcome.DELETED,
                    "the earlier run's deletion went through (its answer never arrived)",
                    status=Status.DELETED_VERIFIED,
                    evidence=f"journal: sent earlier; read back: GET {a.digest} → 404",
                )
            return ItemResult(
                "manifest",
                a.digest,
                a.digest,
                Outcome.SKIPPED,
                "already gone",
                status=Status.ALREADY_GONE,
                evidence=f"GET {a.digest} → 404 before anything was sent",
            )
        await self.writer.keep_manifest(a.digest, saved.media_type, saved.data)
        await self.keep_children_of(a.digest)
        self.writer.started(key)
        try:
            note = await self.delete_ref(a.digest)
        except Exception as exc:
            note = f"the delete failed ({error_message(exc)})"
        if not note:
            return ItemResult(
                "manifest",
                a.digest,
                a.digest,
                Outcome.DELETED,
                a.reason,
                status=Status.DELETED,
                evidence="the registry answered the delete with success",
            )
        reading = await read_manifest(self.port, self.repo, a.digest, self.verify_attempt)
        evidence = f"read back: {reading.evidence} — after: {note}"
        if reading.seen is Seen.GONE:
            return ItemResult(
                "manifest",
                a.digest,
                a.digest,
                Outcome.DELETED,
                with_note(a.reason, note),
                status=Status.DELETED_VERIFIED,
                evidence=evidence,
            )
        unknown = reading.seen is Seen.UNREADABLE
        return ItemResult(
            "manifest",
            a.digest,
            a.digest,
            Outcome.FAILED,
            f"{'unknown' if unknown else 'not deleted'}: {note}",
            status=Status.UNKNOWN if unknown else Status.NOT_DELETED,
            evidence=evidence,
        )
