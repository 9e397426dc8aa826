"""On-disk cache: immutable content by digest, and tag listings for revalidation.

    ContentCache(root)                    manifests and configs by digest (content never changes),
        get(digest) -> bytes | None       one SQLite file; verified against the digest on read
        put(digest, data)                 queued; written in one transaction by `flush()`
    ListingCache(root)                    per registry+repository: tag → digest, digest → summary
        load(registry, repository) -> Listing
        save(registry, repository, listing)

A second listing of a repository sends one conditional GET per tag (If-None-Match: the digest
seen last time); a 304 answer reuses the stored summary of that digest, so nothing else is
fetched or read. Summaries depend only on the digest's content, hence never go stale.
Everything here is best effort: a broken or unwritable cache is ignored, never fatal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regview.log import get_logger
from regview.util.atomic import write_atomic

log = get_logger("core.cache")
LISTING_VERSION = 1
#: The in-memory memos a summary may carry (`core.inventory` adds them: the parsed datetime,
#: the blobs each once); never stored. Named rather than found by their leading "_": the save
#: copies each summary and drops these (0.4 ms for 2,000) instead of rebuilding it key by key
#: (3.9 ms), at the end of every listing. test_inventory checks that a listing's summaries
#: carry no other "_" key.
MEMO_KEYS = ("_created", "_blobs")


class ContentCache:
    """Manifests and configs by digest in one SQLite file (`<root>/content.sqlite3`).

    One file rather than one file per digest: a cold 10,000-tag listing writes ~20,000 entries,
    and creating that many files cost more system time than all the HTTP requests together.
    Writes are batched in one transaction by `flush()` (off the event loop); reads are single
    indexed lookups. WAL mode lets the GUI and the CLI share it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pending: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False
        # No cache file when first asked: every read misses until this run writes one. A cold
        # listing of a repository whose images each have their own config asked SQLite for
        # each config (2,000 lookups, ~10 % of the listing's client CPU) to find nothing — and
        # created the file in the middle of the listing. A file another process creates
        # meanwhile is used from the next run on (a miss costs a request, nothing else).
        self._absent: bool | None = None
        self.hits = 0

    @property
    def _file(self) -> Path:
        return self.root / "content.sqlite3"

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self._file, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS content (digest TEXT PRIMARY KEY, data BLOB)"
                )
                db.commit()
                self._db = db
                self._absent = False
            except sqlite3.Error as exc:
                log.warning("content cache unavailable (%s): continuing without it", exc)
                self._broken = True
        return self._db

    def get(self, digest: str) -> bytes | None:
        data = self._pending.get(digest)
        if data is not None:
            return data
        algo, _, hexpart = digest.partition(":")
        if algo not in ("sha256", "sha512"):
            return None
        with self._lock:
            if self._db is None and self._absent is not False:
                if self._absent is None:
                    self._absent = not self._file.exists()
                if self._absent:
                    return None
            db = self._conn()
            if db is None:
                return None
            try:
                row = db.execute("SELECT data FROM content WHERE digest = ?", (digest,)).fetchone()
            except sqlite3.Error:
                return None
        if row is None:
            return None
        data = bytes(row[0])
        if hashlib.new(algo, data).hexdigest() != hexpart:
            return None  # corrupted: ignore it (INSERT OR REPLACE will fix it on the next put)
        self.hits += 1
        return data

    def put(self, digest: str, data: bytes) -> None:
        if digest.startswith(("sha256:", "sha512:")):
            self._pending[digest] = data

    def _write_pending(self, items: dict[str, bytes]) -> None:
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                with db:
                    db.executemany(
                        "INSERT OR REPLACE INTO content (digest, data) VALUES (?, ?)",
                        items.items(),
                    )
            except sqlite3.Error as exc:
                log.warning("cannot write the content cache: %s", exc)

    async def flush(self) -> None:
        if not self._pending:
            return
        items, self._pending = self._pending, {}
        await asyncio.to_thread(self._write_pending, items)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


@dataclass(slots=True)
class Listing:
    tags: dict[str, str] = field(default_factory=dict)  # tag → manifest digest
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest → summary
    # the registry announced a pull allowance (manifest GETs count): revalidate with HEADs
    counts_pulls: bool = False


def _stored(summary: dict[str, Any]) -> dict[str, Any]:
    kept = summary.copy()
    for key in MEMO_KEYS:
        kept.pop(key, None)
    return kept


class ListingCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, registry: str, repository: str) -> Path:
        key = hashlib.sha256(f"{registry}/{repository}".encode()).hexdigest()[:32]
        return self.root / f"{key}.json"

    def load(self, registry: str, repository: str) -> Listing:
        try:
            obj = json.loads(self._path(registry, repository).read_bytes())
        except (OSError, ValueError):
            return Listing()
        if (
            not isinstance(obj, dict)
            or obj.get("version") != LISTING_VERSION
            or obj.get("registry") != registry
            or obj.get("repository") != repository
        ):
            return Listing()
        tags, summaries = obj.get("tags"), obj.get("summaries")
        if not isinstance(tags, dict) or not isinstance(summaries, dict):
            return Listing()
        return Listing(tags, summaries, obj.get("counts_pulls") is True)

    def save(self, registry: str, repository: str, listing: Listing) -> None:
        used = set(listing.tags.values())
        obj = {
            "version": LISTING_VERSION,
            "registry": registry,
            "repository": repository,
            "tags": listing.tags,
            "counts_pulls": listing.counts_pulls,
            "summaries": {d: _stored(s) for d, s in listing.summaries.items() if d in used},
        }
        try:
            write_atomic(
                self._path(registry, repository),
                json.dumps(obj, separators=(",", ":")),
                durable=False,  # a cache: a lost listing costs requests, never data
            )
        except OSError as exc:
            log.warning("cannot write the tag listing cache: %s", exc)
