"""Keeps the tags table's "Frees" column current, computing it off the UI thread.

    FreesUpdater(model, parent)
        schedule()          rows changed: compute again soon (at most every THROTTLE_MS)
        computed(int)       signal: the model got the figures of this generation
        wait(timeout)       tests and the benchmark: block until no computation is pending

The figures come from the details already loaded (`TagInfo.blobs`, no request): the model's
rows are copied (a list of references) and handed to one worker thread, which builds the
repository's `TagSpace` and the column's sort keys. The result goes back by a queued signal and
is installed only if the rows have not changed meanwhile (`TagsModel.generation`); otherwise a
newer computation is already scheduled. Deletions and restores change the rows, so they are
covered by the same path.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from regview.core.frees import TagSpace
from regview.core.model import TagInfo
from regview.log import get_logger
from regview.ui.tags_model import UNKNOWN_FREES, TagsModel

THROTTLE_MS = 300
log = get_logger("ui.frees")

# One thread for every table: computations queue, and a stale one is skipped when it starts.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regview-frees")


def frees_keys(rows: list[TagInfo]) -> tuple[list[int], TagSpace]:
    """The column's sort keys for `rows` (UNKNOWN_FREES where unknown) and the ledger."""
    space = TagSpace.of(rows)
    figures = space.frees_all(rows)
    keys = [UNKNOWN_FREES if f is None else f for f in figures]
    space.ledger.sizes  # noqa: B018 - built here, not on the UI thread at the first selection
    return keys, space


class FreesUpdater(QObject):
    computed = Signal(int)
    _finished = Signal(int, object)

    def __init__(self, model: TagsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._requested = -1  # generation last handed to the worker
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(THROTTLE_MS)
        self._timer.timeout.connect(self._start)
        self._finished.connect(self._install)

    def schedule(self, immediately: bool = False) -> None:
        if self.model.generation == self._requested:
            return
        if immediately:
            self._timer.stop()
            self._start()
        elif not self._timer.isActive():  # throttle, don't debounce: loads keep adding rows
            self._timer.start()

    def _start(self) -> None:
        generation = self.model.generation
        if generation == self._requested:
            return
        self._requested = generation
        _WORKER.submit(self._compute, generation, list(self.model.rows))

    def _compute(self, generation: int, rows: list[TagInfo]) -> None:
        # Worker thread: touches no Qt object but the signal (queued to the UI thread).
        result = None
        try:
            if generation == self._requested:  # else a newer generation is queued behind
                result = frees_keys(rows)
        except Exception:  # a bug: say so in the log; the column keeps showing "…"
            log.exception("computing what each tag frees failed")
        with contextlib.suppress(RuntimeError):  # the table was closed meanwhile
            self._finished.emit(generation, result)

    def _install(self, generation: int, result: tuple[list[int], TagSpace] | None) -> None:
        if result is None:
            return
        keys, space = result
        if self.model.set_frees(generation, keys, space):
            self.computed.emit(generation)
        else:
            self.schedule()

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the worker has run what was queued (results still need the event loop)."""
        _WORKER.submit(lambda: None).result(timeout)
