"""`regview trash list` / `regview trash restore ID`: the recycle bin of deletions."""

from __future__ import annotations

import argparse
import json
import sys

from regview.cli.cmd_rm import EXIT_FAILED, EXIT_OK, client_for, run_async
from regview.core.delete_port import ClientPort
from regview.core.journal import Journal, JournalError, restore


def _list(args: argparse.Namespace) -> int:
    journal = Journal()
    journal.expire()
    entries = journal.entries()
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return EXIT_OK
    if not entries:
        print("The recycle bin is empty.", file=sys.stderr)
    for e in entries:
        tags = [i.name for i in e.deleted_tags()]
        shown = ", ".join(tags[:5]) + (" …" if len(tags) > 5 else "")
        status = "" if e.status == "finished" else f" [{e.status}]"
        print(
            f"{e.id}  {e.created:%Y-%m-%d %H:%M}  {e.registry}/{e.repository}  "
            f"{len(tags)} tag(s): {shown}{status}"
        )
    return EXIT_OK


async def _restore(args: argparse.Namespace) -> int:
    journal = Journal()
    try:
        entry = journal.load(args.id)
    except JournalError as exc:
        print(f"regview trash restore: {exc}", file=sys.stderr)
        return EXIT_FAILED
    async with client_for(entry.registry, entry.repository, args.insecure) as client:
        results = await restore(journal, entry.id, ClientPort(client), tags=args.tag or None)
    if args.json:
        print(
            json.dumps(
                [{"name": r.name, "restored": r.restored, "reason": r.reason} for r in results],
                indent=2,
            )
        )
    else:
        for r in results:
            print(f"{'restored' if r.restored else 'NOT restored'}: {r.name} — {r.reason}")
    return EXIT_OK if all(r.restored for r in results) else EXIT_FAILED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trash", help="what regview deleted, and putting it back")
    tsub = p.add_subparsers(dest="trash_command", metavar="ACTION", required=True)
    lp = tsub.add_parser("list", help="deletions kept in the recycle bin")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(func=_list)
    rp = tsub.add_parser("restore", help="re-push deleted manifests and tags while the blobs exist")
    rp.add_argument("id", metavar="ID")
    rp.add_argument("--tag", action="append", help="restore only this tag (repeatable)")
    rp.add_argument("--json", action="store_true")
    rp.add_argument("--insecure", action="store_true")
    rp.set_defaults(func=lambda args: run_async(_restore(args)))
