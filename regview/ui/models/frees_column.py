"""Keeps the tags table's "Frees" column current, computing it off the UI thread.

    FreesUpdater(model, parent)
        schedule()          rows changed: compute again soon (at most every THROTTLE_MS)
        computed(int)       signal: the model got the figures of this generation
        wait(timeout)       tests and the benchmark: block until no computation is pending

The figures come from the details already loaded (`TagInfo.blobs`, no request): the model's
rows are copied (a list of references) and handed to one worker thread, which keeps each
repository's `SpaceTracker` (the last few repositories shown) and applies only what changed:
the batches of a listing as they arrive (fed while the view is paused, no figures shown: a tag's
figure drops when a later tag shares its layers), then a deletion, a restore, a refresh. The
snapshot and the column's sort keys go back by a queued signal and are installed only if the
rows have not changed meanwhile (`TagsModel.generation`); otherwise a newer computation is
already scheduled.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from PySide6.QtCore import QObject, QTimer, Signal

from regview.core.frees import SpaceTracker, TagSpace
from regview.core.model import TagInfo
from regview.ui.models.tags_model import UNKNOWN_FREES, TagsModel
from regview.ui.offthread import OffThread, submit

THROTTLE_MS = 300
#: repositories whose trackers the worker keeps (reopening one applies only what changed):
#: at most this many, holding at most ROWS_KEPT rows together — a tracker costs ~0.6 KB a row
#: (62 MB for 100,000 tags), so the bound is on rows; the one used last is always kept
TRACKERS_KEPT = 16
ROWS_KEPT = 300_000


def frees_keys(
    rows: list[TagInfo], tracker: SpaceTracker | None = None
) -> tuple[list[int], TagSpace]:
    """The column's sort keys for `rows` (UNKNOWN_FREES where unknown) and the snapshot; with
    a `tracker`, only what changed since its last sync is computed."""
    space = TagSpace.of(rows) if tracker is None else tracker.sync(rows)
    return space.frees_keys(rows, UNKNOWN_FREES), space


class Trackers:
    """The worker thread's trackers, by repository, the most recently used kept."""

    def __init__(self, kept: int = TRACKERS_KEPT, rows: int | None = None) -> None:
        self.kept = kept
        self.rows = rows  # None: no bound on rows
        self._by_key: OrderedDict[str, SpaceTracker] = OrderedDict()

    def get(self, key: str) -> SpaceTracker:
        tracker = self._by_key.pop(key, None) or SpaceTracker()
        self._by_key[key] = tracker
        self._trim()
        return tracker

    def _trim(self) -> None:
        """The least recently used go while there are too many, or too many rows."""
        by_key = self._by_key
        while len(by_key) > self.kept:
            by_key.popitem(last=False)
        if self.rows is not None:
            held = sum(t.row_count for t in by_key.values())
            while held > self.rows and len(by_key) > 1:
                held -= by_key.popitem(last=False)[1].row_count

    def keys_of(self) -> list[str]:
        """The repositories kept, least recently used first (tests)."""
        return list(self._by_key)

    def keys(self, key: str, rows: list[TagInfo]) -> tuple[list[int], TagSpace]:
        try:
            return frees_keys(rows, self.get(key))
        except Exception:
            self._by_key.pop(key, None)  # half applied: the next computation starts over
            raise
        finally:
            self._trim()  # (it may have grown)

    def feed(self, key: str, rows: list[TagInfo]) -> None:
        try:
            self.get(key).feed(rows)
        except Exception:
            self._by_key.pop(key, None)
            raise
        finally:
            self._trim()


class FreesUpdater(QObject):
    computed = Signal(int)

    def __init__(self, model: TagsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._requested = -1  # generation last handed to the worker for figures
        self._fed = -1  # generation last fed (while paused)
        self._started = 0.0  # monotonic time of the last job handed over
        self.paused = False
        self._jobs: dict[int, int] = {}  # worker token → generation
        self._trackers = Trackers(rows=ROWS_KEPT)  # touched by worker jobs only
        self._worker = OffThread(self)
        self._worker.done.connect(self._install)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self._start)

    @property
    def computing(self) -> bool:
        """The rows changed and their figures are not installed yet."""
        return self.model.space is None and bool(self.model.rows)

    def pause(self, paused: bool) -> None:
        """While a listing loads, rows arrive in batches: figures shown after each would be
        wrong until the last (a later tag may share a layer) and cost the UI a re-sort. The
        view pauses here until the load ends; meanwhile the batches are only fed to the
        tracker, so that the figures are ready soon after the last one."""
        self.paused = paused
        if not paused:
            self.schedule(immediately=True)

    def schedule(self, immediately: bool = False) -> None:
        generation = self.model.generation
        if generation == (self._fed if self.paused else self._requested):
            return
        since = (time.monotonic() - self._started) * 1000
        if immediately or (not self._timer.isActive() and since >= THROTTLE_MS):
            self._timer.stop()
            self._start()  # the first change after a quiet spell starts at once
        elif not self._timer.isActive():  # throttle, don't debounce: loads keep adding rows
            self._timer.start(max(1, int(THROTTLE_MS - since)))

    def _start(self) -> None:
        generation = self.model.generation
        key = self.model.repository
        if not self.model.rows:
            return  # nothing to show (an emptied table, a listing about to arrive)
        if self.paused:
            if generation != self._fed:
                self._fed = generation
                self._started = time.monotonic()
                self._worker.run(self._trackers.feed, key, list(self.model.rows))
            return
        if generation == self._requested:
            return
        self._requested = self._fed = generation
        self._started = time.monotonic()
        token = self._worker.run(self._trackers.keys, key, list(self.model.rows))
        self._jobs = {token: generation}

    def _install(self, token: int, result: tuple[list[int], TagSpace] | None) -> None:
        generation = self._jobs.pop(token, None)
        if result is None or generation is None:
            return
        keys, space = result
        if self.model.set_frees(generation, keys, space):
            self.computed.emit(generation)
            submit(space.prepare_selections)  # the selection total's lookups
        else:
            self.schedule()

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the worker has run what was queued (results still need the event loop)."""
        OffThread.wait(timeout)
