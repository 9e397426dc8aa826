"""Untagging one tag the planned way, and what a refusal of that way teaches.

    await untag(run, action, saved) -> (method used, note)

Capabilities are inferred without probes (`deletion.probe`), so the first real deletion is where
a wrong guess shows. Its answer decides, for that item and for the rest of the run, and is
remembered for the registry (`ClientPort.learn`):

- a tag delete answered 400 DIGEST_INVALID (distribution 2.8), 405 or UNSUPPORTED: this registry
  does not delete single tags. The next safest method: GitLab's tag API where the plan has the
  project; else, after an ambiguous 405/UNSUPPORTED (it may mean deletion is off altogether), a
  delete by digest where nothing else uses the manifest (a refusal changes nothing); else the
  throw-away manifest;
- a management API (`Method.VENDOR_API`) saying the credential lacks the scope: that item is
  read back (nothing was deleted) and every later item fails without a request;
- the throw-away placeholder's delete refused (405/UNSUPPORTED): deletion is switched off. The
  tag is put back on its manifest (the original bytes, pushed again: nothing was deleted), the
  item fails saying so, and every later item of the run fails without a request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from regview.core import errors as E
from regview.core.deletion.executor_types import FetchedManifest, error_message, throwaway_manifest
from regview.core.deletion.plan import Method, TagAction
from regview.core.deletion.probe import deletion_refused
from regview.spec import mediatypes as mt

if TYPE_CHECKING:
    from regview.core.deletion.items import PlanRun


class DeletionRefused(Exception):
    """The registry refused deleting; `message` says what was done about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class RunLearning:
    """What this run's answers taught (shared by its items)."""

    tag_delete_refused: str = ""  # the refusing answer, in short
    tag_delete_ambiguous: bool = False  # 405/UNSUPPORTED rather than 400 DIGEST_INVALID
    deletion_disabled: str = ""
    #: a management API deleted once in this run (later items need not wait for the first)
    vendor_proven: bool = False
    vendor_gate: asyncio.Lock = field(default_factory=asyncio.Lock)


ENABLE_HINT = "its administrator can enable deletion (CNCF registry: storage.delete.enabled: true)"


def _answer(exc: BaseException) -> str:
    """What the registry answered, in short: status, code and its own words (not our message
    around them, which names a digest nobody needs to read)."""
    status = getattr(exc, "status", 0)
    said = "; ".join(
        ": ".join(p for p in (str(getattr(e, "code", "") or ""), getattr(e, "message", "")) if p)
        for e in getattr(exc, "errors", ()) or ()
    )
    if not status:
        return error_message(exc)
    return f"HTTP {status} ({said.rstrip('.')})" if said else f"HTTP {status}"


def _learn(run: PlanRun, **facts: object) -> None:
    learn = getattr(run.port, "learn", None)
    if learn is not None:
        learn(**facts)


async def untag(run: PlanRun, a: TagAction, saved: FetchedManifest) -> tuple[Method, str]:
    """Remove the tag `a` by its planned method or, after a refusal, the next safest one."""
    if run.learning.deletion_disabled:
        raise DeletionRefused(
            f"not attempted: {run.plan.registry} refused deleting earlier in this run "
            f"({run.learning.deletion_disabled}); nothing was deleted"
        )
    learnt = run.learning
    method = a.method
    if method is Method.TAG_DELETE and not learnt.tag_delete_refused:
        try:
            return method, await run.delete_ref(a.tag)
        except Exception as exc:
            if not deletion_refused(exc):
                raise
            learnt.tag_delete_refused = _answer(exc)
            learnt.tag_delete_ambiguous = getattr(exc, "status", 0) != 400
            _learn(
                run,
                tag_delete=False,
                learnt_from=f"deleting the tag {a.tag} was answered {learnt.tag_delete_refused}",
            )
    if method is Method.VENDOR_API:
        if learnt.vendor_proven:
            return method, await _vendor_untag(run, a)
        # The first deletion goes alone: when the API says the credential lacks the scope,
        # no other item has been sent meanwhile.
        async with learnt.vendor_gate:
            if learnt.deletion_disabled:
                raise DeletionRefused(
                    f"not attempted: {run.plan.registry} refused deleting earlier in this run "
                    f"({learnt.deletion_disabled})"
                )
            note = await _vendor_untag(run, a)
            learnt.vendor_proven = True
            return method, note
    if method is Method.TAG_DELETE:
        method = _next_safest(run, a)
    if method is Method.GITLAB_API:
        pid, rid = run.plan.gitlab_project_id, run.plan.gitlab_repository_id
        if pid is None or rid is None:
            raise DeletionRefused("GitLab project of this repository is unknown")
        return method, await run.delete_once(
            lambda: run.port.gitlab_delete_tag(pid, rid, a.tag), gone_at_first=False
        )
    if method is Method.DIGEST:
        try:
            return method, await run.delete_ref(a.digest)
        except Exception as exc:
            if deletion_refused(exc):
                _disabled(run, exc)
                raise DeletionRefused(
                    f"{run.plan.registry} does not allow deleting ({_answer(exc)}); "
                    f"nothing was deleted; {ENABLE_HINT}"
                ) from exc
            raise
    if method is Method.THROWAWAY:
        return method, await _throwaway(run, a, saved)
    raise AssertionError(method)  # pragma: no cover - DIGEST groups go through digest_group


