"""Tag listings load on the I/O thread; the UI thread only receives finished rows, in batches.

    loader = BackgroundLoader()                       # one per controller
    names, tags = await loader.load(session.io, session.io_client, repository, on_rows,
                                    on_total=None, tags=None, cancel=None)  # awaited on the UI loop

While a repository of 10,000 tags loads, the work per tag — HTTP, JSON parsing of manifests and
configs, building `TagInfo`, the digest-keyed disk cache reads and writes, the end-of-load
listing save — runs on the I/O thread (`services.io_loop.IoLoop`), through the profile's one
client (the session's: one pool, one token cache, one disk cache). So does
what the tags model needs per row (sort keys, lowercase search text: `models.tags_model.prepare_tags`),
so the UI thread only extends lists. Rows reach the UI thread through a `RowFeed`: collected
under a lock, handed over at most every `interval` (100 ms), and in chunks that fit a ~5 ms
budget, so the UI loop never stalls behind a burst (a revalidation answered by 304s delivers
thousands of rows at once). The GIL switch interval is lowered to 0.5 ms (see `BackgroundLoader`):
every call from Qt into Python on the UI thread has to win the GIL back from the I/O thread.

Habit 7 across threads: cancelling the awaiting UI task cancels the I/O task and waits until
it has finished its clean-up (`IoLoop.run`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from regview.core.model import TagInfo
from regview.log import get_logger
from regview.services.io_loop import IoLoop
from regview.ui import gc_guard
from regview.ui.models.table_model import PreparedRows

if TYPE_CHECKING:
    from regview.core.client.client import RegistryClient

log = get_logger("ui.loader")
SWITCH_INTERVAL = 0.0005  # seconds; see BackgroundLoader


Prepare = Callable[[list[TagInfo]], list[TagInfo]]


class RowFeed:
    """Rows produced on the I/O thread, delivered on the UI loop in paced, time-sliced chunks.

    With `prepare` (default for tag loads: `models.tags_model.prepare_tags`) each batch's sort keys,
    lowercase search text and identities are computed in `put`, on the I/O thread; the UI
    thread then only extends lists and announces the rows (`beginInsertRows`).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_rows: Callable[[list[TagInfo]], None],
        interval: float = 0.1,
        budget: float = 0.005,
        prepare: Prepare | None = None,
    ) -> None:
        self._loop = loop
        self._on_rows = on_rows
        self._interval = interval
        self._budget = budget
        self._prepare = prepare
        self._lock = threading.Lock()
        self._pending: list[list[TagInfo]] = []  # batches as put, oldest first
        self._scheduled = False
        self._last = 0.0
        self._chunk = 200  # adapted so that one delivery takes about `budget`
        self._closed = False
        self.delivered = 0

    def put(self, rows: list[TagInfo]) -> None:
        """Called on the I/O thread."""
        if self._prepare is not None:
            rows = self._prepare(rows)
            # Computing facts is pure CPU: let a waiting UI thread have the GIL now, not at
            # the end of the I/O thread's switch interval.
            time.sleep(0)
        with self._lock:
            if self._closed:
                return
            self._pending.append(rows)
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        wait = max(0.0, self._last + self._interval - time.monotonic())
        self._loop.call_later(wait, self._deliver)

    def _take(self, limit: int | None) -> tuple[list[TagInfo], bool]:
        """Up to `limit` pending rows (one kind of batch: prepared or not), and whether more wait."""
        with self._lock:
            if not self._pending:
                self._scheduled = False
                return [], False
            first = self._pending[0]
            if limit is None or len(first) <= limit:
                chunk = self._pending.pop(0)
                # small prepared batches are merged up to the limit (one beginInsertRows)
                while (
                    self._pending
                    and isinstance(chunk, PreparedRows)
                    and isinstance(nxt := self._pending[0], PreparedRows)
                    and (limit is None or len(chunk) + len(nxt) <= limit)
                ):
                    chunk = _join(chunk, nxt)
                    self._pending.pop(0)
                while (
                    self._pending
                    and not isinstance(chunk, PreparedRows)
                    and not isinstance(self._pending[0], PreparedRows)
                    and (limit is None or len(chunk) + len(self._pending[0]) <= limit)
                ):
                    chunk = chunk + self._pending.pop(0)
            elif isinstance(first, PreparedRows):
                chunk, self._pending[0] = first.slice(0, limit), first.slice(limit)
            else:
                chunk, self._pending[0] = first[:limit], first[limit:]
            more = bool(self._pending)
            if not more:
                self._scheduled = False
            return chunk, more

    def _deliver(self) -> None:
        if self._closed:
            return
        chunk, more = self._take(self._chunk)
        if chunk:
            self._hand_over(chunk)
        if more:
            # the rest right after the UI has had a turn (paint, input), not a whole interval later
            self._loop.call_later(0.001, self._deliver)

    def close(self) -> None:
        with self._lock:
            self._pending = []
            self._closed = True

    def drain(self) -> None:
        """Deliver everything still pending now, in one go (the load is over), then stop."""
        while True:
            chunk, _more = self._take(None)
            if not chunk:
                break
            self._on_rows(chunk)
            self.delivered += len(chunk)
        self.close()

    async def finish(self) -> None:
        """The load is over: deliver what is still pending in budget-sized chunks, letting the
        UI loop run in between (an I/O thread ahead of the UI leaves thousands of rows), then stop."""
        while not self._closed:
            chunk, more = self._take(self._chunk)
            if chunk:
                self._hand_over(chunk)
            if not more:
                break
            await asyncio.sleep(0.001)
        self.close()

    def _hand_over(self, chunk: list[TagInfo]) -> None:
        start = time.monotonic()
        self._on_rows(chunk)
        self.delivered += len(chunk)
        per_row = (time.monotonic() - start) / len(chunk)
        if per_row > 0:
            self._chunk = max(20, min(5000, int(self._budget / per_row)))
        self._last = time.monotonic()


