"""Where the space goes: which blobs only one tag (or one selection) keeps stored.

    BlobLedger(trees)               root digest → its manifest tree's blobs ((digest, size), …)
        .freed(gone) -> {blob: size}    blobs that only the `gone` roots hold (the one rule)
        .alone() -> {root: bytes}       per root, bytes no other root holds
        .stored -> int                  every blob once
    TagSpace.of(tags)               the ledger over a repository's tags (roots = tag digests)
        .frees(tag) -> int | None       what deleting this one tag frees after GC
        .frees_all(tags) -> list        the same for many tags at once (the table's column)
        .freed(names) -> {blob: size}   what deleting these tags frees after GC, de-duplicated
        .stored, .complete
    untagged_bytes(space, manifests) -> int   what listed untagged manifests hold alone
    rank_space(tags, top) -> SpaceRanking      per repository stored/unique bytes, top tags

The rule, written once and used by the tags table, the selection total, the delete planner and
the policy preview: *a blob is freed when every root holding it goes*. A root is a manifest a
tag points at; its tree is its config and layers, and for an index those of every child
(attestation children included: `TagInfo.blobs` lists them). Several tags on one digest are one
root: deleting one of them frees nothing, since the manifest stays tagged. A tagged referrer (a
signature, an SBOM) stays while its subject does, so the roots keeping the subject hold its
blobs too — the delete planner's rule (`plan_graph.reachable` with referrers).

What is *not* here, on purpose: layers shared with other repositories (registries keep a blob
while any repository links it; we only see one repository at a time, so a per-repository figure
can overstate what GC returns, and a sum over repositories counts such a layer in each), and
the manifests' own bytes (a few KiB each); untagged manifests, which the tag listing does not
show (a tagged signature whose subject is an untagged signature is treated as held by nothing
else — the delete planner, which looks referrers up, knows better). A tag whose details could not be read (`blobs`
empty) has no known tree: `frees()` is None for it, and `complete` is False — then `stored` is a
lower bound and every `frees` an upper one (an unread tag may share the layers counted).

Pure and Qt-free, built for bulk: 100,000 tags in well under 200 ms on one core (see
bench/bench_frees.py). The counting runs in C (`Counter` over chained dict keys); the only
Python-level loops are one per distinct blob and one per root.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from operator import attrgetter, itemgetter, mul, sub
from typing import TypeVar

from regview.core.model import TagInfo

#: a manifest tree's blobs, (digest, size), each blob once (as `TagInfo.blobs`)
Tree = Sequence[tuple[str, int]]

_digest_of = itemgetter(0)
_size_of = itemgetter(1)
_one_over = (1).__floordiv__  # 1 // holders: 1 for a blob held once, else 0

#: Items per C-level call. A call over a whole list holds the GIL throughout (~60 ms for
#: 600,000 blobs on a busy machine); between chunks the thread offers the GIL to the others
#: (`sleep(0)`), so a UI thread waiting for it runs at once instead of after the switch
#: interval — or much later, when the machine is loaded and preempts the holder.
CHUNK = 1 << 14
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), CHUNK):
        if i:
            time.sleep(0)
        yield items[i : i + CHUNK]


class BlobLedger:
    """Who holds which blob, over a set of roots (each with its tree's blobs)."""

    __slots__ = ("_flat", "_names", "_sizes", "holders", "trees")

    def __init__(self, trees: Mapping[str, Tree]) -> None:
        self.trees = trees
        flat: list[tuple[str, int]] = []
        for trees_part in _chunks(list(trees.values())):
            flat.extend(chain.from_iterable(trees_part))
        names: list[str] = []
        # Each root counts once per blob it holds (a tree lists a blob once).
        holders: Counter[str] = Counter()
        for part in _chunks(flat):
            start = len(names)
            names.extend(map(_digest_of, part))
            holders.update(names[start:])
        self._flat, self._names, self.holders = flat, names, holders
        self._sizes: dict[str, int] | None = None

    @property
    def sizes(self) -> dict[str, int]:
        """blob → size, every blob once."""
        if self._sizes is None:
            sizes: dict[str, int] = {}
            for part in _chunks(self._flat):
                sizes.update(part)
            self._sizes = sizes
        return self._sizes

    @property
    def stored(self) -> int:
        return sum(self.sizes.values())

    def freed(self, gone: Iterable[str]) -> dict[str, int]:
        """The blobs held only by roots in `gone` (unknown roots are ignored)."""
        trees = self.trees
        gone_trees = [trees[g] for g in set(gone) if g in trees]
        if len(gone_trees) == len(trees):
            return dict(self.sizes)
        counts: Counter[str] = Counter(map(_digest_of, chain.from_iterable(gone_trees)))
        holders, sizes = self.holders, dict(chain.from_iterable(gone_trees))
        return {b: sizes[b] for b, n in counts.items() if n == holders[b]}

    def alone(self) -> dict[str, int]:
        """Per root, the bytes of the blobs no other root holds (`freed({root})` for each).

        C-level maps over the flattened trees, no Python loop per blob: a blob weighs its size
        when it has one holder (`size * (1 // holders)`), and a root's figure is the difference
        of the running total at its tree's boundaries.
        """
        count = self.holders.__getitem__
        running = [0]
        for sizes, names in zip(_chunks(self._flat), _chunks(self._names), strict=True):
            weights = map(mul, map(_size_of, sizes), map(_one_over, map(count, names)))
            totals = accumulate(weights, initial=running[-1])
            next(totals)  # the initial value, already in `running`
            running.extend(totals)
        ends = list(accumulate(map(len, self.trees.values())))
        at = running.__getitem__
        figures = map(sub, map(at, ends), map(at, [0, *ends[:-1]]))
        return dict(zip(self.trees, figures, strict=True))


class TagSpace:
    """The ledger of one repository's tags: roots are the digests tags point at."""

    __slots__ = ("_alone", "_digest_of", "_rows", "complete", "ledger", "tag_count")

    def __init__(
        self, ledger: BlobLedger, rows: list[TagInfo], tag_count: Counter[str], complete: bool
    ) -> None:
        self.ledger = ledger
        self.tag_count = tag_count  # digest → how many tags point at it
        self.complete = complete
        self._rows = rows
        self._alone: dict[str, int] | None = None
        self._digest_of: dict[str, str] | None = None

    @classmethod
    def of(cls, tags: Iterable[TagInfo]) -> TagSpace:
        rows = list(tags)
        digests = list(map(_DIGEST, rows))
        blobs = list(map(_BLOBS, rows))
        tag_count = Counter(digests)
        tag_count.pop("", None)
        known = dict(zip(digests, blobs, strict=True))  # C speed; the rare unread ones go next
        known.pop("", None)
        every_tree = all(blobs)
        if not every_tree:
            known = {d: b for d, b in known.items() if b}
        if any(map(_SUBJECT, rows)):
            known = _hold_referrers(rows, known)
        # Unread tags, and indexes with unreadable children (size None), hide blobs from us.
        complete = every_tree and "" not in digests and None not in map(_SIZE, rows)
        return cls(BlobLedger(known), rows, tag_count, complete)

    @property
    def digest_of(self) -> dict[str, str]:
        """tag → digest ("" when unread); built on first use (selections, single tags)."""
        if self._digest_of is None:
            self._digest_of = dict(
                zip(map(_TAG, self._rows), map(_DIGEST, self._rows), strict=True)
            )
        return self._digest_of

    def prepare_selections(self) -> None:
        """Build what selection totals need (for a worker thread, after the column)."""
        self.digest_of  # noqa: B018
        self.ledger.sizes  # noqa: B018

    @property
    def stored(self) -> int:
        return self.ledger.stored

    def by_digest(self) -> dict[str, int]:
        """digest → what deleting its tag frees; 0 for a digest several tags share."""
        if self._alone is None:
            figures = self.ledger.alone()
            count = self.tag_count
            shared = compress(count.keys(), map((1).__lt__, count.values()))  # n > 1
            figures.update(dict.fromkeys(filter(figures.__contains__, shared), 0))
            self._alone = figures
        return self._alone

    def frees(self, tag: str) -> int | None:
        return self.by_digest().get(self.digest_of.get(tag, ""))

    def frees_all(self, tags: Sequence[TagInfo]) -> list[int | None]:
        """The figure of each row, by the digest the row shows (None: tree unknown)."""
        return list(map(self.by_digest().get, map(_DIGEST, tags)))

    def frees_keys(self, tags: Sequence[TagInfo], unknown: int) -> list[int]:
        """`frees_all` with `unknown` for None: a table column's sort keys, at C speed."""
        return list(map(self.by_digest().get, map(_DIGEST, tags), repeat(unknown)))

    def gone_roots(self, names: Collection[str]) -> set[str]:
        """Digests every tag of which is in `names`: those manifests end up untagged."""
        picked: Counter[str | None] = Counter(map(self.digest_of.get, names))
        count = self.tag_count
        return {d for d, n in picked.items() if d and n == count[d]}

    def freed(self, names: Collection[str]) -> dict[str, int]:
        """The blobs deleting these tags frees after GC, each counted once."""
        return self.ledger.freed(self.gone_roots(names))

    def freed_bytes(self, names: Collection[str]) -> int:
        return sum(self.freed(names).values())


def _hold_referrers(rows: list[TagInfo], trees: dict[str, Tree]) -> dict[str, Tree]:
    """A tagged referrer (a signature, an SBOM) stays while its subject does, tagged or not:
    the roots that keep the subject (it, or an index listing it as a child) hold the
    referrer's blobs too. Chains (a signature of a signature) resolve in a few rounds."""
    holders: dict[str, list[str]] = {}
    for t in rows:
        if t.digest in trees:
            holders.setdefault(t.digest, []).append(t.digest)
            for child in t.child_digests:
                holders.setdefault(child, []).append(t.digest)
    referrers = {t.digest: t.subject for t in rows if t.subject and t.digest in trees}
    out = {d: dict(tree) for d, tree in trees.items()}
    for _round in range(len(referrers)):
        changed = False
        for ref, subject in referrers.items():
            for root in holders.get(subject, ()):
                if root != ref and not out[ref].keys() <= out[root].keys():
                    out[root].update(out[ref])
                    changed = True
        if not changed:
            break
    return {d: tuple(tree.items()) for d, tree in out.items()}


def untagged_bytes(space: TagSpace, manifests: Mapping[str, Tree]) -> int:
    """Bytes that untagged manifests the registry listed hold and no tag does."""
    held = space.ledger.holders
    extra: dict[str, int] = {}
    for digest, tree in manifests.items():
        if digest in space.tag_count:
            continue
        extra.update((b, s) for b, s in tree if b not in held)
    return sum(extra.values())


_DIGEST = attrgetter("digest")
_BLOBS = attrgetter("blobs")
_TAG = attrgetter("tag")
_SIZE = attrgetter("size")
_SUBJECT = attrgetter("subject")


# --- across repositories: the Storage overview's ranking ---------------------------------


@dataclass(frozen=True, slots=True)
class RepositorySpace:
    repository: str
    tags: int
    stored: int  # its blobs, each once (a layer other repositories also use counts here too)
    alone: int  # of those, the bytes no other repository read uses
    complete: bool  # False: some tags unread, `stored` is a lower bound


@dataclass(frozen=True, slots=True)
class TagFrees:
    repository: str
    tag: str
    frees: int
    complete: bool  # False: its repository has unread tags, `frees` is an upper bound


@dataclass(frozen=True, slots=True)
class SpaceRanking:
    repositories: tuple[RepositorySpace, ...]  # most bytes only they hold first
    tags: tuple[TagFrees, ...]  # the tags that free the most, most first


def rank_space(tags: Iterable[TagInfo], top: int = 12) -> SpaceRanking:
    """Per repository (grouped by `TagInfo.repository`): stored bytes and the bytes no other
    repository uses (ranked by those); and the `top` tags that free the most across all of
    them. Pure; for a worker thread."""
    groups: dict[str, list[TagInfo]] = {}
    for t in tags:
        groups.setdefault(t.repository, []).append(t)
    spaces = {repo: TagSpace.of(rows) for repo, rows in groups.items()}
    across = BlobLedger({repo: tuple(s.ledger.sizes.items()) for repo, s in spaces.items()})
    alone = across.alone()
    repos = sorted(
        (
            RepositorySpace(repo, len(groups[repo]), s.stored, alone[repo], s.complete)
            for repo, s in spaces.items()
        ),
        key=lambda r: (-r.alone, -r.stored, r.repository),
    )
    candidates = (
        TagFrees(repo, t.tag, f, spaces[repo].complete)
        for repo, rows in groups.items()
        for t, f in zip(rows, spaces[repo].frees_all(rows), strict=True)
        if f
    )
    best = heapq.nlargest(top, candidates, key=lambda x: (x.frees, x.repository, x.tag))
    return SpaceRanking(tuple(repos), tuple(best))
