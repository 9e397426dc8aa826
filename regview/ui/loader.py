"""Tag listings load on a worker thread; the UI thread only receives finished rows, in batches.

    loader = BackgroundLoader()                       # one per controller
    tags = await loader.load(key, endpoint, credentials, repository, on_rows, on_total=None,
                             tags=None, cancel=None)  # awaited on the UI loop
    loader.link_note(key) -> str                      # throttling / pull allowance, in words
    await loader.aclose()                             # closes its worker-side clients

While a repository of 10,000 tags loads, the work per tag — HTTP, JSON parsing of manifests and
configs, building `TagInfo`, the digest-keyed disk cache reads and writes, the end-of-load
listing save — runs on one daemon thread with its own asyncio loop (`WorkerLoop`). So does
what the tags model needs per row (sort keys, lowercase search text: `models.tags_model.prepare_tags`),
so the UI thread only extends lists. Rows reach the UI thread through a `RowFeed`: collected
under a lock, handed over at most every `interval` (100 ms), and in chunks that fit a ~5 ms
budget, so the UI loop never stalls behind a burst (a revalidation answered by 304s delivers
thousands of rows at once). The GIL switch interval is lowered to 0.5 ms (see `WorkerLoop`):
every call from Qt into Python on the UI thread has to win the GIL back from the worker.

Habit 7 across threads: cancelling the awaiting UI task cancels the worker task and waits until
it has finished its clean-up; `aclose()` closes the clients on the worker loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from regview.core.model import Credentials, Endpoint, TagInfo
from regview.log import get_logger
from regview.ui import gc_guard
from regview.ui.models.table_model import PreparedRows

log = get_logger("ui.loader")
SWITCH_INTERVAL = 0.0005  # seconds; see WorkerLoop
T = TypeVar("T")


class WorkerLoop:
    """One daemon thread running an asyncio loop for network-and-parsing work."""

    _shared: WorkerLoop | None = None
    _shared_lock = threading.Lock()

    def __init__(self, name: str = "regview-loader") -> None:
        # A CPU-busy worker keeps the GIL until the UI thread has waited a whole switch
        # interval (5 ms by default) — and the UI thread waits that long again after every
        # call into Qt that released it: a 200-row delivery took 40–80 ms that way. With
        # 0.5 ms the hand-over is ten times quicker; the worker loses a little throughput.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()
        ready.wait()

    @classmethod
    def shared(cls) -> WorkerLoop:
        """The process's worker loop (called on the UI thread, which then does all the gc)."""
        gc_guard.install()  # the worker allocates a lot: keep the cyclic gc off its thread
        with cls._shared_lock:
            if cls._shared is None or not cls._shared.thread.is_alive():
                cls._shared = WorkerLoop()
            return cls._shared

    async def run(
        self, coro: Coroutine[Any, Any, T], on_cancel: Callable[[], None] | None = None
    ) -> T:
        """Run `coro` on the worker loop; await it from the caller's loop.

        Cancelling the caller cancels the worker task and then waits for it to finish, so its
        clean-up (closing responses, the listing save) happens before the caller goes on.
        """
        here = asyncio.get_running_loop()
        result: asyncio.Future[T] = here.create_future()
        holder: list[asyncio.Task[T]] = []

        def settle(task: asyncio.Task[T]) -> None:
            def transfer() -> None:
                if result.done():
                    return
                if task.cancelled():
                    result.cancel()
                elif (exc := task.exception()) is not None:
                    result.set_exception(exc)
                else:
                    result.set_result(task.result())

            with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody waits
                here.call_soon_threadsafe(transfer)

        def start() -> None:
            task = self.loop.create_task(coro)
            holder.append(task)
            task.add_done_callback(settle)

        def cancel() -> None:
            if holder:
                holder[0].cancel()
            else:  # not started yet: it never will be
                coro.close()
                here.call_soon_threadsafe(result.cancel)

        self.loop.call_soon_threadsafe(start)
        try:
            return await asyncio.shield(result)
        except asyncio.CancelledError:
            if on_cancel is not None:
                on_cancel()
            self.loop.call_soon_threadsafe(cancel)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(result), 15)
            raise


Prepare = Callable[[list[TagInfo]], list[TagInfo]]


