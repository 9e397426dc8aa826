"""Garbage collection only on the UI thread, and never a long pause while the user works.

    install() -> None          idempotent; needs a QCoreApplication
    busy() -> context manager  a load is running: no full collection of everything meanwhile
    settle() -> None           what exists now is long-lived (start-up done, a load finished)

Python's cyclic collector runs in whichever thread happens to allocate when a threshold is
crossed. With a worker thread parsing thousands of manifests (`regview.ui.loader`), that is
often the worker — which then destroys unreachable Qt objects (a dialog, a timer) from the
wrong thread: Qt warns "Timers cannot be stopped from another thread" or crashes. So automatic
collection is switched off and a timer on the UI thread collects instead, generation by
generation when its threshold is crossed, the way Qt applications such as Anki and qutebrowser
do it.

A full (generation-2) collection traverses every tracked object: with two loads of 10,000 tags
in memory that took 73 ms — a visible hitch while a repository reopened. So long-lived objects
are frozen (`gc.freeze()`: the modules and widgets after start-up, the rows after a load) and
the threshold-driven full collections only traverse what came after. Frozen objects are still
freed by reference counting; only cycles among them wait for the "major" collection
(unfreeze, collect everything, freeze again), which runs when nothing loads and the user has
not touched keyboard or mouse for `IDLE_S` seconds, nor has a load just finished — a pause
nobody is waiting on.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import time
from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

IDLE_S = 2.0  # no input for this long (and no load running): a major collection may run
MAJOR_EVERY_S = 600.0  # even with nothing newly frozen, cycles among frozen objects are freed
CHECK_MS = 250

_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
    }
)

_collector: _Collector | None = None


class _Collector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.busy = 0  # loads running
        self.last_activity = time.monotonic()
        self.last_major = time.monotonic()
        self.major_due = False  # something was frozen since the last major collection
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self.last_activity = time.monotonic()
        return False

    def idle(self, now: float) -> bool:
        return self.busy == 0 and now - self.last_activity >= IDLE_S

    def check(self) -> None:
        now = time.monotonic()
        if (self.major_due or now - self.last_major >= MAJOR_EVERY_S) and self.idle(now):
            self.major()
            return
        counts = gc.get_count()
        # While a load runs, everything it allocates is young and unfrozen: a generation-2
        # collection would traverse all of it (56 ms into a 10,000-tag load). Generations 0 and 1
        # still free short-lived cycles; the rest waits for settle() and the idle major one.
        oldest = 1 if self.busy else 2
        for generation in range(oldest, -1, -1):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)  # generation 2 here traverses only unfrozen objects
                return

    def major(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.major_due = False
        self.last_major = time.monotonic()

    def settle(self) -> None:
        gc.freeze()
        self.major_due = True
        self.last_activity = time.monotonic()  # start-up or a load just ended: the user looks


def install() -> None:
    """Collect garbage on the UI thread only (from now on, for the whole process)."""
    global _collector
    app = QCoreApplication.instance()
    if _collector is not None or app is None:
        return
    _collector = _Collector(app)
    app.installEventFilter(_collector)
    gc.disable()
    atexit.register(gc.unfreeze)  # the collection at interpreter exit then sees everything


@contextlib.contextmanager
def busy() -> Iterator[None]:
    """While the block runs, the major collection waits (threshold collections still run)."""
    collector = _collector
    if collector is not None:
        collector.busy += 1
    try:
        yield
    finally:
        if collector is not None:
            collector.busy -= 1
            # a finished load is when the user starts to look and scroll: not a moment to pause
            collector.last_activity = time.monotonic()


def settle() -> None:
    """Freeze what exists now (long-lived); a major collection follows once the user is idle."""
    if _collector is not None:
        _collector.settle()
