"""Writing a file so that readers see the old content or the new, never a mix (habit 11)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(
    path: Path,
    data: bytes | str,
    *,
    mode: int | None = None,
    durable: bool = True,
    parents: bool = True,
) -> None:
    """Write to a temporary file in the same folder, then rename it over `path`.

    `durable` fsyncs the file and the folder, so a power cut after return keeps the new content
    (settings, journals); caches pass False — losing one costs a request, not data. `mode` sets
    the file's permissions before it becomes visible (0o600 for anything near a secret).
    `parents=False` refuses to recreate a folder that vanished (a journal's run folder).
    Raises OSError; the temporary file is gone either way.
    """
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:  # make the rename itself durable (POSIX); not possible or needed everywhere
        with contextlib.suppress(OSError, AttributeError):
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
