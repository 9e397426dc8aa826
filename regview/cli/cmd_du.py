"""`regview du REGISTRY[/NAMESPACE]`: where the space goes, one line per repository.

Each repository's tags are read (as `regview tags` reads them: manifests and configs, no
layer downloads), and its `stored` bytes are the union of the blobs its tags use, each blob
once (`regview.core.frees`). Largest first. Progress goes to stderr, so stdout stays clean.

`--json` prints a list of objects with exactly the keys `repository`, `tags` (count), `stored`
(bytes, de-duplicated within the repository), `untagged` (bytes only untagged manifests hold,
where the registry's API lists them — Harbor; null: the registry lists tags only, so it is not
known), `untagged_exact` (true: de-duplicated against the blobs tags keep; false: an upper
bound, the API's sizes summed — more than `core.untagged.READ_LIMIT` untagged artifacts, one
unreadable, or some tags not read; null with `untagged`), `complete`
(false when some tags could not be read: then `stored` is a lower bound) and `gitlab_size`
(GitLab's own figure for the repository, when the repositories came from its API and it gives
one — gitlab.com does, self-managed instances mostly do not; else null). A repository that
could not be read at all keeps its line with null figures and a warning on stderr.

A layer shared by several repositories (cross-repository mounts, a common base image) counts
in each of them: the sum of the lines can exceed what the registry holds on disk.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from regview.cli import common as C
from regview.cli.cmd_repos import _connect, list_repositories, split_target
from regview.cli.help import with_examples
from regview.core import errors as E
from regview.core.model import RepositoryInfo
from regview.util.units import human_size

#: the keys of each `--json` object, a documented contract
DU_KEYS_DOC = frozenset(
    {"repository", "tags", "stored", "untagged", "untagged_exact", "complete", "gitlab_size"}
)

EXAMPLES = """\
  regview du registry.example.com
  regview du registry.example.com/team --json | jq -r '.[0].repository'
  regview du gitlab.example.com:5050/group --api https://gitlab.example.com/api/v4
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "du",
        help="bytes stored per repository (shared layers counted once), largest first",
        description="Show how many bytes each repository of a registry (or of a namespace) "
        "stores, each blob counted once within a repository, largest first.",
        **with_examples(EXAMPLES),
    )
    p.add_argument("target", metavar="REGISTRY[/NAMESPACE]")
    p.add_argument(
        "--concurrency", type=int, default=16, help="requests in flight at once (default 16)"
    )
    p.add_argument("--api", metavar="URL", help="GitLab API base to use (else the saved one)")
    C.add_network_options(p)
    C.add_json_option(p)
    p.set_defaults(func=lambda args: C.run(lambda: _du(args)))


@dataclass(frozen=True, slots=True)
class Usage:
    repository: str
    tags: int | None
    stored: int | None
    untagged: int | None = None
    complete: bool = False
    gitlab_size: int | None = None
    untagged_exact: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "tags": self.tags,
            "stored": self.stored,
            "untagged": self.untagged,
            "untagged_exact": self.untagged_exact,
            "complete": self.complete,
            "gitlab_size": self.gitlab_size,
        }


def largest_first(rows: list[Usage]) -> list[Usage]:
    """Largest `stored` first; unreadable repositories last; ties by name."""
    return sorted(rows, key=lambda u: (u.stored is None, -(u.stored or 0), u.repository))


