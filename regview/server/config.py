"""Settings of one embedded registry instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from regview.server.v2.bodies import DEFAULT_BODY_TIMEOUT

#: An hour between a push's first finished blob and its manifest covers multi-gigabyte layers
#: on slow links; GitLab itself waits a day.
DEFAULT_PUSH_GRACE = 3600.0


@dataclass(frozen=True, slots=True)
class ServerConfig:
    data_dir: Path
    #: Seconds an unreferenced manifest/blob waits before online GC deletes it (GitLab: 24 h).
    #: Negative: no online GC.
    gc_delay: float = 86400.0
    #: Online GC never collects what a push touched (uploaded, mounted, pushed) less than this
    #: many seconds ago, whatever `gc_delay`: a client uploads its blobs first and names them in
    #: a manifest only at the end, and nothing tells the registry the push is still going.
    push_grace: float = DEFAULT_PUSH_GRACE
    #: Seconds between online GC passes; None picks min(max(gc_delay / 4, 1), 600).
    gc_interval: float | None = None
    #: Uploads untouched for this long are purged by GC.
    upload_expiry: float = 86400.0
    catalog_max: int = 1000
    catalog_default: int = 100
    tags_max: int = 10000
    #: Seconds a request body may stall before the request is answered 408 (uvicorn has no
    #: body read timeout of its own).
    body_timeout: float = DEFAULT_BODY_TIMEOUT

    @property
    def online_gc_delay(self) -> float:
        """The review delay online GC uses: `gc_delay`, at least `push_grace`. (A stamp is set
        by the first pass after the last push touched an item, so nothing goes sooner than
        this after that push.)"""
        return max(self.gc_delay, self.push_grace)

    @property
    def effective_gc_interval(self) -> float:
        if self.gc_interval is not None:
            return self.gc_interval
        return min(max(self.online_gc_delay / 4, 1.0), 600.0)
