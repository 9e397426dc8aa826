"""`regview rm IMAGE:TAG ...` and `regview rm --repository IMAGE`: delete safely.

Tags: plan → confirm → execute → recycle bin. Each tag goes on its own (never its siblings).
A repository: on GitLab with a usable API through GitLab's delete-repository call (after saving
every tagged manifest to the recycle bin); elsewhere every tag (and the manifests left
unreferenced) through the planner. A repository needs a typed confirmation at a terminal (the
repository path) or `--yes`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from regview.cli import common as C
from regview.cli import deleting as D
from regview.cli.help import with_examples
from regview.cli.resuming import resume
from regview.core import errors as E
from regview.core.deletion.plan import PlanOptions, Selection
from regview.core.journal.journal import Journal
from regview.services.deletion import delete_repository_on_gitlab

EXAMPLES = """\
  regview rm registry.example.com/team/app:pr-123
  regview rm registry.example.com/team/app:v1 registry.example.com/team/app:v2 --dry-run
  regview rm "$CI_REGISTRY_IMAGE:$CI_COMMIT_REF_SLUG" --yes --json
  regview rm --repository registry.example.com/team/old-app          (asks you to type the path)
  regview rm --repository "$CI_REGISTRY_IMAGE/review" --yes
  regview rm --resume 20250114-093012-a1b2c3 --yes --json   (finish a stopped or failed run)

With --json the exit code is 0 only when every tag asked for is verifiably gone; each tag's
"status" says what the registry holds (deleted, deleted-verified after a lost reply, not-deleted,
placeholder, unknown, ...) and "evidence" how that is known. Ctrl-C stops a run: the deletions
under way finish, the rest are reported "not-started" (exit 130); a second Ctrl-C stops at once
(`regview trash resume` finishes either).

Every deleted manifest is kept in the recycle bin first: `regview trash list`, then
`regview trash restore ID` while the registry still holds the blobs.