def _join(a: PreparedRows[TagInfo], b: PreparedRows[TagInfo]) -> PreparedRows[TagInfo]:
    return PreparedRows([*a, *b], a.idents + b.idents, a.facts + b.facts)


class BackgroundLoader:
    """Tag loads on the I/O loop through the session's own client; rows reach the UI loop in
    paced chunks (`RowFeed`)."""

    def __init__(self) -> None:
        # A CPU-busy I/O thread keeps the GIL until the UI thread has waited a whole switch
        # interval (5 ms by default) — and the UI thread waits that long again after every
        # call into Qt that released it: a 200-row delivery took 40–80 ms that way. With
        # 0.5 ms the hand-over is ten times quicker; the I/O thread loses a little throughput.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        gc_guard.install()  # the I/O thread allocates a lot: keep the cyclic gc off its thread

    async def load(
        self,
        io: IoLoop,
        client: RegistryClient,
        repository: str,
        on_rows: Callable[[list[TagInfo]], None],
        *,
        on_total: Callable[[int], None] | None = None,
        tags: list[str] | None = None,
        cancel: LoadCancel | None = None,
    ) -> tuple[list[str], list[TagInfo]]:
        """(tag names listed, TagInfo of each loaded tag); rows arrive through `on_rows` first.

        `client` is the client itself (`RegistrySession.io_client`), living on `io`'s loop."""
        from regview.core.inventory import load_tags
        from regview.ui.models.tags_model import prepare_tags

        ui = asyncio.get_running_loop()
        feed = RowFeed(ui, on_rows, prepare=prepare_tags)

        async def work() -> tuple[list[str], list[TagInfo]]:
            names = tags if tags is not None else await client.list_tags(repository)
            if on_total is not None:
                with contextlib.suppress(RuntimeError):
                    ui.call_soon_threadsafe(on_total, len(names))
            stop = asyncio.Event()
            if cancel is not None:
                cancel.mirror(asyncio.get_running_loop(), stop)
            loaded = await load_tags(client, repository, on_batch=feed.put, cancel=stop, tags=names)
            return names, loaded

        with gc_guard.busy():
            try:
                result = await io.run(work(), on_cancel=feed.close)
            except BaseException:
                feed.close()  # what is still queued belongs to a load nobody shows any more
                raise
            await feed.finish()
        gc_guard.settle()  # what the load left is collected once the user is idle, not now
        return result


class LoadCancel:
    """The Cancel button's flag, set on the UI thread and seen by the I/O loop's load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._hooks: list[Callable[[], None]] = []

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        with self._lock:
            self._set = True
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            with contextlib.suppress(RuntimeError):
                hook()

    def mirror(self, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        """Set `event` (on its own loop) when this is set — at once if it already is."""

        def hook() -> None:
            loop.call_soon_threadsafe(event.set)

        with self._lock:
            if not self._set:
                self._hooks.append(hook)
                return
        hook()
