"""`regview rm IMAGE:TAG ...`: delete tags safely (plan → confirm → execute → journal).

Also holds the helpers `cmd_prune` and `cmd_trash` share: connecting to a registry from an
image reference, the confirmation rule (no `--yes` and no terminal → refuse), progress output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from regview.core import errors as E
from regview.core.client import RegistryClient
from regview.core.delete_port import ClientPort, gather_facts
from regview.core.executor import ExecutionReport, Executor, ItemResult
from regview.core.journal import Journal, JournalError
from regview.core.model import CredentialKind, Credentials, Endpoint
from regview.core.plan import DeletePlan, PlanOptions, Selection, make_plan
from regview.spec.errors import SpecError
from regview.spec.reference import Reference

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


def credentials_for(registry: str, repository: str) -> Credentials | None:
    """REGVIEW_USERNAME/REGVIEW_PASSWORD, else the logins people already have (Docker,
    containers auth files, GitLab CI variables)."""
    user, secret = os.environ.get("REGVIEW_USERNAME"), os.environ.get("REGVIEW_PASSWORD")
    if user and secret:
        return Credentials(user, secret, CredentialKind.PASSWORD)
    from regview.settings.importers import find_login

    login = find_login(registry, repository, include_ci=True)
    if login is None:
        return None
    return Credentials(login.username, login.secret, login.kind)


def client_for(registry: str, repository: str, insecure: bool = False) -> RegistryClient:
    from regview.paths import default_paths
    from regview.settings.profiles import registry_url

    endpoint = Endpoint(registry_url(registry), insecure=insecure)
    # The content cache lets the executor save manifests to the recycle bin without
    # fetching again what gathering the facts just read.
    return RegistryClient(
        endpoint, credentials_for(registry, repository), cache_dir=default_paths().cache
    )


def parse_image(text: str, *, need_tag: bool) -> Reference:
    ref = Reference.parse(text)
    if need_tag and not ref.tag:
        raise SpecError(f"{text!r} names no tag: use IMAGE:TAG")
    return ref


def may_proceed(args: argparse.Namespace, question: str) -> bool:
    """`--yes`, or a person at a terminal who answers yes. Never a silent default."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(
            "regview: refusing to delete without --yes when not run from a terminal "
            "(nothing was deleted); check the plan with --dry-run first",
            file=sys.stderr,
        )
        return False
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def print_plan(plan: DeletePlan, out: Any = None) -> None:
    out = out if out is not None else sys.stderr
    if plan.refusal:
        print(f"regview: {plan.refusal}", file=out)
        return
    print(f"Plan for {plan.registry}/{plan.repository}:", file=out)
    for a in plan.tag_actions:
        extra = f" (manifest stays: {a.note})" if a.note else ""
        print(f"  delete tag {a.tag}  [{a.method.description}] — {a.reason}{extra}", file=out)
    for m in plan.manifest_actions:
        print(f"  delete {m.role} {m.digest} — {m.reason}", file=out)
    for r in plan.refused:
        print(f"  cannot delete {r.tag}: {r.reason}", file=out)
    blast = plan.blast
    if blast is not None:
        for digest, tags in blast.shared_digests.items():
            print(f"  note: {digest[:19]} stays, also tagged {', '.join(tags)}", file=out)
        if blast.orphaned_children:
            print(
                f"  note: {len(blast.orphaned_children)} index child(ren) left untagged", file=out
            )
        print(
            f"  about {blast.reclaimable_bytes:,} bytes in {blast.reclaimable_blobs} blob(s) "
            f"become reclaimable. {blast.gc_note}",
            file=out,
        )
    for w in plan.warnings:
        print(f"  warning: {w}", file=out)


def progress(result: ItemResult) -> None:
    label = result.name if result.kind == "tag" else f"manifest {result.name[:19]}"
    print(f"  {result.outcome}: {label} — {result.reason}", file=sys.stderr)