"""


NOT_CONFIRMED = "not confirmed: nothing was deleted"
INTERRUPTED = "interrupted (Ctrl-C) before this repository: nothing was deleted"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rm",
        help="delete tags (only the named tags; siblings stay) or a whole repository",
        description="Delete tags. Each tag is removed on its own (never its sibling tags); the "
        "manifests are saved first so `regview trash restore` can put them back. With "
        "--repository, delete a whole repository (GitLab: through its API).",
        **with_examples(EXAMPLES),
    )
    p.add_argument("images", nargs="*", metavar="IMAGE:TAG")
    p.add_argument(
        "--repository",
        metavar="IMAGE",
        help="delete this whole repository (every tag); a typed confirmation or --yes",
    )
    p.add_argument(
        "--resume",
        metavar="JOURNAL",
        help="finish a stopped or partly failed run: its recycle-bin id (or journal file); "
        "only the items not done yet, each re-checked against the run's plan",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="GitLab deletes repositories in the background: wait this long for it (default 60)",
    )
    D.add_delete_options(p)
    p.set_defaults(func=lambda args: D.run(args, _rm))


async def _rm(args: argparse.Namespace) -> int:
    if args.resume:
        if args.images or args.repository or args.dry_run:
            raise C.CliError("--resume takes no tags, --repository or --dry-run", C.EXIT_USAGE)
        return await resume(args, args.resume)
    if args.repository and args.images:
        raise C.CliError("name tags, or --repository IMAGE, not both", C.EXIT_USAGE)
    if args.repository:
        return await _rm_repository(args)
    if not args.images:
        raise C.CliError("name at least one IMAGE:TAG (or --repository IMAGE)", C.EXIT_USAGE)
    refs = [D.parse_image(x, need_tag=True) for x in args.images]
    groups: dict[tuple[str, str], list[str]] = {}
    for ref in refs:
        groups.setdefault((ref.address, ref.repository), []).append(ref.tag or "")
    out: dict[str, Any] = {"deleted": [], "failed": [], "skipped": []}
    plans: list[dict[str, Any]] = []
    code = C.EXIT_OK
    #: why the run stopped before a repository's tags (declined, interrupted), and those tags
    stopped: list[tuple[str, list[str]]] = []
    why_stopped = ""
    for (registry, repository), tags in groups.items():
        if why_stopped:
            stopped.append((repository, tags))  # not even looked at
            continue
        async with D.open_session(args, registry, repository) as s:
            try:
                facts = await D.gather(s, repository, with_referrers=args.referrers)
            except E.RegistryError as exc:
                # reading the repository failed: these tags were not touched; say so per tag
                C.error(exc.message)
                out["failed"].extend(
                    {"tag": t, "repository": repository, "error": exc.message} for t in tags
                )
                code = max(code, C.exit_code_for(exc))
                continue
            plan = D.plan(
                s, facts, Selection.of_tags(tags, "named on the command line"), D.options_from(args)
            )
            plans.append(plan.to_json())
            if not args.json or args.dry_run:
                D.print_plan(plan)
            if plan.refusal:
                out["failed"].extend(
                    {"tag": t, "repository": repository, "error": plan.refusal} for t in tags
                )
                code = max(code, D.refusal_code(facts))
                continue
            out["skipped"].extend(
                {"tag": r.tag, "repository": repository, "reason": r.reason} for r in plan.refused
            )
            out["skipped"].extend(
                {"tag": t, "repository": repository, "reason": "no such tag"}
                for t in plan.unknown_tags
            )
            if plan.unknown_tags:  # a named tag that is not there: "not found", as documented
                C.error(
                    f"no such tag in {registry}/{repository}: {', '.join(plan.unknown_tags)} "
                    "(check the spelling: `regview tags` lists them)"
                )
                code = max(code, C.EXIT_NOT_FOUND)
            if plan.is_empty and plan.refused and not args.dry_run:
                code = max(code, C.EXIT_REFUSED)  # every named tag refused (e.g. immutable)
            if args.dry_run or plan.is_empty:
                continue
            question = f"Delete {len(plan.tag_actions)} tag(s) from {registry}/{repository}?"
            if not await _confirm(args, question):
                # stop here, and still account for every tag asked for (this repository's
                # and the ones after it): nothing more is deleted
                why_stopped, code = NOT_CONFIRMED, C.EXIT_REFUSED
                stopped.append((repository, [a.tag for a in plan.tag_actions]))
                continue
            report = await D.execute(s, plan, quiet=args.json)
            part = report.to_json()
            D.merge(out, part, repository)
            _add_report(out, part, repository)
            if not report.ok or not report.all_gone or plan.refused:
                code = max(code, C.EXIT_ERROR)
            if not args.json:
                D.journal_note(report)
            if report.cancelled:  # Ctrl-C: the repositories after this one are not started
                why_stopped, code = INTERRUPTED, C.EXIT_INTERRUPTED
    out["skipped"].extend(
        {"tag": t, "repository": repository, "reason": why_stopped}
        for repository, tags in stopped
        for t in tags
    )
    if args.dry_run:
        out = {"plans": plans, **out}
    elif "totals" in out:
        out["verified"] = code == C.EXIT_OK
    if args.json:
        C.print_json(out)
    return code


def _add_report(out: dict[str, Any], part: dict[str, Any], repository: str) -> None:
    """The run report's per-tag statuses with their evidence, and the totals summed over
    repositories."""
    out.setdefault("tags", []).extend({**t, "repository": repository} for t in part["tags"])
    totals = out.setdefault("totals", {})
    for k, v in part["totals"].items():
        totals[k] = totals.get(k, 0) + v
    out.setdefault("journals", []).append(part["journal"])


async def _confirm(args: argparse.Namespace, question: str) -> bool:
    import asyncio

    return await asyncio.to_thread(C.confirm_destructive, args, question)


def confirm_typed(args: argparse.Namespace, path: str, what: str) -> bool:
    """`--yes`, or a person at a terminal who types the repository path. Else refuse."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        C.error(
            "refusing to delete a repository without --yes when standard input is not a "
            "terminal (nothing was changed)"
        )
        return False
    C.note(what)
    try:
        answer = input(f"Type the repository path ({path}) to delete it: ")
    except EOFError:
        return False
    if answer.strip() != path:
        C.error("the path typed does not match; nothing was deleted")
        return False
    return True


