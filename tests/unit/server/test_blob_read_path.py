"""The blob GET path over a real socket (uvicorn + httptools + uvloop, as `regview serve` runs):
pieces read from the page cache on the event loop (`RWF_NOWAIT`) and pieces read from disk in a
worker thread must give the same bytes, whole and in ranges that cross piece boundaries."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from regview.server.runner import LocalRegistry
from regview.server.v2 import blobs as v2_blobs

REPO = "bench/blob"
# three pieces and a ragged end, so every range below crosses a piece boundary
DATA = os.urandom(3 * v2_blobs.PIECE + 12_345)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, str]]:
    # the path through `send` (TLS, h11, what sendfile could not send); plain TCP with
    # httptools otherwise sends with sendfile (tests/integration/test_server_blob_zerocopy.py)
    monkeypatch.setattr(v2_blobs.ZeroCopy, "of", staticmethod(lambda scope, send: None))
    with (
        LocalRegistry(tmp_path / "data") as reg,
        httpx.Client(base_url=reg.url, timeout=30) as http,
    ):
        digest = "sha256:" + hashlib.sha256(DATA).hexdigest()
        r = http.post(f"/v2/{REPO}/blobs/uploads/?digest={digest}", content=DATA)
        assert r.status_code == 201, r.text
        yield http, digest


def check_ranges(http: httpx.Client, digest: str) -> None:
    url = f"/v2/{REPO}/blobs/{digest}"
    r = http.get(url)
    assert r.status_code == 200 and r.content == DATA
    piece = v2_blobs.PIECE
    for start, end in ((0, 0), (piece - 1, piece), (10, 2 * piece + 7), (piece, len(DATA) - 1)):
        r = http.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert r.status_code == 206, r.text
        assert r.content == DATA[start : end + 1], (start, end)
    r = http.get(url, headers={"Range": "bytes=-5000"})
    assert r.content == DATA[-5000:]
    r = http.get(url, headers={"Range": f"bytes={piece + 3}-"})
    assert r.content == DATA[piece + 3 :]


def test_cached_pieces_are_read_on_the_loop(
    served: tuple[httpx.Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, digest = served
    threaded: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, size: int, offset: int) -> bytes:
        threaded.append(size)
        return real_pread(fd, size, offset)

    monkeypatch.setattr(v2_blobs.os, "pread", counting_pread)
    check_ranges(http, digest)
    if v2_blobs._NOWAIT is not None:
        # just pushed: in the page cache, so no piece took the thread-pool path
        assert threaded == []


def test_pieces_from_disk_are_read_in_a_thread(
    served: tuple[httpx.Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, digest = served
    monkeypatch.setattr(v2_blobs, "read_cached", lambda fd, size, offset: None)
    check_ranges(http, digest)


def test_read_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "blob"
    path.write_bytes(DATA)
    fd = os.open(path, os.O_RDONLY)
    try:
        if v2_blobs._NOWAIT is not None:
            got = v2_blobs.read_cached(fd, 1000, 77)
            assert got is not None and bytes(got) == DATA[77:1077]
            tail = v2_blobs.read_cached(fd, 1000, len(DATA) - 10)  # a short read at the end
            assert tail is not None and bytes(tail) == DATA[-10:]
        assert v2_blobs.read_cached(fd, 1000, len(DATA)) is None  # at the end: the thread says so
        monkeypatch.setattr(v2_blobs, "_NOWAIT", None)  # a system without RWF_NOWAIT
        assert v2_blobs.read_cached(fd, 1000, 0) is None
    finally:
        os.close(fd)


def test_the_first_piece_is_small(
    served: tuple[httpx.Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a client peeks at a body's first bytes before it stores any (skopeo: the compression):
    # they go out before a whole piece is read
    http, digest = served
    sizes: list[int] = []
    real_cached = v2_blobs.read_cached

    def spy(fd: int, size: int, offset: int) -> memoryview | None:
        sizes.append(size)
        return real_cached(fd, size, offset)

    monkeypatch.setattr(v2_blobs, "read_cached", spy)
    url = f"/v2/{REPO}/blobs/{digest}"
    r = http.get(url)
    assert r.status_code == 200 and r.content == DATA
    first = v2_blobs.FIRST_PIECE
    assert sizes[0] == first < v2_blobs.PIECE
    assert sizes[1:-1] == [v2_blobs.PIECE] * (len(sizes) - 2)
    for start, end in ((0, first - 1), (0, first), (first - 1, first + 1), (5, first + 5)):
        r = http.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert r.status_code == 206 and r.content == DATA[start : end + 1], (start, end)
