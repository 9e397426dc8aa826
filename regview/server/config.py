"""Settings of one embedded registry instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServerConfig:
    data_dir: Path
    #: Seconds an unreferenced manifest/blob waits before online GC deletes it (GitLab: 24 h).
    #: Negative: no online GC.
    gc_delay: float = 86400.0
    #: Seconds between online GC passes; None picks min(max(gc_delay / 4, 1), 600).
    gc_interval: float | None = None
    #: Uploads untouched for this long are purged by GC.
    upload_expiry: float = 86400.0
    catalog_max: int = 1000
    catalog_default: int = 100
    tags_max: int = 10000

    @property
    def effective_gc_interval(self) -> float:
        if self.gc_interval is not None:
            return self.gc_interval
        return min(max(self.gc_delay / 4, 1.0), 600.0)
