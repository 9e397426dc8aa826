"""`regview prune IMAGE --delete-regex RE ...`: a cleanup policy with GitLab's semantics, run
through the planner (preview with `--dry-run`)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regview.cli.cmd_rm import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    add_common,
    client_for,
    execute,
    may_proceed,
    options_from,
    parse_image,
    print_plan,
    run_async,
)
from regview.core import errors as E
from regview.core.delete_port import ClientPort, gather_facts
from regview.core.plan import make_plan
from regview.core.policy import KeepList, Policy, PolicyError, parse_keep_list, preview
from regview.spec.errors import SpecError


def _policy(args: argparse.Namespace, repository: str) -> Policy:
    keep_list = KeepList()
    if args.keep_file:
        try:
            text = sys.stdin.read() if args.keep_file == "-" else Path(args.keep_file).read_text()
        except OSError as exc:
            raise PolicyError(
                f"cannot read the keep file {args.keep_file}: {exc.strerror}"
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


async def _prune(args: argparse.Namespace) -> int:
    try:
        ref = parse_image(args.image, need_tag=False)
        policy = _policy(args, ref.repository)
    except (SpecError, PolicyError) as exc:
        print(f"regview prune: {exc}", file=sys.stderr)
        return EXIT_USAGE
    async with client_for(ref.registry, ref.repository, args.insecure) as client:
        try:
            facts = await gather_facts(
                ClientPort(client), ref.repository, with_referrers=args.referrers
            )
        except E.RegistryError as exc:
            print(f"regview prune: {exc.message}", file=sys.stderr)
            return EXIT_FAILED
        result = preview(policy, facts.tags, datetime.now(UTC))
        for w in result.warnings:
            print(f"warning: {w}", file=sys.stderr)
        if args.dry_run:
            if args.json:
                print(json.dumps(result.to_json(), indent=2))
            else:
                for d in result.delete:
                    print(f"delete {d.tag}: {d.reason}")
                for d in result.keep:
                    print(f"keep   {d.tag}: {d.reason}")
                print(
                    f"{len(result.delete)} to delete, {len(result.keep)} kept, about "
                    f"{result.reclaimable_bytes:,} bytes reclaimable after GC",
                    file=sys.stderr,
                )
            return EXIT_OK
        plan = make_plan(facts, result.selection(), options_from(args))
        if not args.json:
            print_plan(plan)
        if plan.refusal:
            return EXIT_REFUSED
        if plan.is_empty:
            if args.json:
                print(json.dumps({"deleted": [], "failed": [], "skipped": []}))
            return EXIT_OK
        if not may_proceed(
            args, f"Delete {len(plan.tag_actions)} tag(s) from {ref.registry}/{ref.repository}?"
        ):
            return EXIT_REFUSED
        report = await execute(client, plan, args.json)
        out: dict[str, Any] = report.to_json()
        out["skipped"].extend({"tag": r.tag, "reason": r.reason} for r in plan.refused)
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            print(f"journal: {report.journal_id}", file=sys.stderr)
        return EXIT_OK if report.ok else EXIT_FAILED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prune",
        help="delete tags by a cleanup policy (GitLab semantics; preview with --dry-run)",
        description="Keep rules win: 'latest', --keep-regex, the --keep-n newest, protected and "
        "in-use tags are never deleted; a tag goes only if it matches --delete-regex and is "
        "older than --older-than. Regexes are RE2 and match the whole tag name.",
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--delete-regex", required=True, metavar="RE")
    p.add_argument("--keep-regex", metavar="RE")
    p.add_argument("--keep-n", type=int, metavar="N")
    p.add_argument("--older-than", metavar="AGE", help="1h, 7d, 14d, 30d, 90d, 1month …")
    p.add_argument("--keep-file", metavar="F", help="references in use, one per line ('-': stdin)")
    p.add_argument("--protect", action="append", metavar="TAG", help="never delete this tag")
    add_common(p)
    p.set_defaults(func=lambda args: run_async(_prune(args)))
