"""`regview prune IMAGE --delete-regex RE ...`: a cleanup policy with GitLab's semantics.

Three ways to act on the policy, after the same preview:
- by default, through regview's planner and executor (safe tag deletion, recycle bin);
- `--gitlab-bulk`: GitLab's bulk delete API (GitLab deletes in the background; once an hour per
  repository; no recycle bin);
- `--save-to-gitlab`: save it as the project's cleanup policy, which GitLab then runs itself
  (the next run time is read back and shown).

On GitLab (API usable) the preview decides by the creation times GitLab's tag API reports, as
GitLab's cleanup does, rather than by the images' annotations.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regview.cli import common as C
from regview.cli import deleting as D
from regview.cli.help import with_examples
from regview.core.deletion.policy import (
    KeepList,
    Policy,
    PolicyError,
    PolicyPreview,
    parse_keep_list,
    preview,
)
from regview.core.gitlab.cleanup import (
    CADENCES,
    bulk_delete,
    check_gitlab_policy,
    check_gitlab_values,
    policy_attributes,
    save_policy,
)
from regview.util.units import human_size

EXAMPLES = f"""\
  regview prune registry.example.com/team/app --delete-regex '.*' --keep-n 10 --dry-run
  regview prune registry.example.com/team/app --delete-regex 'pr-.*' --older-than 14d --yes
  regview prune registry.example.com/team/app --delete-regex '.*' --keep-regex 'v[0-9.]+' \\
      --keep-file deployed-images.txt --json
  regview prune "$CI_REGISTRY_IMAGE" --delete-regex "$CI_COMMIT_REF_SLUG-.*" --yes
  regview prune gitlab.example.com:5050/g/app --delete-regex '.*' --keep-n 5 --older-than 30d \\
      --save-to-gitlab --cadence 7d --yes
  regview prune gitlab.example.com:5050/g/app --delete-regex 'dev-.*' --gitlab-bulk --yes

{D.CI_EXAMPLE}
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prune",
        help="delete tags by a cleanup policy (GitLab semantics; preview with --dry-run)",
        description="Keep rules win: 'latest', --keep-regex, the --keep-n newest, protected and "
        "in-use tags are never deleted; a tag goes only if it matches --delete-regex and is "
        "older than --older-than. Regexes are RE2 and anchored as GitLab anchors them. On "
        "GitLab the policy can also be run by GitLab's bulk delete or saved to the project.",
        **with_examples(EXAMPLES),
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--delete-regex", required=True, metavar="RE", help="tags that may go")
    p.add_argument("--keep-regex", metavar="RE", help="tags that always stay")
    p.add_argument("--keep-n", type=int, metavar="N", help="keep the N newest matching tags")
    p.add_argument("--older-than", metavar="AGE", help="1h, 7d, 14d, 30d, 90d, 1month …")
    p.add_argument("--keep-file", metavar="F", help="references in use, one per line ('-': stdin)")
    p.add_argument("--protect", action="append", metavar="TAG", help="never delete this tag")
    gl = p.add_mutually_exclusive_group()
    gl.add_argument(
        "--save-to-gitlab",
        action="store_true",
        help="save the policy as the GitLab project's cleanup policy (GitLab runs it)",
    )
    gl.add_argument(
        "--gitlab-bulk",
        action="store_true",
        help="run it now through GitLab's bulk delete API (once an hour; no recycle bin)",
    )
    p.add_argument("--cadence", choices=CADENCES, help="with --save-to-gitlab: how often it runs")
    D.add_delete_options(p)
    p.set_defaults(func=lambda args: D.run(args, _prune))


def _policy(args: argparse.Namespace, repository: str) -> Policy:
    keep_list = KeepList()
    if args.keep_file:
        try:
            # bytes, decoded strictly: stdin's own decoding would smuggle a binary file through
            # as escaped garbage, and an unreadable keep list must never mean "keep nothing"
            raw = (
                sys.stdin.buffer.read()
                if args.keep_file == "-"
                else Path(args.keep_file).read_bytes()
            )
            text = raw.decode("utf-8-sig")
            if "\x00" in text:  # valid UTF-8 yet binary (zeros, UTF-16): not a list of lines
                raise UnicodeDecodeError("utf-8", raw, raw.index(0), raw.index(0) + 1, "NUL")
        except OSError as exc:
            raise PolicyError(
                f"cannot read the keep file {args.keep_file}: {exc.strerror}"
            ) from exc
        except UnicodeDecodeError as exc:
            source = "on standard input" if args.keep_file == "-" else args.keep_file
            raise PolicyError(
                f"the keep file {source} is not text (byte {exc.start} is not UTF-8): "
                "give a text file with one image reference per line"
            ) from exc
        keep_list = parse_keep_list(text, repository)
    policy = Policy(
        name_regex_delete=args.delete_regex,
        name_regex_keep=args.keep_regex or "",
        keep_n=args.keep_n,
        older_than=args.older_than or "",
        protected=tuple(args.protect or ()),
        keep_list=keep_list,
    )
    policy.validate()
    return policy


def _show_preview(result: PolicyPreview, *, json_out: bool, stream: Any = None) -> None:
    out = stream if stream is not None else sys.stdout
    if json_out:
        C.print_json(result.to_json(), stream=out)
        return
    for d in result.delete:
        print(f"delete {d.tag}: {d.reason}", file=out)
    for d in result.keep:
        print(f"keep   {d.tag}: {d.reason}", file=out)
    C.note(
        f"{len(result.delete)} to delete, {len(result.keep)} kept; "
        f"frees {human_size(result.reclaimable_bytes, unknown='-')} after garbage collection"
    )


