"""`regview tags IMAGE`: every tag of a repository with digest, size, created time, platforms.

`--json` prints a list of objects with exactly the keys `tag`, `digest`, `media_type`,
`config_digest`, `size`, `created` (RFC 3339 or null), `pulled` (the last pull, RFC 3339, where
the registry's management API says — Harbor, Docker Hub — else null), `platforms` (each `os`, `architecture`,
`variant`, `digest`, `size`), `shares_digest_with` (the other listed tags with the same
digest; `--filter` narrows the requests too, so it covers the tags that matched) and `frees`
(bytes deleting only this tag gives back after garbage collection: its config and layers that
no other tag of the repository uses; 0 when another tag has the same digest; null when the tag
could not be read, or when `--filter` or `IMAGE:TAG` limited what was read — the figure depends
on every tag). Tags that could not be read keep their name with null details, and a warning
goes to stderr. When the registry refuses with 429 for good (its pull allowance used up),
`--json` prints `{"error": words, "pull_allowance": {"remaining", "limit", "window_seconds"}
or null}` before exiting 1.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import datetime
from typing import Any

from regview.cli import common as C
from regview.cli.help import with_examples
from regview.core import errors as E
from regview.core.frees import TagSpace
from regview.core.model import TagInfo, shares_digest
from regview.spec.reference import Reference
from regview.util.units import human_size

SORT_KEYS = ("name", "created", "pulled", "size")
#: the keys of each `--json` object, a documented contract
TAG_KEYS_DOC = frozenset(
    {"tag", "digest", "media_type", "config_digest", "size", "created", "pulled", "platforms"}
    | {"shares_digest_with", "frees"}
)


EXAMPLES = """\
  regview tags registry.example.com/team/app
  regview tags registry.example.com/team/app --filter '^v[0-9]' --sort created
  regview tags alpine --json | jq -r '.[] | select(.shares_digest_with != []) | .tag'
  regview tags gitlab.example.com:5050/group/project/image -u me --password-stdin < token.txt
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tags",
        help="list the tags of a repository with digest, size, created time, platforms",
        description="List the tags of IMAGE (host/path; Docker Hub when no host is given).",
        **with_examples(EXAMPLES),
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--filter", metavar="RE", help="only tags matching this regular expression")
    p.add_argument(
        "--sort",
        choices=SORT_KEYS,
        default="name",
        help="name (A→Z, default), created (newest first), pulled (most recently pulled "
        "first, where the registry says) or size (largest first)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="requests in flight at once, fixed (default: adapts to the link, 16 to start)",
    )
    C.add_network_options(p)
    C.add_json_option(p)
    # short-lived: cli/process.py's collector settings, event loop and exit
    p.set_defaults(func=lambda args: C.run(lambda: _tags(args), fast_loop=True), short_lived=True)


def tag_json(t: TagInfo, shared: dict[str, list[str]], frees: int | None = None) -> dict[str, Any]:
    return {
        "tag": t.tag,
        "digest": t.digest or None,
        "media_type": t.media_type or None,
        "config_digest": t.config_digest or None,
        "size": t.size,
        "created": C.rfc3339(t.created),
        "pulled": C.rfc3339(t.pulled),
        "platforms": [p.to_json() for p in t.platforms],
        "shares_digest_with": [n for n in shared.get(t.digest, []) if n != t.tag],
        "frees": frees,
    }


def sort_tags(tags: list[TagInfo], key: str) -> list[TagInfo]:
    by_name = sorted(tags, key=lambda t: t.tag)
    if key == "created":  # newest first; unknown times last
        return sorted(by_name, key=lambda t: _newest_first(t.created))
    if key == "pulled":  # most recently pulled first; never pulled (or not said) last
        return sorted(by_name, key=lambda t: _newest_first(t.pulled))
    if key == "size":  # largest first; unknown sizes last
        return sorted(by_name, key=lambda t: (t.size is None, -(t.size or 0)))
    return by_name


def _newest_first(when: datetime | None) -> tuple[bool, float]:
    return (when is None, -(when.timestamp() if when else 0))


def compile_filter(text: str | None) -> re.Pattern[str] | None:
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise C.CliError(f"--filter {text!r} is not a valid regular expression: {exc}", 2) from exc


async def _tags(args: argparse.Namespace) -> int:
    from regview.core.inventory import load_tags

    ref = Reference.parse(args.image)
    pattern = compile_filter(args.filter)
    if args.concurrency is not None and args.concurrency < 1:
        raise C.CliError("--concurrency must be at least 1", C.EXIT_USAGE)
    conn = await asyncio.to_thread(C.connect, args, ref.address, ref.repository)
    async with conn.client(concurrency=args.concurrency) as client:
        try:
            names = await client.list_tags(ref.repository)
            if ref.tag:
                names = [n for n in names if n == ref.tag]
            if pattern is not None:
                names = [n for n in names if pattern.search(n)]
            infos = await load_tags(client, ref.repository, tags=names)
        except E.TooManyRequests as exc:
            if args.json:  # scripts see the allowance too, not only the words on stderr
                C.print_json(C.throttled_json(exc))
            raise
        C.note_throttling(client)
    shared = shares_digest(infos)
    ordered = sort_tags(infos, args.sort)
    # What a tag frees depends on every other tag: only known when all of them were read.
    every_tag = not ref.tag and pattern is None
    space = TagSpace.of(infos) if every_tag else None
    frees = space.frees_all(ordered) if space is not None else [None] * len(ordered)
    for t in ordered:
        if t.error:
            C.error(f"warning: {ref.registry}/{ref.repository}:{t.tag}: {t.error}")
    if args.json:
        C.print_json_rows([tag_json(t, shared, f) for t, f in zip(ordered, frees, strict=True)])
        return C.EXIT_OK
    rows = [
        [
            t.tag,
            t.digest[:19] if t.digest else "?",
            human_size(t.size, unknown="-"),
            human_size(f, unknown="-"),
            C.rfc3339(t.created) or "-",
            t.platform_labels or "-",
            ", ".join(n for n in shared.get(t.digest, []) if n != t.tag),
        ]
        for t, f in zip(ordered, frees, strict=True)
    ]
    C.table(rows, ["TAG", "DIGEST", "SIZE", "FREES", "CREATED", "PLATFORMS", "SAME AS"])
    if not ordered:
        C.note(f"no tags in {ref.registry}/{ref.repository}" + (" match" if pattern else ""))
    return C.EXIT_OK
