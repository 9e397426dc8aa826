"""Garbage collection only on the UI thread.

    install() -> None      idempotent; needs a QCoreApplication

Python's cyclic collector runs in whichever thread happens to allocate when a threshold is
crossed. With a worker thread parsing thousands of manifests (`regview.ui.loader`), that is
often the worker — which then destroys unreachable Qt objects (a dialog, a timer) from the
wrong thread: Qt warns "Timers cannot be stopped from another thread" or crashes. So automatic
collection is switched off and a timer on the UI thread collects instead, generation by
generation when its threshold is crossed, the way Qt applications such as Anki and qutebrowser
do it.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

_collector: _Collector | None = None


class _Collector(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                return


def install() -> None:
    """Collect garbage on the UI thread only (from now on, for the whole process)."""
    global _collector
    app = QCoreApplication.instance()
    if _collector is not None or app is None:
        return
    _collector = _Collector(app)
    gc.disable()
