"""A guard against a PySide6 build known to corrupt the interpreter.

PySide6 6.12.0 on Python 3.11: `SignalInstance.emit()` returns `True` without taking a
reference, so every signal emitted from Python lowers `True`'s reference count by one; after a
few thousand emits (typing in a filter box emits several per keystroke) the interpreter aborts
with "Fatal Python error: bool_dealloc". Python 3.12+ makes `True` immortal, which hides it.

pyproject.toml keeps PySide6 below 6.12 for this reason. `apply()` checks the build actually
loaded (a bundle or a hand-installed PySide6 may differ) and refuses to start on a broken one
with a message that says what to install, rather than patching reference counts and running on
a corrupted interpreter.
"""

from __future__ import annotations

import sys


class BrokenPySide(RuntimeError):
    """The loaded PySide6 has the signal-emit reference bug."""


def emit_loses_bool_references() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        probe.ping.emit()
    return sys.getrefcount(True) < before - 8


def apply() -> None:
    """Raise BrokenPySide if this PySide6 would crash the interpreter under load."""
    if sys.version_info >= (3, 12) or not emit_loses_bool_references():
        return
    import PySide6

    raise BrokenPySide(
        f"PySide6 {PySide6.__version__} on Python {sys.version_info.major}."
        f"{sys.version_info.minor} loses a reference on every signal emit and would crash "
        "regview after a few thousand clicks or keystrokes. Install a sound version: "
        "pip install 'PySide6-Essentials>=6.11,<6.12'"
    )
