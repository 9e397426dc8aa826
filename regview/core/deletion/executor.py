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
- a registry that stops answering (a few requests in a row refused, reset or timed out after
  their retries, `items.UNREACHABLE_IN_A_ROW`) stops the run like a cancel: nothing more is
  sent, every remaining item is reported not started with why (`ExecutionReport.stopped`), and
  the journal entry is left to resume;
- manifests go only after every tag action settled, and only if what referenced them really
  went (an index's children wait for the index, a subject waits for its referrers);
- an item whose deleting request got no clean answer is read back before it is reported, and
  its result says what the registry holds (`Status`) and how that is known (`evidence`);
- `run(plan, resume=entry)` finishes an earlier run recorded in the journal: items it already
  settled are reported from the journal, every other one is re-checked against the plan
  (`deletion.resume` rebuilds the plan from the entry).

The registry is reached through `DeletePort`, a small protocol; `ClientPort` in
`regview.core.deletion.port` adapts the real client to it. This module starts and ends a run; the
per-item operations are in `deletion.items`, the types in `deletion.executor_types`, capabilities
(inferred, no probe requests) in `deletion.probe`, a refusal's fallback in `deletion.fallback`.
"""

from __future__ import annotations

import asyncio

from regview.core.deletion.executor_types import (
    THROWAWAY_ANNOTATION,
    DeletePort,
    ExecutionReport,
    FetchedManifest,
    ItemResult,
    Outcome,
    PortError,
    ResultCallback,
    Sleep,
    Status,
)
from regview.core.deletion.items import PlanRun, is_throwaway, throwaway_manifest
from regview.core.deletion.plan import DeletePlan
from regview.core.deletion.probe import infer_capabilities
from regview.core.journal.journal import Journal, JournalEntry, JournalItem

__all__ = [
    "THROWAWAY_ANNOTATION",
    "DeletePort",
    "ExecutionReport",
    "Executor",
    "FetchedManifest",
    "ItemResult",
    "Outcome",
    "PortError",
    "ResultCallback",
    "Sleep",
    "Status",
    "infer_capabilities",
    "is_throwaway",
    "throwaway_manifest",
]


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

    async def run(self, plan: DeletePlan, *, resume: JournalEntry | None = None) -> ExecutionReport:
        report = ExecutionReport(plan)
        if plan.refusal:
            report.refusal = plan.refusal
            return report
        if resume is None:
            items = [
                JournalItem(
                    f"tag:{a.tag}", "tag", a.tag, a.digest, a.media_type, method=str(a.method)
                )
                for a in plan.tag_actions
            ] + [
                JournalItem(f"manifest:{a.digest}", "manifest", a.digest, a.digest, a.media_type)
                for a in plan.manifest_actions
            ]
            writer = self._journal.begin(plan.registry, plan.repository, items, plan_record(plan))
        else:
            writer = self._journal.reopen(resume.id)
            report.resumed = resume.id
        report.journal_id = writer.id
        run = PlanRun(self, plan, writer, report, resume.items if resume is not None else None)
        try:
            await run.tags()
            await run.manifests()
        finally:
            status = "stopped" if run.stopped else "finished"
            writer.close("cancelled" if self.cancelled else status)
        report.cancelled = self.cancelled
        return report


def plan_record(plan: DeletePlan) -> dict[str, object]:
    """What the journal keeps of a plan: enough for `deletion.resume` to rebuild it."""
    return {
        **plan.to_json(),
        "gitlab_project_id": plan.gitlab_project_id,
        "gitlab_repository_id": plan.gitlab_repository_id,
        "options": {
            "delete_manifests": plan.options.delete_manifests,
            "delete_referrers": plan.options.delete_referrers,
        },
    }
