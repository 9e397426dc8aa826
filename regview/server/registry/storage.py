"""Content-addressed blob files: `blobs/<algorithm>/<2 hex>/<hex>`, uploads in `uploads/`.

A blob reaches its final name only by `rename` after its bytes were hashed and matched the
digest, so the store never holds a file whose content disagrees with its name. Uploads live in
the same filesystem (`uploads/<id>`), which keeps the rename atomic. Nothing here reads a whole
blob into memory.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from regview.spec.digest import Digest, Hasher

CHUNK = 1024 * 1024


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_root = root / "blobs"
        self.upload_root = root / "uploads"
        self.blob_root.mkdir(parents=True, exist_ok=True)
        self.upload_root.mkdir(parents=True, exist_ok=True)

    # -- blobs -------------------------------------------------------------------------------
    def path(self, digest: Digest) -> Path:
        return self.blob_root / digest.algorithm / digest.encoded[:2] / digest.encoded

    def size(self, digest: Digest) -> int | None:
        try:
            return self.path(digest).stat().st_size
        except OSError:
            return None

    def exists(self, digest: Digest) -> bool:
        return self.path(digest).is_file()

    def iter_range(self, digest: Digest, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end] (inclusive) of a blob, in chunks."""
        with self.path(digest).open("rb") as f:
            f.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                want = CHUNK if remaining is None else min(CHUNK, remaining)
                chunk = f.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def put_bytes(self, data: bytes) -> Digest:
        """Store small content (configs, demo layers) known in memory; returns its digest."""
        digest = Digest.of(data)
        target = self.path(digest)
        if target.exists():
            return digest
        upload_id = self.new_upload()
        with self.upload_path(upload_id).open("wb") as f:
            f.write(data)
        self.commit_upload(upload_id, digest, sync=False)
        return digest

    def delete(self, digest: Digest) -> int:
        """Remove a blob file; returns the bytes freed (0 if it was not there).

        The fan-out directory stays (at most 256 per algorithm): an upload finishing meanwhile
        creates that directory and renames into it without the write lock, and a concurrent GC
        pass lists it; removing it under them fails both."""
        return _remove(self.path(digest))

    def all_blobs(self) -> Iterator[tuple[Digest, int]]:
        for algo_dir in self.blob_root.iterdir():
            if not algo_dir.is_dir():
                continue
            for fan in algo_dir.iterdir():
                if not fan.is_dir():
                    continue
                for f in fan.iterdir():
                    try:
                        yield Digest.parse(f"{algo_dir.name}:{f.name}"), f.stat().st_size
                    except (ValueError, OSError):
                        continue

    # -- uploads -----------------------------------------------------------------------------
    def new_upload(self) -> str:
        upload_id = str(uuid.uuid4())
        self.upload_path(upload_id).touch()
        return upload_id

    def upload_path(self, upload_id: str) -> Path:
        return self.upload_root / upload_id

    def upload_size(self, upload_id: str) -> int | None:
        try:
            return self.upload_path(upload_id).stat().st_size
        except OSError:
            return None

    def hash_upload(self, upload_id: str, algorithm: str) -> Hasher:
        hasher = Hasher(algorithm)
        with self.upload_path(upload_id).open("rb") as f:
            while chunk := f.read(CHUNK):
                hasher.update(chunk)
        return hasher

    def commit_upload(self, upload_id: str, digest: Digest, *, sync: bool = True) -> None:
        """Move a verified upload to its content address (fsync first, so a crash after the
        rename never leaves a named blob with missing bytes)."""
        source = self.upload_path(upload_id)
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if sync:
            self.sync_upload(upload_id)
        # Concurrent pushes of the same blob: both renames carry identical bytes, last one wins.
        source.replace(target)

    def sync_upload(self, upload_id: str) -> None:
        fd = os.open(self.upload_path(upload_id), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def truncate_upload(self, upload_id: str, size: int) -> None:
        os.truncate(self.upload_path(upload_id), size)

    def discard_upload(self, upload_id: str) -> int:
        return _remove(self.upload_path(upload_id))

    def copy_into_upload(self, upload_id: str, digest: Digest) -> None:
        with self.path(digest).open("rb") as src, self.upload_path(upload_id).open("ab") as dst:
            shutil.copyfileobj(src, dst, CHUNK)


def _remove(path: Path) -> int:
    """Unlink a file; its size in bytes, or 0 when it was not there."""
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return 0
    return size
