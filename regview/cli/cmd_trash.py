"""`regview trash list` / `regview trash restore ID`: the recycle bin of deletions."""

from __future__ import annotations

import argparse

from regview.cli import common as C
from regview.cli import deleting as D
from regview.cli.help import with_examples
from regview.cli.resuming import resume
from regview.core.journal.journal import Journal, JournalError
from regview.services.deletion import restore_entry

EXAMPLES = """\
  regview trash list
  regview trash list --json
  regview trash restore 20250114-093012-a1b2c3            (an id prefix is enough)
  regview trash restore 20250114-093012 --tag v1.2 --tag v1.3
  regview trash resume 20250114-093012 --yes     (finish a stopped or partly failed deletion)

A deleted manifest can come back while the registry still holds its blobs (until its garbage
collection runs); restore says which tags can no longer be restored, and why.

"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "trash",
        help="what regview deleted, and putting it back",
        description="The recycle bin: every deletion regview made, with the manifests it saved "
        "first.",
        **with_examples(EXAMPLES),
    )
    tsub = p.add_subparsers(dest="trash_command", metavar="ACTION", required=True)
    lp = tsub.add_parser(
        "list",
        help="deletions kept in the recycle bin",
        **with_examples(EXAMPLES),
    )
    C.add_json_option(lp)
    lp.set_defaults(func=lambda args: D.run(args, _list))
    rp = tsub.add_parser(
        "restore",
        help="re-push deleted manifests and tags while the blobs exist",
        **with_examples(EXAMPLES),
    )
    rp.add_argument("id", metavar="ID")
    rp.add_argument("--tag", action="append", help="restore only this tag (repeatable)")
    C.add_json_option(rp)
    C.add_network_options(rp)
    rp.set_defaults(func=lambda args: D.run(args, _restore))
    sp = tsub.add_parser(
        "resume",
        help="finish a deletion that stopped or left items failed (only what is not done)",
        description="Finish the run recorded in a recycle-bin entry: only its items not done "
        "yet, each re-checked against the run's plan (a tag that changed since is skipped). "
        "Exit code 0 only when every tag of the run is verifiably gone.",
        **with_examples(EXAMPLES),
    )
    sp.add_argument("id", metavar="ID")
    sp.add_argument(
        "--yes", "-y", action="store_true", help="do not ask (needed without a terminal)"
    )
    sp.add_argument("--api", metavar="URL", help="GitLab API base to use (else the saved one)")
    C.add_json_option(sp)
    C.add_network_options(sp)
    sp.set_defaults(func=lambda args: D.run(args, lambda a: resume(a, a.id)))


async def _list(args: argparse.Namespace) -> int:
    journal = Journal()
    journal.expire()
    entries = journal.entries()
    if args.json:
        C.print_json([e.to_json() for e in entries])
        return C.EXIT_OK
    if not entries:
        C.note("The recycle bin is empty.")
    for e in entries:
        tags = [i.name for i in e.deleted_tags()]
        shown = ", ".join(tags[:5]) + (" …" if len(tags) > 5 else "")
        status = "" if e.status == "finished" else f" [{e.status}]"
        left = len(e.unfinished())
        if left and not e.plan.get("whole_repository"):
            status += f" [{left} not done: regview trash resume {e.id}]"
        print(
            f"{e.id}  {e.created:%Y-%m-%d %H:%M}  {e.registry}/{e.repository}  "
            f"{len(tags)} tag(s): {shown}{status}"
        )
    return C.EXIT_OK


async def _restore(args: argparse.Namespace) -> int:
    journal = Journal()
    try:
        entry = journal.load(args.id)
    except JournalError as exc:
        code = C.EXIT_NOT_FOUND if "matches" in str(exc) else C.EXIT_ERROR
        raise C.CliError(f"{exc} (see `regview trash list`)", code) from exc
    async with D.open_session(args, entry.registry, entry.repository, use_gitlab=False) as s:
        results = await restore_entry(journal, entry.id, s.deletion, tags=args.tag or None)
    if args.json:
        C.print_json(
            [{"name": r.name, "restored": r.restored, "reason": r.reason} for r in results]
        )
    else:
        for r in results:
            print(f"{'restored' if r.restored else 'NOT restored'}: {r.name} — {r.reason}")
    if not results:
        C.note(f"nothing in {entry.id} left to restore")
    return C.EXIT_OK if all(r.restored for r in results) else C.EXIT_ERROR