async def _prune(args: argparse.Namespace) -> int:
    ref = D.parse_image(args.image, need_tag=False)
    if ref.tag or ref.digest:
        raise C.CliError(
            f"prune takes a repository, without a tag or digest: {ref.registry}/{ref.repository}",
            C.EXIT_USAGE,
        )
    policy = _policy(args, ref.repository)
    if args.cadence and not args.save_to_gitlab:
        raise C.CliError("--cadence goes with --save-to-gitlab", C.EXIT_USAGE)
    gitlab_mode = args.save_to_gitlab or args.gitlab_bulk
    if args.save_to_gitlab:
        check_gitlab_policy(policy, "a policy saved to GitLab")
        check_gitlab_values(policy)
        policy_attributes(policy, cadence=args.cadence)  # refuses a bad cadence up front
    elif args.gitlab_bulk:
        check_gitlab_policy(policy, "GitLab's bulk delete")
    async with D.open_session(args, ref.address, ref.repository, need_api=gitlab_mode) as s:
        facts = await D.gather(s, ref.repository, with_referrers=args.referrers)
        # on GitLab, decide by the dates GitLab itself uses
        tags = await D.gitlab_dates(s, facts.tags)
        result = preview(policy, tags, datetime.now(UTC))
        for w in result.warnings:
            C.note(f"warning: {w}")
        if args.dry_run:
            _show_preview(result, json_out=args.json)
            if args.save_to_gitlab:
                C.note(
                    "would save to GitLab: "
                    + ", ".join(f"{k}={v!r}" for k, v in policy_attributes(policy).items())
                )
            return C.EXIT_OK
        if args.save_to_gitlab:
            return await _save(args, s, policy, result)
        if args.gitlab_bulk:
            return await _bulk(args, s, policy, result)

        plan = D.plan(s, facts, result.selection(), D.options_from(args))
        if not args.json:
            D.print_plan(plan)
        if plan.refusal:
            if args.json:
                C.print_json({"deleted": [], "failed": [], "skipped": [], "refused": plan.refusal})
            return D.refusal_code(facts)
        out: dict[str, Any] = {"deleted": [], "failed": [], "skipped": []}
        out["skipped"].extend({"tag": r.tag, "reason": r.reason} for r in plan.refused)
        if plan.is_empty:
            if args.json:
                C.print_json(out)
            else:
                C.note("nothing to delete")
            return C.EXIT_OK
        question = f"Delete {len(plan.tag_actions)} tag(s) from {ref.registry}/{ref.repository}?"
        if not await asyncio.to_thread(C.confirm_destructive, args, question):
            return C.EXIT_REFUSED
        report = await D.execute(s, plan, quiet=args.json)
        D.merge(out, report.to_json())
        out["journal"] = report.journal_id
        if args.json:
            C.print_json(out)
        else:
            D.journal_note(report)
        return C.EXIT_OK if report.ok else C.EXIT_ERROR


async def _save(
    args: argparse.Namespace, s: D.Session, policy: Policy, result: PolicyPreview
) -> int:
    gl = s.deletion.gitlab
    assert gl is not None  # need_api: open_session stopped otherwise
    project = gl.project_path
    if not args.json:
        _show_preview(result, json_out=False, stream=sys.stderr)
    question = (
        f"Save this cleanup policy to GitLab project {project}? GitLab then runs it on its "
        f"schedule on every image of the project (the preview above covers "
        f"{gl.repository_path} only)."
    )
    if not await asyncio.to_thread(C.confirm_destructive, args, question):
        return C.EXIT_REFUSED
    saved = await save_policy(gl.api, gl.target, policy, cadence=args.cadence)
    when = C.rfc3339(saved.next_run_at)
    if args.json:
        C.print_json(
            {
                "project": project,
                "policy": saved.attributes,
                "next_run_at": when,
                "preview": result.to_json(),
            }
        )
    else:
        print(f"Saved the cleanup policy of {project}.")
        print(f"next run: {when or 'not scheduled (the policy is disabled)'}")
    return C.EXIT_OK


async def _bulk(
    args: argparse.Namespace, s: D.Session, policy: Policy, result: PolicyPreview
) -> int:
    gl = s.deletion.gitlab
    assert gl is not None  # need_api: open_session stopped otherwise
    where = f"{s.conn.host}/{gl.repository_path}"
    if not args.json:
        _show_preview(result, json_out=False, stream=sys.stderr)
    if not result.delete:
        C.note("the policy selects no tag; nothing was sent to GitLab")
        if args.json:
            C.print_json({"bulk_delete": "not-sent", **result.to_json()})
        return C.EXIT_OK
    question = (
        f"Ask GitLab to delete {len(result.delete)} tag(s) from {where}? GitLab's bulk delete "
        "runs in the background and keeps nothing in regview's recycle bin."
    )
    if not await asyncio.to_thread(C.confirm_destructive, args, question):
        return C.EXIT_REFUSED
    await bulk_delete(gl.api, gl.target, policy)
    if args.json:
        C.print_json({"bulk_delete": "accepted", **result.to_json()})
    else:
        print(
            f"GitLab accepted the bulk delete for {where}; it deletes the "
            f"{len(result.delete)} tag(s) above in the background (check with regview tags)."
        )
    return C.EXIT_OK