async def execute(client: RegistryClient, plan: DeletePlan, quiet: bool) -> ExecutionReport:
    executor = Executor(ClientPort(client), Journal(), on_result=None if quiet else progress)
    return await executor.run(plan)


def options_from(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(
        delete_manifests=getattr(args, "delete_manifests", False),
        delete_referrers=getattr(args, "delete_referrers", False),
    )


async def _rm(args: argparse.Namespace) -> int:
    try:
        refs = [parse_image(x, need_tag=True) for x in args.images]
    except SpecError as exc:
        print(f"regview rm: {exc}", file=sys.stderr)
        return EXIT_USAGE
    groups: dict[tuple[str, str], list[str]] = {}
    for ref in refs:
        groups.setdefault((ref.registry, ref.repository), []).append(ref.tag or "")
    out: dict[str, Any] = {"deleted": [], "failed": [], "skipped": []}
    plans: list[dict[str, Any]] = []
    code = EXIT_OK
    for (registry, repository), tags in groups.items():
        async with client_for(registry, repository, args.insecure) as client:
            port = ClientPort(client)
            try:
                facts = await gather_facts(port, repository, with_referrers=args.referrers)
            except E.RegistryError as exc:
                for t in tags:
                    out["failed"].append({"tag": t, "repository": repository, "error": exc.message})
                code = EXIT_FAILED
                continue
            plan = make_plan(
                facts, Selection.of_tags(tags, "named on the command line"), options_from(args)
            )
            plans.append(plan.to_json())
            if not args.json or args.dry_run:
                print_plan(plan)
            if plan.refusal:
                for t in tags:
                    out["failed"].append(
                        {"tag": t, "repository": repository, "error": plan.refusal}
                    )
                code = EXIT_REFUSED
                continue
            for r in plan.refused:
                out["skipped"].append({"tag": r.tag, "repository": repository, "reason": r.reason})
            for t in plan.unknown_tags:
                out["skipped"].append({"tag": t, "repository": repository, "reason": "no such tag"})
            if args.dry_run or plan.is_empty:
                continue
            if not may_proceed(
                args, f"Delete {len(plan.tag_actions)} tag(s) from {registry}/{repository}?"
            ):
                return EXIT_REFUSED
            report = await execute(client, plan, args.json)
            part = report.to_json()
            out["deleted"].extend(part["deleted"])
            out["failed"].extend({**f, "repository": repository} for f in part["failed"])
            out["skipped"].extend({**s, "repository": repository} for s in part["skipped"])
            if not report.ok:
                code = EXIT_FAILED
            if not args.json:
                print(
                    f"journal: {report.journal_id} (restore with: regview trash restore {report.journal_id})",
                    file=sys.stderr,
                )
    if args.dry_run:
        out = {"plans": plans, **out}
    if args.json:
        print(json.dumps(out, indent=2))
    return code


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="show the plan, delete nothing")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument(
        "--insecure", action="store_true", help="allow plain http to a non-loopback registry"
    )
    p.add_argument(
        "--delete-manifests",
        action="store_true",
        help="also delete manifests left untagged and unreferenced (default: leave to GC)",
    )
    p.add_argument(
        "--delete-referrers",
        action="store_true",
        help="also delete signatures/SBOMs of deleted manifests (default: keep and warn)",
    )
    p.add_argument(
        "--referrers",
        action="store_true",
        help="look up referrers of every manifest first (one request per manifest)",
    )


def run_async(coro: Any) -> int:
    try:
        return int(asyncio.run(coro))
    except (E.RegistryError, JournalError) as exc:
        print(f"regview: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("regview: interrupted; see `regview trash list` for what happened", file=sys.stderr)
        return 130


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rm",
        help="delete tags safely (only the named tags; siblings stay)",
        description="Delete tags. Each tag is removed on its own (never its sibling tags); the "
        "manifests are saved first so `regview trash restore` can put them back.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE:TAG")
    add_common(p)
    p.set_defaults(func=lambda args: run_async(_rm(args)))
