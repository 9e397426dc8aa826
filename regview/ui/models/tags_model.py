"""The tags table: one row per tag of one repository, fed by a controller (never the network)."""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable, Iterable, Sequence
from datetime import datetime
from itertools import compress, repeat
from operator import not_
from typing import Any

import humanize
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from regview.core.frees import TagSpace
from regview.core.model import ArtifactKind, TagInfo
from regview.ui.models.filtering import UNKNOWN_TIME, shared_lower
from regview.ui.models.table_model import AnyIndex, IndexedTableModel, PreparedRows
from regview.ui.theme import muted
from regview.ui.words import plural
from regview.util.units import human_size

TAG, CREATED, SIZE, DIGEST, CONFIG, PLATFORMS, KIND, SHARED, FREES, PULLED = range(10)

HEADERS = (
    *("Tag", "Created", "Size", "Digest", "Config", "Platforms", "Type", "Shared", "Frees"),
    "Last pulled",
)
FREES_TIP = (
    "What deleting only this tag gives back after the registry's garbage collection: the "
    "config and layers (through index children) that no other tag of this repository uses. "
    "0 when another tag points at the same manifest — deleting this one leaves it stored. "
    "Layers shared with other repositories stay stored too, so this is at most what returns."
)
HEADER_TIPS = (
    "Tag name",
    "When the image was built or published (hover a cell for the exact time)",
    "Stored size: config + layers; for a multi-platform index, all platforms without duplicates",
    "Manifest digest (hover for the full value)",
    "Config blob digest",
    "Operating system / architecture of each image in the tag",
    "image, multi-platform index, or another artifact (signature, SBOM, …)",
    "How many tags point at the same manifest: deleting by digest removes all of them",
    FREES_TIP,
    "When this tag was last pulled by its name, where the registry's API says (Harbor, "
    "Docker Hub): sort by it to find what nobody uses",
)
#: the Frees sort key of a tag whose figure is not known (yet): sorts below 0 bytes
UNKNOWN_FREES = -1
#: the Frees cell while the figures are worked out (rows changed: old figures may be wrong)
COMPUTING = "computing…"
#: the Frees cell of a tag whose layers could not be read
UNKNOWN = "unknown"
#: the Last pulled cell of a tag with no pull time (the column shows only where pulls are known)
NEVER = "never"
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)


def short_digest(digest: str, hex_chars: int = 12) -> str:
    algo, sep, value = digest.partition(":")
    return f"{algo}:{value[:hex_chars]}" if sep else digest[:hex_chars]


def short_hex(digest: str, hex_chars: int = 12) -> str:
    """The first hex characters, as registries' web pages show digests."""
    return digest.partition(":")[2][:hex_chars] if ":" in digest else digest[:hex_chars]


def relative_time(when: datetime | None, now: float | None = None) -> str:
    if when is None:
        return ""
    now = time.time() if now is None else now
    delta = max(0.0, now - when.timestamp())
    if delta < 60:
        return "just now"
    return str(humanize.naturaldelta(delta)) + " ago"


def exact_time(when: datetime | None) -> str:
    if when is None:
        return "Unknown: the registry did not say and the image config has no date"
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


# Thousands of tags share a handful of platform lists: share their sort key (lowercase text) and
# set too — one string per row was 6 MB at 100,000 tags. Filled from the loader's worker thread
# and the UI thread; a lost race only builds equal objects twice.
_PLATFORMS: dict[tuple[str, ...], tuple[str, frozenset[str]]] = {}


def _pulled_key(row: TagInfo) -> float:
    # never pulled (or not said) sorts before the oldest pull: first in a cleanup's ascending sort
    return row.pulled.timestamp() if row.pulled is not None else UNKNOWN_TIME


def _platform_facts(row: TagInfo) -> tuple[str, frozenset[str]]:
    """The Platforms sort key (labels, lowercase) and the set of labels, shared between rows."""
    labels = tuple(p.label for p in row.platforms)
    found = _PLATFORMS.get(labels)
    if found is None:
        found = _PLATFORMS[labels] = (", ".join(labels).lower(), frozenset(labels))
    return found


def digest_key(digest: str) -> float:
    """The sort key of a digest: its first 13 hex digits as a float (exact: 52 bits).

    Python's sort compares floats on a fast path; 71-character strings with a common
    "sha256:" prefix took twice as long (40 vs 18 ms for 100,000 rows), and the first sort of
    the Digest column has to fit 60 ms with the view's work. Digests that agree on all 13
    digits (about one pair in 10^6 among 100,000 different digests) keep arrival order.
    """
    value = digest.partition(":")[2] or digest
    try:
        return float(int(value[:13], 16))
    except ValueError:
        return -1.0  # none (yet), or not hex: first, as the empty string sorted


