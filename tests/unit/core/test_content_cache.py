"""The content cache (manifests and configs by digest, one SQLite file): what a cold run, a warm
run and a run that writes it find."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from regview.core.client.cache import ContentCache

DATA = b'{"schemaVersion": 2}'
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()
OTHER = b'{"architecture": "amd64"}'
OTHER_DIGEST = "sha256:" + hashlib.sha256(OTHER).hexdigest()


def test_a_cold_cache_misses_without_creating_or_asking_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ContentCache(tmp_path / "by-digest")
    connects: list[object] = []
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3, "connect", lambda *a, **k: connects.append(a) or real_connect(*a, **k)
    )
    for _ in range(3):
        assert cache.get(DIGEST) is None
    assert connects == []  # no file: nothing opened, nothing created mid-listing
    assert not (tmp_path / "by-digest" / "content.sqlite3").exists()
    cache.put(DIGEST, DATA)
    assert cache.get(DIGEST) == DATA  # what this run read is there before it is written
    cache.close()


async def test_what_a_run_writes_is_found_by_it_and_by_the_next(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "by-digest")
    assert cache.get(DIGEST) is None
    cache.put(DIGEST, DATA)
    await cache.flush()
    cache.close()
    assert cache.get(DIGEST) == DATA  # reopened after close: the file is there now
    assert cache.hits == 1
    cache.close()
    warm = ContentCache(tmp_path / "by-digest")
    assert warm.get(DIGEST) == DATA
    assert warm.get(OTHER_DIGEST) is None
    warm.close()


async def test_a_warm_cache_ignores_a_row_that_does_not_match_its_digest(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "by-digest")
    cache.put(DIGEST, DATA)
    cache.put(OTHER_DIGEST, OTHER)
    await cache.flush()
    cache.close()
    with sqlite3.connect(tmp_path / "by-digest" / "content.sqlite3") as db:
        db.execute("UPDATE content SET data = ? WHERE digest = ?", (b"tampered", DIGEST))
    db.close()
    warm = ContentCache(tmp_path / "by-digest")
    assert warm.get(DIGEST) is None
    assert warm.get(OTHER_DIGEST) == OTHER
    warm.close()