class RowFeed:
    """Rows produced on the worker thread, delivered on the UI loop in paced, time-sliced chunks.

    With `prepare` (default for tag loads: `models.tags_model.prepare_tags`) each batch's sort keys,
    lowercase search text and identities are computed in `put`, on the worker thread; the UI
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
        """Called on the worker thread."""
        if self._prepare is not None:
            rows = self._prepare(rows)
            # Computing facts is pure CPU: let a waiting UI thread have the GIL now, not at
            # the end of the worker's switch interval.
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
        UI loop run in between (a worker ahead of the UI leaves thousands of rows), then stop."""
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
    """Per-profile `RegistryClient`s living on the worker loop, and tag loads through them."""

    def __init__(self, worker: WorkerLoop | None = None, cache_dir: Path | None = None) -> None:
        self._worker = worker
        self._cache_dir = cache_dir
        # key → (endpoint, credentials, client); only touched on the worker loop
        self._clients: dict[str, tuple[Endpoint, Credentials | None, Any]] = {}

    @property
    def worker(self) -> WorkerLoop:
        if self._worker is None:
            self._worker = WorkerLoop.shared()
        return self._worker

    def _cache(self) -> Path | None:
        if self._cache_dir is None:
            try:
                from regview.paths import default_paths

                self._cache_dir = default_paths().cache
            except Exception as exc:  # no cache is no reason not to load
                log.info("no tag cache: %s", exc)
        return self._cache_dir

    async def _client(self, key: str, endpoint: Endpoint, credentials: Credentials | None) -> Any:
        """On the worker loop: the client for `key`, rebuilt when the credential changed."""
        from regview.core.client.client import RegistryClient

        known = self._clients.get(key)
        if known is not None and known[0] == endpoint and known[1] == credentials:
            return known[2]
        if known is not None:
            self._clients.pop(key, None)
            await known[2].aclose()
        client = RegistryClient(endpoint, credentials, cache_dir=self._cache())
        self._clients[key] = (endpoint, credentials, client)
        return client

    async def load(
        self,
        key: str,
        endpoint: Endpoint,
        credentials: Credentials | None,
        repository: str,
        on_rows: Callable[[list[TagInfo]], None],
        *,
        on_total: Callable[[int], None] | None = None,
        tags: list[str] | None = None,
        cancel: LoadCancel | None = None,
    ) -> tuple[list[str], list[TagInfo]]:
        """(tag names listed, TagInfo of each loaded tag); rows arrive through `on_rows` first."""
        from regview.core.inventory import load_tags
        from regview.ui.models.tags_model import prepare_tags

        ui = asyncio.get_running_loop()
        feed = RowFeed(ui, on_rows, prepare=prepare_tags)

        async def work() -> tuple[list[str], list[TagInfo]]:
            client = await self._client(key, endpoint, credentials)
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
                result = await self.worker.run(work(), on_cancel=feed.close)
            except BaseException:
                feed.close()  # what is still queued belongs to a load nobody shows any more
                raise
            await feed.finish()
        gc_guard.settle()  # the rows live as long as the table: no full collection re-reads them
        return result

    def link_note(self, key: str) -> str:
        """Throttling and pull allowance of `key`'s client, in words ("" when neither); read
        from the UI thread (plain attribute reads of the worker's limiter)."""
        known = self._clients.get(key)
        return known[2].limiter.status_words(known[2].registry) if known is not None else ""

    async def aclose(self) -> None:
        """Close every worker-side client (on the worker loop) and wait for it."""
        if self._worker is None:
            return

        async def close_all() -> None:
            clients, self._clients = list(self._clients.values()), {}
            for _endpoint, _credentials, client in clients:
                try:
                    await client.aclose()
                except Exception:  # closing goes on for the others
                    log.exception("closing a loader client failed")

        await self.worker.run(close_all())

    async def forget(self, key: str) -> None:
        """Close the client of one profile (its credential or address changed)."""
        if self._worker is None:
            return

        async def drop() -> None:
            known = self._clients.pop(key, None)
            if known is not None:
                await known[2].aclose()

        await self.worker.run(drop())


class LoadCancel:
    """The Cancel button's flag, set on the UI thread and seen by the worker loop's load."""

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
