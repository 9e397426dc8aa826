"""Work-arounds for bugs in the PySide6 we ship, applied once at start-up (and in UI tests).

PySide6 6.12.0 on Python 3.11: `SignalInstance.emit()` returns `True` without taking a
reference, so every signal emitted from Python lowers `True`'s reference count by one. After a
few thousand emits (typing in a filter box emits several per keystroke) the count reaches zero
and the interpreter aborts with "Fatal Python error: bool_dealloc". Python 3.12+ makes `True`
immortal, which hides the bug there.

`apply()` measures whether this build has the bug and, only then, gives `True` and `False` a
reference count no session can exhaust (2**40); `None` as well, after an exit-time
"none_dealloc" abort in the benchmark showed the same kind of loss there. Remove this module once PySide6 is fixed.
"""

from __future__ import annotations

import ctypes
import sys

_applied = False


def emit_loses_bool_references() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        probe.ping.emit()
    return sys.getrefcount(True) < before - 8


def apply() -> bool:
    """Apply the work-around if this PySide6 needs it; True when it was applied."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or not emit_loses_bool_references():
        return False
    # None too: an exit-time abort ("deallocating None") showed the same loss on that object.
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    _applied = True
    return True
