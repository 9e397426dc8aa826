"""The PySide6 we install must not lose references on signal emits (6.12.0 on 3.11 does)."""

from __future__ import annotations

import sys

from regview.ui.pyside_fixes import emit_loses_bool_references


def test_signal_emit_keeps_reference_counts() -> None:
    assert not emit_loses_bool_references()


def test_many_emits_leave_true_alone() -> None:
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        changed = Signal(str)

    e = Emitter()
    seen: list[str] = []
    e.changed.connect(seen.append)
    before = sys.getrefcount(True)
    for i in range(5000):
        e.changed.emit(str(i))
    assert len(seen) == 5000
    assert abs(sys.getrefcount(True) - before) < 100
