"""Finishing a stopped or partly failed deletion: `regview rm --resume JOURNAL` and
`regview trash resume ID` (both land here).

The run's own plan comes back from its recycle-bin entry; only the items not yet done are acted
on, each re-checked against that plan first. The output is the `rm --json` shape (every tag of
the plan with its status and evidence, and the totals); the exit code is 0 only when every tag
of the plan is verifiably gone.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from regview.cli import common as C
from regview.cli import deleting as D
from regview.core.deletion.resume import needs_gitlab, why_not
from regview.core.deletion.resume import resume as resume_entry
from regview.core.journal.journal import Journal, JournalError
from regview.services.deletion import executor_for


def entry_id_of(text: str) -> str:
    """An entry id, an id prefix, or the path of the entry's journal file (`<id>.json`)."""
    if text.endswith((".json", ".events")) or "/" in text:
        return Path(text).stem
    return text


async def resume(args: argparse.Namespace, text: str) -> int:
    journal = Journal()
    try:
        entry = journal.load(entry_id_of(text))
    except JournalError as exc:
        code = C.EXIT_NOT_FOUND if "matches" in str(exc) else C.EXIT_ERROR
        raise C.CliError(f"{exc} (see `regview trash list`)", code) from exc
    if journal.busy(entry.id):
        raise C.CliError(
            f"deletion {entry.id} is running right now (in this or another regview process); "
            "let it finish, or stop it, first"
        )
    why = why_not(entry)
    if why:
        C.note(why)
        if args.json:
            C.print_json({"resumed": entry.id, "deleted": [], "failed": [], "skipped": []})
        return C.EXIT_OK if "nothing is left" in why else C.EXIT_ERROR
    left = entry.unfinished()
    question = (
        f"Finish deletion {entry.id} in {entry.registry}/{entry.repository}: "
        f"{len(left)} item(s) not done yet?"
    )
    if not await asyncio.to_thread(C.confirm_destructive, args, question):
        return C.EXIT_REFUSED
    async with D.open_session(
        args, entry.registry, entry.repository, use_gitlab=needs_gitlab(entry)
    ) as s:
        executor = executor_for(s.deletion, journal, on_result=None if args.json else D.progress)
        with D.first_interrupt_cancels(executor):
            report = await resume_entry(executor, journal, entry.id)
    if args.json:
        C.print_json(report.to_json())
    else:
        t = report.totals()
        C.note(
            f"{entry.id}: {t['gone']} of {t['asked']} tag(s) gone "
            f"({t['deleted']} deleted, {t['deleted_verified']} verified after a lost reply, "
            f"{t['already_gone']} already gone); {t['not_deleted']} not deleted, "
            f"{t['placeholder']} on a placeholder, {t['unknown']} unknown, "
            f"{t['changed']} changed since the plan"
        )
    return C.EXIT_OK if report.all_gone else C.EXIT_ERROR