def tag_facts(row: TagInfo) -> tuple[Any, ...]:
    """Sort keys, lowercase haystack, name, time, platforms, lowercase ids of one tag (any
    thread): the layout of `IndexedTableModel.row_facts`.

    Pure: reads only the frozen `TagInfo`, so the loader computes it on its worker thread.
    Strings that equal the row's own (a lowercase tag, the digests) are the row's objects.
    """
    created = row.created.timestamp() if row.created is not None else UNKNOWN_TIME
    platforms_key, platform_set = _platform_facts(row)
    return (
        shared_lower(row.tag),
        created,
        -1.0 if row.size is None else float(row.size),
        digest_key(row.digest),
        digest_key(row.config_digest),
        platforms_key,
        row.kind.value,
        0,  # SHARED: counted by the model, which knows the other rows
        UNKNOWN_FREES,  # FREES: computed over all rows off the UI thread (`set_frees`)
        _pulled_key(row),
        f"{row.tag}\n{row.platform_labels}\n{row.kind.value}".lower(),
        row.tag,
        created,
        platform_set,
        shared_lower(row.digest),
        shared_lower(row.config_digest),
    )


#: backing rows per manifest digest: the row's number when one row carries it, a list only when
#: several do (a one-element list per tag was 6 MB at 100,000 tags)
DigestRows = dict[str, int | list[int]]


def digest_members(groups: DigestRows, digest: str) -> list[int]:
    """The backing rows carrying `digest` (a new list)."""
    group = groups.get(digest)
    if group is None:
        return []
    return [group] if isinstance(group, int) else list(group)


def store_members(groups: DigestRows, digest: str, rows: list[int]) -> None:
    """Record `rows` as the rows carrying `digest`, in the compact form."""
    if len(rows) > 1:
        groups[digest] = rows
    elif rows:
        groups[digest] = rows[0]
    else:
        groups.pop(digest, None)


def _renumbered(groups: DigestRows, kept: dict[int, int], touched: set[str]) -> DigestRows:
    """`groups` after a removal: rows renumbered by `kept` (old → new backing row), the rows
    not in it gone; only digests in `touched` can lose rows. Most digests have one row (an
    int): those are renumbered in C-level passes — a Python step per digest took ~0.15 s of
    the UI thread for 100,000 tags after every deletion."""
    values = list(groups.values())
    single = list(map(isinstance, values, repeat(int)))
    rows: Iterable[int] = compress(values, single)  # type: ignore[arg-type]  # (the ints)
    # (None for a row that went: those are taken out below)
    renumbered: dict[str, int | None] = dict(
        zip(compress(groups, single), map(kept.get, rows), strict=True)
    )
    for d in touched:
        if d in renumbered and renumbered[d] is None:
            del renumbered[d]
    out: DigestRows = renumbered  # type: ignore[assignment]  # (no None left)
    if not all(single):  # the few digests several tags share
        several = list(map(not_, single))
        for d, old in zip(compress(groups, several), compress(values, several), strict=True):
            if isinstance(old, list):
                store_members(out, d, [kept[r] for r in old if r in kept])
    return out


def prepare_tags(rows: Sequence[TagInfo]) -> PreparedRows[TagInfo]:
    """What `TagsModel` computes per arriving row, computed here (the loader's worker thread)."""
    return PreparedRows(rows, [r.tag for r in rows], [tag_facts(r) for r in rows])


