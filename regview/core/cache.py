"""On-disk cache: immutable content by digest, and tag listings for revalidation.

    ContentCache(root)                    manifests and configs by digest (content never changes)
        get(digest) -> bytes | None       verified against the digest on read
        put(digest, data)                 queued; written atomically by `flush()` off the loop
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
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regview.log import get_logger

log = get_logger("core.cache")
LISTING_VERSION = 1


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ContentCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)
        self._pending: dict[str, bytes] = {}
        self.hits = 0

    def _path(self, digest: str) -> str | None:
        # plain strings: pathlib costs ~30 µs per lookup, paid for every config of a listing
        algo, _, hexpart = digest.partition(":")
        if algo not in ("sha256", "sha512") or not hexpart.isalnum():
            return None
        return f"{self._root}/{algo}/{hexpart[:2]}/{hexpart}"

    def get(self, digest: str) -> bytes | None:
        data = self._pending.get(digest)
        if data is not None:
            return data
        path = self._path(digest)
        if path is None:
            return None
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        algo, _, hexpart = digest.partition(":")
        if hashlib.new(algo, data).hexdigest() != hexpart:
            Path(path).unlink(missing_ok=True)  # corrupted: forget it
            return None
        self.hits += 1
        return data

    def put(self, digest: str, data: bytes) -> None:
        if self._path(digest) is not None:
            self._pending[digest] = data

    def _write_pending(self, items: dict[str, bytes]) -> None:
        for digest, data in items.items():
            path = self._path(digest)
            if path is None or Path(path).exists():
                continue
            try:
                _atomic_write(Path(path), data)
            except OSError as exc:
                log.warning("cannot write cache entry %s: %s", digest, exc)
                return

    async def flush(self) -> None:
        if not self._pending:
            return
        items, self._pending = self._pending, {}
        await asyncio.to_thread(self._write_pending, items)


@dataclass(slots=True)
class Listing:
    tags: dict[str, str] = field(default_factory=dict)  # tag → manifest digest
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest → summary


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
        return Listing(tags, summaries)

    def save(self, registry: str, repository: str, listing: Listing) -> None:
        used = set(listing.tags.values())
        obj = {
            "version": LISTING_VERSION,
            "registry": registry,
            "repository": repository,
            "tags": listing.tags,
            # keys starting with "_" are in-memory memos (parsed datetimes), not stored
            "summaries": {
                d: {k: v for k, v in s.items() if not k.startswith("_")}
                for d, s in listing.summaries.items()
                if d in used
            },
        }
        try:
            _atomic_write(
                self._path(registry, repository), json.dumps(obj, separators=(",", ":")).encode()
            )
        except OSError as exc:
            log.warning("cannot write the tag listing cache: %s", exc)