async def _vendor_untag(run: PlanRun, a: TagAction) -> str:
    sole = a.manifest_untagged and a.manifest_deletable
    try:
        return await run.delete_once(lambda: _vendor_delete_tag(run, a, sole), gone_at_first=False)
    except E.VendorScopeMissing as exc:
        # the credential may not delete there: every other item would be refused alike
        run.learning.deletion_disabled = exc.message
        raise DeletionRefused(f"{exc.message}; nothing was deleted") from exc


async def _vendor_delete_tag(run: PlanRun, a: TagAction, sole: bool) -> None:
    delete_tag = getattr(run.port, "vendor_delete_tag", None)
    if delete_tag is None:
        raise DeletionRefused(
            f"not attempted: the plan uses {run.plan.registry}'s management API, which this "
            "connection has not opened; nothing was deleted"
        )
    await delete_tag(run.repo, a.tag, a.digest, sole=sole)


def _next_safest(run: PlanRun, a: TagAction) -> Method:
    if run.plan.gitlab_project_id is not None and run.plan.gitlab_repository_id is not None:
        return Method.GITLAB_API
    if run.learning.tag_delete_ambiguous and a.manifest_deletable and not a.shared_with:
        return Method.DIGEST
    return Method.THROWAWAY


def _disabled(run: PlanRun, exc: BaseException) -> None:
    run.learning.deletion_disabled = _answer(exc)
    _learn(
        run,
        deletion_disabled=True,
        learnt_from=f"a delete by digest was answered {run.learning.deletion_disabled}",
    )


async def _throwaway(run: PlanRun, a: TagAction, saved: FetchedManifest) -> str:
    # One push+delete pair at a time: the CNCF registry 2.8 walks every tag's link on a
    # delete by digest, and a tag link being written concurrently makes that walk fail
    # after the manifest is already gone, leaving a dangling tag behind.
    async with run.throwaway_lock:
        data = throwaway_manifest()
        placeholder = await run.attempt(
            lambda: run.port.push_manifest(run.repo, a.tag, data, mt.OCI_INDEX)
        )
        try:
            return await run.delete_ref(placeholder)
        except Exception as exc:
            if not deletion_refused(exc):
                raise  # the executor reads the tag back and reports what is true
            _disabled(run, exc)
            try:  # nothing was deleted: put the tag back on its manifest
                await run.attempt(
                    lambda: run.port.push_manifest(run.repo, a.tag, saved.data, saved.media_type)
                )
            except Exception as again:
                raise DeletionRefused(
                    f"{run.plan.registry} does not allow deleting ({_answer(exc)}), and the tag "
                    f"could not be put back ({error_message(again)}): it points at the "
                    f"placeholder {placeholder}; restore it from the recycle bin"
                ) from exc
            raise DeletionRefused(
                f"{run.plan.registry} does not allow deleting ({_answer(exc)}); the tag was put "
                f"back on {a.digest}, nothing was deleted; {ENABLE_HINT}"
            ) from exc
