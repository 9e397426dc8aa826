"""Computations off the UI thread whose results come back to it: the latest request only.

    OffThread(parent)       run(fn, *args) -> token; done(token, result) on the UI thread
    submit(fn, *args)       fire and forget, on the same worker (a warm-up, a cache)

One worker thread for every table (the Frees column, the selection total, the storage ranking):
computations queue there, and a stale one is skipped when it starts.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from regview.log import get_logger
from regview.ui import gc_guard

log = get_logger("ui.offthread")

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regview-frees")


def submit(fn: Callable[..., Any], *args: Any) -> None:
    _WORKER.submit(fn, *args)


class _Relay(QObject):
    """Carries results from the worker to the UI thread; one, never deleted.

    The worker never touches the requesting object itself: that one may be deleted (its table
    closed) while the worker computes, and emitting a signal of a deleted QObject from another
    thread crashes. The relay's queued signal reaches `_deliver` on the UI thread, which hands
    the result over only if the requester still exists."""

    delivered = Signal(int, int, object)  # requester key, token, result

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[int, weakref.ref[OffThread]] = {}
        self.delivered.connect(self._deliver)

    def _deliver(self, key: int, token: int, result: object) -> None:
        ref = self.owners.get(key)
        owner = ref() if ref is not None else None
        if owner is None or not shiboken6.isValid(owner):
            self.owners.pop(key, None)
            return
        owner.done.emit(token, result)


_RELAY: _Relay | None = None
_KEYS = itertools.count(1)


class OffThread(QObject):
    """Runs one kind of computation on the frees worker thread, the latest request only.

    `run(fn, *args)` returns a token; `done(token, result)` arrives on the UI thread. A request
    overtaken by a newer one before it started is skipped (`done` is not emitted for it); a
    failure is logged (a bug) and reported as a None result. Create it on the UI thread.
    """

    done = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        global _RELAY
        super().__init__(parent)
        self._latest = [0]  # a plain list the worker may read: never the QObject itself
        # The worker allocates a lot: a cyclic collection it triggered would free Qt objects
        # on the wrong thread. gc_guard moves collection to the UI thread (idempotent).
        gc_guard.install()
        if _RELAY is None:
            _RELAY = _Relay()
        self._relay = _RELAY
        self._key = next(_KEYS)
        _RELAY.owners[self._key] = weakref.ref(self)

    @property
    def latest(self) -> int:
        return self._latest[0]

    def run(self, fn: Callable[..., object], *args: object) -> int:
        self._latest[0] += 1
        token = self._latest[0]
        _WORKER.submit(_work, self._relay, self._key, token, self._latest, fn, args)
        return token

    @staticmethod
    def wait(timeout: float = 10.0) -> None:
        """Block until the worker has run what was queued (results still need the event loop)."""
        _WORKER.submit(lambda: None).result(timeout)


def _work(
    relay: _Relay,
    key: int,
    token: int,
    latest: list[int],
    fn: Callable[..., object],
    args: tuple[object, ...],
) -> None:
    # Worker thread: reads a plain int of the requester, emits only the relay's signal.
    if token != latest[0]:
        return  # a newer request is queued behind this one
    result = None
    try:
        result = fn(*args)
    except Exception:  # a bug: say so in the log; the view keeps what it showed
        log.exception("a storage computation failed")
    relay.delivered.emit(key, token, result)