class _Progress:
    """One line per repository on stderr, and a running count on a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()

    def reading(self, i: int, path: str) -> None:
        C.note(f"[{i}/{self.total}] reading {path}…")

    def done(self, usage: Usage) -> None:
        if usage.stored is None:
            return
        C.note(
            f"      {usage.tags:,} tags, {human_size(usage.stored, unknown='-')} stored"
            + ("" if usage.complete else " (at least: some tags could not be read)")
        )


async def _du(args: argparse.Namespace) -> int:
    import asyncio

    from regview.core.frees import TagSpace
    from regview.core.inventory import load_tags
    from regview.core.untagged import untagged_usage

    if args.concurrency < 1:
        raise C.CliError("--concurrency must be at least 1", C.EXIT_USAGE)
    registry, namespace = split_target(args.target)
    conn = await _connect(args, registry, namespace)
    repos = await list_repositories(conn, namespace)
    progress = _Progress(len(repos))
    rows: list[Usage] = []
    gitlab = await _gitlab_sizes(conn, repos)  # before the tags: one request per repository
    async with conn.client(concurrency=args.concurrency) as client:
        for i, repo in enumerate(repos, 1):
            progress.reading(i, repo.path)
            try:
                tags = await load_tags(client, repo.path)
            except (E.NotFound, E.AccessDenied, E.ProtocolError) as exc:
                C.error(f"warning: {client.registry}/{repo.path}: {exc.message}")
                rows.append(Usage(repo.path, None, None, gitlab_size=gitlab.get(repo.path)))
                continue
            space = await asyncio.to_thread(TagSpace.of, tags)
            untagged = await untagged_usage(client, repo.path, tags)
            usage = Usage(
                repo.path,
                len(tags),
                space.stored,
                None if untagged is None else untagged.bytes,
                space.complete,
                gitlab.get(repo.path),
                None if untagged is None else not untagged.upper_bound,
            )
            progress.done(usage)
            rows.append(usage)
    ordered = largest_first(rows)
    if args.json:
        C.print_json([u.to_json() for u in ordered])
        return C.EXIT_OK
    table = [
        [
            u.repository,
            "-" if u.tags is None else f"{u.tags:,}",
            "-" if u.stored is None else ("" if u.complete else "≥ ") + human_size(u.stored),
        ]
        for u in ordered
    ]
    headers = ["REPOSITORY", "TAGS", "STORED"]
    # Columns only where some figure is known: untagged manifests, GitLab's own size.
    for header, values, marks in (
        ("UNTAGGED", [u.untagged for u in ordered], [u.untagged_exact for u in ordered]),
        ("GITLAB SAYS", [u.gitlab_size for u in ordered], [True] * len(ordered)),
    ):
        if any(v is not None for v in values):
            headers.append(header)
            for line, v, exact in zip(table, values, marks, strict=True):
                line.append(("≤ " if exact is False else "") + human_size(v, unknown="-"))
    C.table(table, headers)
    if "UNTAGGED" in headers:
        C.note(
            "untagged: bytes that only manifests without a tag hold (garbage collection of "
            "untagged artifacts gives them back); ≤: an upper bound, the registry's sizes "
            "summed (layers shared with tagged images counted too)"
        )
    if ordered and all(u.untagged is None for u in ordered):
        C.note(
            "untagged manifests: unknown — the registry's API lists tags only, so what "
            "manifests without a tag hold is not in these figures"
            + (" (GITLAB SAYS counts them)" if "GITLAB SAYS" in headers else "")
        )
    if not ordered:
        C.note(f"no repositories found in {args.target}")
    elif len(ordered) > 1:
        C.note(
            "a layer shared by several repositories is counted in each: the total of the "
            "lines can exceed what the registry holds"
        )
    return C.EXIT_OK


async def _gitlab_sizes(conn: C.Connection, repos: list[RepositoryInfo]) -> dict[str, int]:
    """GitLab's own size of each repository listed through its API, where it gives one."""
    if not conn.endpoint.api_url or all(r.gitlab_id is None for r in repos):
        return {}
    from regview.core.gitlab.api import GitLabAPI
    from regview.core.gitlab.sizes import repository_sizes

    async with GitLabAPI(
        conn.endpoint.api_url,
        conn.credentials,
        insecure=conn.endpoint.insecure,
        ca_file=conn.endpoint.ca_file,
    ) as api:
        found = await repository_sizes(api, repos)
    for warning in found.warnings:
        C.error(f"warning: {warning}")
    return found.sizes
