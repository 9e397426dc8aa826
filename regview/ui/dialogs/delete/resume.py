"""Finishing a stopped or partly failed deletion from the app (the results dialog's "Finish the
run", the recycle bin's "Resume").

    start_resume(flow, entry_id)         in the flow's task slot "delete-resume-<id>" (a second
                                         click while it runs does nothing)
    await resume_run(flow, entry_id)     -> ExecutionReport | None

The run's own plan comes back from its recycle-bin entry (`core.deletion.resume`): nothing is
planned afresh and nothing outside that plan is touched; every item not done is checked again
before anything is sent. The connection is the profile whose registry is the entry's — its
host now, or an address it had before (`services.deletion.profile_for_registry`, as restoring
finds it) — with GitLab's API when an item needs it. Progress and results show in a
`DeleteProgressDialog` like any run's, announced through `flow.progressShown`; what went is
broadcast through `flow.mutated`, and `flow.finished` carries the report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from regview.core.deletion.executor import ExecutionReport
from regview.core.deletion.resume import needs_gitlab, plan_of, why_not
from regview.core.journal.journal import JournalBusy
from regview.services.async_utils import run_blocking
from regview.services.deletion import executor_for, removed_tags
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.errors import Problem

if TYPE_CHECKING:
    from regview.ui.dialogs.delete.flow import DeleteFlow


def start_resume(flow: DeleteFlow, entry_id: str) -> None:
    name = f"delete-resume-{entry_id}"
    if not flow.tasks.running(name):
        flow.tasks.start(name, resume_run(flow, entry_id))


async def resume_run(flow: DeleteFlow, entry_id: str) -> ExecutionReport | None:
    from regview.ui.dialogs.delete.flow import DeleteMutation, describe_delete

    conn = None
    try:
        entry = await run_blocking(flow.journal.load, entry_id)
        why = why_not(entry)
        if why:
            flow.problem.emit(Problem("Nothing to resume", why[0].upper() + why[1:] + ".", ""))
            return None
        plan = plan_of(entry)
        repository = entry.repository if needs_gitlab(entry) else ""
        conn = await flow.connection_for_entry(entry.registry, repository)
        if conn is None:
            flow.problem.emit(
                Problem(
                    "No registry profile for this deletion",
                    f"The deletion {entry.id} was made in {entry.registry}, which has no "
                    "profile now.",
                    "Add the registry with Add registry…, then resume from the recycle bin.",
                )
            )
            return None
    except Exception as exc:
        if conn is not None:
            await conn.close()
        problem = describe_delete(exc)
        if isinstance(exc, JournalBusy):
            problem = Problem("This deletion is still running", str(exc), "")
        if problem is None:
            raise
        flow.problem.emit(problem)
        return None
    progress = DeleteProgressDialog(plan, flow.parent_widget, resuming=entry.id)
    executor = executor_for(conn.target, flow.journal, on_result=progress.add_result)
    progress.cancelRequested.connect(executor.cancel)
    progress.resumeRequested.connect(lambda jid: start_resume(flow, jid))
    progress.trashRequested.connect(lambda: flow.open_trash(focus=progress.report))
    flow.runRestored.connect(progress.show_restored)
    progress.open()
    flow.progressShown.emit(progress)
    try:
        report = await executor.run(plan, resume=entry)
    except Exception as exc:
        problem = describe_delete(exc)
        if isinstance(exc, JournalBusy):
            problem = Problem("This deletion is still running", str(exc), "")
        if problem is None:
            raise
        progress.fail(problem.text())
        flow.problem.emit(problem)
        return None
    finally:
        await conn.close()
    progress.finish(report)
    removed = removed_tags(report, this_run_only=True)
    if removed:
        flow.mutated.emit(DeleteMutation(conn.profile, entry.repository, removed=removed))
    flow.finished.emit(report)
    return report
