"""Garbage collection only on the UI thread, and never a long pause while the user works.

    install() -> None          idempotent; needs a QCoreApplication
    busy() -> context manager  a load is running: no generation-2 collection meanwhile
    settle() -> None           start-up done (the first call freezes what exists, for good),
                               or a load finished: generation 2 is collected once idle

Python's cyclic collector runs in whichever thread happens to allocate when a threshold is
crossed. With the I/O thread parsing thousands of manifests (`services.io_loop`, where every
registry client lives), that is often the I/O thread — which then destroys unreachable Qt
objects (a dialog, a timer) from the wrong thread. Qt then cannot unregister their timers ("Timers
cannot be stopped from another thread"); the UI thread's dispatcher keeps them and, when one
next fires, delivers its event to freed memory: a SIGSEGV one timer interval later, in whatever
runs then (tests/ui/test_gc_guard_io_thread.py shows it in a child process). So automatic
collection is switched off and a timer on the UI thread collects instead, generation by
generation when its threshold is crossed, the way Qt applications such as Anki and qutebrowser
do it.

A full (generation-2) collection traverses every tracked object it is given. After start-up
that is ~82,000 objects (modules, classes, the main window's widgets) — half of what a full
collection traversed with two loads of 10,000 tags in memory, and they never become garbage
while the app runs. So the first `settle()` (regview.app, once the window has started)
freezes them for good (`gc.freeze()`, never undone): no collection traverses them again.
Later settles (a load finished) freeze nothing: they only say a collection is due.

Generations 0 and 1 are collected on their thresholds at any time (short-lived cycles, cheap);
during a load, together each time (what survives is the load's rows, bound for generation 2).
Generation 2 — everything since start-up, the rows of the loads included — is collected only
when nothing loads and the user has not touched keyboard or mouse for `IDLE_S` seconds, nor has
a load just finished: a pause nobody is waiting on, and half the one of the earlier design that
unfroze and collected everything (issue 10: 81–127 ms of UI-thread CPU against 191–221 ms, side
by side at load 10–15, bench/results-ui.md).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import time
from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

IDLE_S = 2.0  # no input for this long (and no load running): generation 2 may be collected
MAJOR_EVERY_S = 600.0  # and at least this often when idle, threshold or not
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
        self.major_due = False  # a load finished since the last generation-2 collection
        self.started = False  # the start-up heap is frozen (the first settle)
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
        idle = self.idle(now)
        if idle and (self.major_due or now - self.last_major >= MAJOR_EVERY_S):
            self.major()
            return
        counts = gc.get_count()
        # Generation 2 holds every row a load made: traversing it costs tens of milliseconds
        # (56 ms in the middle of a 10,000-tag load). Only when idle; generations 0 and 1
        # still free short-lived cycles meanwhile.
        oldest = 2 if idle else 1
        for generation in range(oldest, -1, -1):
            if counts[generation] > self.threshold[generation]:
                if generation == 2:
                    self.major()
                else:
                    # While a load runs, what survives a young collection is nearly all rows
                    # and summaries on their way to generation 2; generation 1 traversed them
                    # again, ten collections' worth at once (up to 29 ms in one pause through
                    # a 50 ms link). Collected together, each is traversed once, and a pause
                    # is bounded by what the last check's interval allocated.
                    gc.collect(1 if self.busy else generation)
                return

    def major(self) -> None:
        """Everything since start-up (the frozen start-up heap is not traversed)."""
        gc.collect()
        self.major_due = False
        self.last_major = time.monotonic()

    def settle(self) -> None:
        if not self.started:
            self.started = True
            gc.freeze()  # the start-up heap, for good
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
    """While the block runs, generation 2 waits (generations 0 and 1 are still collected)."""
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
    """Start-up done (the first call: freeze what exists now, for good) or a load finished;
    either way a generation-2 collection follows once the user is idle."""
    if _collector is not None:
        _collector.settle()
