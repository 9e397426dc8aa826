"""The content cache writes in the background while a listing runs: entries are committed in
batches before `flush()` (which then has only the rest to write — the file's opening, the
commits and SQLite's checkpoints no longer wait at the end of a listing), every entry stays
readable meanwhile, and a later cache on the same folder finds them all."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

from regview.core.client.cache import ContentCache

# (read with a default so that the code before the background writes fails on what it does)
BATCH: int = getattr(ContentCache, "WRITE_BATCH", 256)


def entries(n: int, start: int = 0) -> dict[str, bytes]:
    out = {}
    for i in range(start, start + n):
        data = f'{{"n": {i}}}'.encode()
        out["sha256:" + hashlib.sha256(data).hexdigest()] = data
    return out


def committed(root: Path) -> set[str]:
    """The digests another connection (another process) sees in the file."""
    db = sqlite3.connect(root / "content.sqlite3")
    try:
        return {row[0] for row in db.execute("SELECT digest FROM content")}
    finally:
        db.close()


async def test_a_full_batch_is_committed_before_flush_and_readable_meanwhile(
    tmp_path: Path,
) -> None:
    cache = ContentCache(tmp_path)
    first = entries(BATCH)
    for digest, data in first.items():
        cache.put(digest, data)
    # in the middle of the background write: every entry is still readable
    assert all(cache.get(d) == data for d, data in first.items())
    for _ in range(500):  # the write runs in the executor while the loop goes on
        await asyncio.sleep(0.01)
        try:
            if committed(tmp_path) == set(first):
                break
        except sqlite3.OperationalError:  # the file or its table not made yet
            continue
    assert committed(tmp_path) == set(first)  # before any flush()

    rest = entries(10, start=BATCH)
    for digest, data in rest.items():
        cache.put(digest, data)
    assert committed(tmp_path) == set(first)  # fewer than a batch: they wait for flush()
    await cache.flush()
    assert committed(tmp_path) == set(first) | set(rest)
    cache.close()

    again = ContentCache(tmp_path)
    assert all(again.get(d) == data for d, data in (first | rest).items())
    assert again.hits == len(first) + len(rest)
    again.close()


async def test_flush_waits_for_a_background_write_and_puts_during_it(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)
    many = entries(3 * BATCH + 7)
    for digest, data in many.items():
        cache.put(digest, data)  # batches start in the background as they fill
    await cache.flush()
    assert committed(tmp_path) == set(many)
    cache.close()
    assert not (tmp_path / "content.sqlite3-wal").exists()  # closed: the log checkpointed


def test_without_an_event_loop_entries_wait_for_flush(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path)
    many = entries(BATCH + 1)
    for digest, data in many.items():
        cache.put(digest, data)  # no running loop: nothing to write in the background with
    assert not (tmp_path / "content.sqlite3").exists()
    assert all(cache.get(d) == data for d, data in many.items())
    asyncio.run(cache.flush())
    assert committed(tmp_path) == set(many)
    cache.close()
