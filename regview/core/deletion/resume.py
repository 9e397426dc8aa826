"""Finishing a deletion run that stopped (killed, cancelled) or left items failed.

    why_not(entry) -> str                         "" when the entry can be resumed, else why not
    plan_of(entry) -> DeletePlan                  the plan the run was confirmed with
    await resume(executor, journal, entry_id)     run the rest; the report covers every item

The plan comes back from the journal entry (its head keeps the plan, the items keep the media
types), not from a fresh look at the registry: a resume carries out what was confirmed, and
nothing else. Every item the entry does not count as done is re-checked against that plan
before anything is sent (`PlanRun.check`: a tag that points somewhere else now is skipped and
said so); a tag found gone whose deletion the entry shows as sent is reported deleted, with the
journal and the 404 as the evidence. The resume appends to the same entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regview.core.deletion.plan import (
    DeletePlan,
    ManifestAction,
    ManifestRole,
    Method,
    PlanOptions,
    TagAction,
)
from regview.core.journal.journal import Journal, JournalEntry, JournalError

if TYPE_CHECKING:
    from regview.core.deletion.executor import ExecutionReport, Executor


def why_not(entry: JournalEntry) -> str:
    """Why this entry cannot be resumed, or "" when it can."""
    if entry.plan.get("whole_repository"):
        return (
            f"{entry.id} was a whole-repository deletion through GitLab's API, which GitLab "
            "finishes on its own; `regview repos` shows whether the repository is gone"
        )
    if not isinstance(entry.plan.get("tags"), list):
        return f"{entry.id} does not record its plan (made by an older regview)"
    if not entry.unfinished():
        return f"nothing is left to do in {entry.id}: every item is done"
    return ""


def _str(d: dict[str, Any], key: str) -> str:
    value = d.get(key, "")
    return value if isinstance(value, str) else ""


def plan_of(entry: JournalEntry) -> DeletePlan:
    """The plan recorded in `entry`, rebuilt; JournalError when the record is unusable."""
    rec = entry.plan
    why = why_not(entry)
    if why and "nothing is left" not in why:
        raise JournalError(why)
    try:
        tags = []
        for t in rec.get("tags", []):
            item = entry.items.get(f"tag:{t['tag']}")
            tags.append(
                TagAction(
                    tag=str(t["tag"]),
                    digest=str(t["digest"]),
                    media_type=item.media_type if item is not None else "",
                    method=Method(t["method"]),
                    reason=_str(t, "reason"),
                    manifest_untagged=bool(t.get("manifest_untagged")),
                    manifest_deletable=bool(t.get("manifest_deletable")),
                    shared_with=tuple(str(x) for x in t.get("shared_with", [])),
                    note=_str(t, "note"),
                )
            )
        manifests = []
        for m in rec.get("manifests", []):
            item = entry.items.get(f"manifest:{m['digest']}")
            manifests.append(
                ManifestAction(
                    digest=str(m["digest"]),
                    media_type=item.media_type if item is not None else "",
                    role=ManifestRole(m["role"]),
                    reason=_str(m, "reason"),
                    parent=_str(m, "parent"),
                )
            )
        options = rec.get("options") or {}
        pid, rid = rec.get("gitlab_project_id"), rec.get("gitlab_repository_id")
        return DeletePlan(
            registry=entry.registry,
            repository=entry.repository,
            options=PlanOptions(
                delete_manifests=bool(options.get("delete_manifests")),
                delete_referrers=bool(options.get("delete_referrers")),
            ),
            tag_actions=tuple(tags),
            manifest_actions=tuple(manifests),
            gitlab_project_id=pid if isinstance(pid, int) else None,
            gitlab_repository_id=rid if isinstance(rid, int) else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise JournalError(f"the plan recorded in {entry.id} is damaged: {exc!r}") from exc


async def resume(executor: Executor, journal: Journal, entry_id: str) -> ExecutionReport:
    """Finish the entry's run with `executor` (whose port reaches the entry's registry)."""
    entry = journal.load(entry_id)
    why = why_not(entry)
    if why:
        raise JournalError(why)
    return await executor.run(plan_of(entry), resume=entry)


def needs_gitlab(entry: JournalEntry) -> bool:
    return any(i.method == str(Method.GITLAB_API) for i in entry.unfinished())
