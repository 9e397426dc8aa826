"""Who holds a registry data directory: an OS file lock on `<data>/registry.lock`.

A running registry (`regview serve`, the GUI's local mode) holds it for its lifetime; offline GC
(`regview local gc`) needs it too, because it deletes at once what a live server's pushes are
about to reference (20 of 20 concurrent pushes failed with "manifest blob unknown"). The lock is
the kernel's (`flock` / `LockFileEx` through msvcrt), so a killed server never leaves a stale
lock behind: the file stays, the lock goes with the process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from regview.server.errors import StoreError

LOCK_NAME = "registry.lock"


class DataDirBusy(StoreError):
    """Another process holds the data directory."""


class DataDirLock:
    def __init__(self, data_dir: Path, purpose: str) -> None:
        self.path = data_dir / LOCK_NAME
        self.purpose = purpose
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise DataDirBusy naming the holder's pid and purpose."""
        if self._file is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = self.path.open("a+", encoding="utf-8")
        try:
            _lock(f)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise DataDirBusy(
                f"the registry data in {self.path.parent} is in use by {holder}; stop that "
                "registry first (its online GC collects unreferenced content while it runs)"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"regview pid {os.getpid()} ({self.purpose})\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            f.close()  # closing the descriptor releases the lock


if sys.platform == "win32":
    import msvcrt

    def _lock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