class TagsModel(IndexedTableModel[TagInfo]):
    HEADERS = HEADERS
    HEADER_TIPS = HEADER_TIPS
    RIGHT_ALIGNED = frozenset({SIZE, SHARED, FREES})
    ID_FIELDS = 2  # manifest and config digest

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.repository = ""
        self._by_digest: DigestRows = {}
        self._now = time.time()
        #: bumped whenever rows change; a Frees result for an older generation is dropped
        self.generation = 0
        #: the ledger the Frees column came from, while it matches the rows (else None)
        self.space: TagSpace | None = None

    def set_tags(self, repository: str, tags: Iterable[TagInfo]) -> None:
        self.repository = repository
        self._by_digest = {}
        self._now = time.time()
        self.set_rows(tags)

    def set_rows(self, rows: Iterable[TagInfo]) -> None:
        self._rows_changed()
        super().set_rows(rows)

    def set_frees(self, generation: int, keys: list[int], space: TagSpace) -> bool:
        """Install a Frees column computed off the UI thread for `generation`'s rows: one list
        assignment. False (nothing changed) when rows changed since."""
        if generation != self.generation or len(keys) != len(self.rows):
            return False
        self.space = space
        self.index_.set_column(FREES, keys)
        self._cache[FREES].clear()
        if self.visible:
            self.dataChanged.emit(self.index(0, FREES), self.index(len(self.visible) - 1, FREES))
        return True

    def selection_frees(self, tags: Collection[str]) -> int | None:
        """What deleting these tags frees after GC, de-duplicated (None: not computed yet)."""
        return None if self.space is None else self.space.freed_bytes(tags)

    def _rows_changed(self) -> None:
        self.generation += 1
        if self.space is not None:
            self.space = None
            self._cache[FREES].clear()

    def tags(self) -> list[TagInfo]:
        return list(self.rows)

    def refresh_relative_times(self, now: float | None = None) -> None:
        """ "3 minutes ago" moves on: forget the Created and Last pulled texts (the view repaints
        what it shows)."""
        self._now = time.time() if now is None else now
        self._cache[CREATED].clear()
        self._cache[PULLED].clear()

    def shared_with(self, backing: int) -> list[str]:
        """Other tags carrying the same manifest digest as this row."""
        group = digest_members(self._by_digest, self.rows[backing].digest)
        return sorted(self.rows[r].tag for r in group if r != backing)

    # --- hooks ---------------------------------------------------------------------------
    def row_identity(self, row: TagInfo) -> Hashable:
        return row.tag

    def row_keys(self, row: TagInfo) -> Sequence[Any]:
        return tag_facts(row)[: len(HEADERS)]  # one definition of the sort keys

    def row_haystack(self, row: TagInfo) -> str:
        return f"{row.tag}\n{row.platform_labels}\n{row.kind.value}"

    def row_ids(self, row: TagInfo) -> tuple[str, ...]:
        return (row.digest, row.config_digest)

    def row_name(self, row: TagInfo) -> str:
        return row.tag

    def row_time(self, row: TagInfo) -> float:
        return row.created.timestamp() if row.created is not None else UNKNOWN_TIME

    def row_platforms(self, row: TagInfo) -> frozenset[str]:
        return _platform_facts(row)[1]

    def row_facts(self, row: TagInfo) -> tuple[Any, ...]:
        return tag_facts(row)

    def remove_rows(self, identities: Iterable[Hashable]) -> dict[int, int] | None:
        backing = [b for i in identities if (b := self._ids.get(i)) is not None]
        if not backing:
            return None
        digests = {self.rows[b].digest for b in backing}
        self._rows_changed()  # before the views hear of it: the Frees column is computed anew
        kept = super().remove_rows(self.row_identity(self.rows[b]) for b in backing)
        assert kept is not None
        self._by_digest = _renumbered(self._by_digest, kept, digests)
        # a tag whose twin went is no longer shared; only the groups that lost a tag change
        changed = []
        shared = self.index_.keys[SHARED]
        for digest in digests:
            group = digest_members(self._by_digest, digest)
            n = len(group) if len(group) > 1 else 0
            for r in group:
                if shared[r] != n:
                    self.index_.update_key(r, SHARED, n)
                    changed.append(r)
        if changed:
            self.invalidate_rows(changed, SHARED)
        return kept

    def _add(self, rows: Iterable[TagInfo]) -> None:
        self._rows_changed()
        start = len(self.rows)
        super()._add(rows)
        touched: set[int] = set()
        by_digest = self._by_digest
        rows = self.rows
        for r in self.index_.numbers(start, len(rows)):  # the shared int objects
            digest = rows[r].digest
            if not digest:
                continue
            group = by_digest.get(digest)
            if group is None:
                by_digest[digest] = r
                continue
            if isinstance(group, int):
                group = by_digest[digest] = [group, r]
            else:
                group.append(r)
            touched.update(group)
        if touched:
            keys = self.index_
            for r in touched:
                keys.update_key(r, SHARED, len(digest_members(by_digest, rows[r].digest)))
            old = [r for r in touched if r < start]
            if old:
                self.invalidate_rows(old, SHARED)

    def rows_replaced(self, replaced: list[tuple[int, TagInfo]]) -> None:
        """A refreshed tag that now points at another digest leaves its old "Shared" group."""
        by_digest = self._by_digest
        touched: set[int] = set()
        for r, previous in replaced:
            new_digest = self.rows[r].digest
            if previous.digest == new_digest:
                continue
            for digest, add in ((previous.digest, False), (new_digest, True)):
                if not digest:
                    continue
                group = digest_members(by_digest, digest)
                if add:
                    group.append(r)
                elif r in group:
                    group.remove(r)
                touched.update(group)
                store_members(by_digest, digest, group)
            touched.add(r)
        for r in touched:
            group = digest_members(by_digest, self.rows[r].digest)
            self.index_.update_key(r, SHARED, len(group) if len(group) > 1 else 0)
        super().rows_replaced(replaced)
        extra = touched - {r for r, _p in replaced}
        if extra:
            self.invalidate_rows(extra, SHARED)

    def display_text(self, row: int, column: int) -> str:
        tag = self.rows[row]
        if column == TAG:
            return tag.tag
        if column == CREATED:
            return relative_time(tag.created, self._now)
        if column == SIZE:
            return human_size(tag.size)
        if column == DIGEST:
            return short_hex(tag.digest)
        if column == CONFIG:
            return short_hex(tag.config_digest)
        if column == PLATFORMS:
            # "linux/" is what almost every image says: leave it out of the cell, not the tooltip
            labels = [p.label.removeprefix("linux/") for p in tag.platforms]
            if len(labels) > 3:
                return ", ".join(labels[:3]) + f" +{len(labels) - 3}"
            return ", ".join(labels)
        if column == KIND:
            return "error" if tag.error else tag.kind.value
        if column == SHARED:
            n = self.index_.keys[SHARED][row]
            return f"×{n}" if n else ""
        if column == FREES:
            if not tag.blobs:
                return UNKNOWN
            if self.space is None:
                return COMPUTING
            freed = self.index_.keys[FREES][row]
            return UNKNOWN if freed < 0 else "0 B" if freed == 0 else human_size(freed)
        if column == PULLED:
            return relative_time(tag.pulled, self._now) if tag.pulled is not None else NEVER
        return ""

    def data(self, index: AnyIndex, role: int = 0) -> Any:
        # "computing…" and "unknown" are words, not figures: greyed, as placeholders are.
        if role == _FOREGROUND and index.column() == PULLED:
            return muted(QGuiApplication.palette()) if self._never_pulled(index) else None
        if role == _FOREGROUND and index.column() == FREES:
            row = self.visible[index.row()]
            if self.space is None or self.index_.keys[FREES][row] < 0 or not self.rows[row].blobs:
                return muted(QGuiApplication.palette())
            return None
        return super().data(index, role)

    def _never_pulled(self, index: AnyIndex) -> bool:
        return self.rows[self.visible[index.row()]].pulled is None

    def tooltip_text(self, row: int, column: int) -> str | None:
        tag = self.rows[row]
        if tag.error and column in (TAG, KIND):
            return f"Could not read this tag: {tag.error}"
        if column == CREATED:
            return exact_time(tag.created)
        if column == SIZE:
            return "Unknown" if tag.size is None else f"{tag.size:,} bytes"
        if column == DIGEST:
            return tag.digest
        if column == CONFIG:
            return tag.config_digest or None
        if column == PLATFORMS:
            return "\n".join(f"{p.label}  {human_size(p.size)}" for p in tag.platforms) or None
        if column == KIND:
            if tag.kind == ArtifactKind.ARTIFACT and tag.artifact_type:
                return f"Artifact type: {tag.artifact_type}"
            return tag.media_type or None
        if column == SHARED:
            others = self.shared_with(row)
            if not others:
                return "No other tag points at this manifest"
            shown = ", ".join(others[:20]) + (" …" if len(others) > 20 else "")
            return f"Same manifest as {plural(len(others), 'other tag')}: {shown}"
        if column == FREES:
            return self._frees_tooltip(row)
        if column == PULLED:
            if tag.pulled is None:
                return "The registry records no pull of this tag by its name (or does not say)"
            return f"Last pulled {exact_time(tag.pulled)}"
        return None

    def _frees_tooltip(self, row: int) -> str:
        if not self.rows[row].blobs:
            return "Unknown: this tag's layers could not be read.\n\n" + FREES_TIP
        if self.space is None:
            return (
                "Computing: the tags changed (a listing, a deletion or a restore) and what "
                "each one frees is being worked out again.\n\n" + FREES_TIP
            )
        freed = self.index_.keys[FREES][row]
        if freed < 0:
            return "Unknown: this tag's layers could not be read.\n\n" + FREES_TIP
        others = self.shared_with(row)
        if others:
            shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
            head = f"0 bytes: the manifest stays tagged {shown}."
        else:
            head = f"{freed:,} bytes only this tag uses."
        if not self.space.complete:
            head += (
                " At most: some tags of this repository could not be read, and they may "
                "use the same layers."
            )
        return head + "\n\n" + FREES_TIP