async def _rm_repository(args: argparse.Namespace) -> int:
    import asyncio

    ref = D.parse_image(args.repository, need_tag=False)
    if ref.tag or ref.digest:
        raise C.CliError(
            f"--repository takes a repository, without a tag or digest: {ref.registry}/"
            f"{ref.repository}",
            C.EXIT_USAGE,
        )
    registry, repository = ref.address, ref.repository
    async with D.open_session(args, registry, repository) as s:
        facts = await D.gather(s, repository, with_referrers=args.referrers)
        n = len(facts.tags)
        gl = s.deletion.gitlab
        if gl is not None and gl.repository_id is not None:
            what = (
                f"GitLab will delete the repository {registry}/{repository} ({n} tag(s)) of "
                f"project {gl.project_path}. The manifests are saved to the recycle bin "
                "first, but GitLab drops the repository's layers with it: a restore works only "
                "once those layers are pushed again. Space returns after GitLab's garbage "
                "collection."
            )
            if args.dry_run:
                result = {
                    "repository": repository,
                    "method": "gitlab-api",
                    "project": gl.project_path,
                    "tags": sorted(t.tag for t in facts.tags),
                }
                if args.json:
                    C.print_json(result)
                else:
                    C.note(what)
                return C.EXIT_OK
            if not await asyncio.to_thread(confirm_typed, args, repository, what):
                return C.EXIT_REFUSED
            journal_id, gone = await delete_repository_on_gitlab(
                s.deletion, facts, Journal(), wait=args.wait
            )
            deleted = sorted(t.tag for t in facts.tags) if gone else []
            if args.json:
                C.print_json(
                    {
                        "repository": repository,
                        "method": "gitlab-api",
                        "status": "deleted" if gone else "delete_scheduled",
                        "deleted": deleted,
                        "failed": [],
                        "skipped": [],
                        "journal": journal_id,
                    }
                )
            if gone:
                C.note(f"GitLab deleted {registry}/{repository}.")
            else:
                C.note(
                    f"GitLab accepted the deletion of {registry}/{repository} and is still "
                    "working on it; `regview repos` shows its status."
                )
            C.note(f"recycle bin: {journal_id} (regview trash restore {journal_id})")
            return C.EXIT_OK

        options = PlanOptions(delete_manifests=True, delete_referrers=args.delete_referrers)
        plan = D.plan(s, facts, Selection.repository(), options)
        if not args.json or args.dry_run:
            D.print_plan(plan)
        if plan.refusal:
            if args.json:
                C.print_json({"deleted": [], "failed": [], "skipped": [], "refused": plan.refusal})
            return D.refusal_code(facts)
        if args.dry_run:
            if args.json:
                C.print_json(
                    {"plans": [plan.to_json()], "deleted": [], "failed": [], "skipped": []}
                )
            return C.EXIT_OK
        if plan.is_empty:
            C.note(f"{registry}/{repository} has no tags; nothing to delete")
            if args.json:
                C.print_json({"deleted": [], "failed": [], "skipped": []})
            return C.EXIT_OK
        what = (
            f"Every tag of {registry}/{repository} ({len(plan.tag_actions)}) will be deleted, "
            "and the manifests left without a tag."
        )
        if not await asyncio.to_thread(confirm_typed, args, repository, what):
            return C.EXIT_REFUSED
        report = await D.execute(s, plan, quiet=args.json)
        if args.json:
            C.print_json(report.to_json())
        else:
            D.journal_note(report)
        return C.EXIT_OK if report.ok and report.all_gone else C.EXIT_ERROR
