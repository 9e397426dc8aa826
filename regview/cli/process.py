"""The process around a short command (`regview tags`): start-up, collector, event loop, exit.

    starting()                      at the process's entry: no collections while importing
    command_starts(short_lived)     before the command's body: freeze what start-up built
    event_loop_factory()            uvloop's loop where installed, else None (asyncio's own)
    leave(code)                     after a short command: run the exit handlers, flush, go

Only `regview`'s own process calls these (`__main__`); `cli.main.run` called from tests or
other code leaves the collector, the loop and the interpreter's exit as they are.

Why (issue 14: `regview tags --json` within 1.3× of a bare client on loopback, where the
registry and regview share two cores): start-up allocates ~100,000 objects that live as long as
the process, and the collector traversed them again and again while they were imported and
while the listing ran; a listing's thousands of requests spend ~10 % less CPU on uvloop's
event loop (C) than on asyncio's (Python); and the interpreter's own exit — tearing down every
module and object one by one — took ~35 ms after the output was complete.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import sys
import threading
from collections.abc import Callable

#: gen-0 threshold while a short command runs (Python's default is 700): a listing allocates
#: tens of thousands of short-lived objects, nearly all freed by reference counting. At 5,000
#: a 2,000-tag `regview tags` still ran 8-10 collections (6-9 ms of CPU, on the cores the
#: registry needs) that found nothing or a few hundred objects; at 50,000 none, the same peak
#: memory (45-49 MB). A longer listing still collects, every 50,000 objects kept.
SHORT_COMMAND_THRESHOLD = (50_000, 20, 20)


def starting() -> None:
    """No automatic collections during start-up (`command_starts` turns them back on)."""
    gc.disable()


def command_starts(short_lived: bool) -> None:
    """Collections back on; for a short command, what start-up built is frozen out of the
    collector's sight and young objects are collected less often."""
    if short_lived:
        gc.freeze()
        gc.set_threshold(*SHORT_COMMAND_THRESHOLD)
    gc.enable()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop (a dependency except on Windows), else None: asyncio's default."""
    try:
        import uvloop
    except ImportError:  # Windows, or an install without it
        return None
    return uvloop.new_event_loop


def leave(code: int) -> int:
    """End the process now that a short command is done: the exit handlers (log files),
    stdout and stderr flushed, then `os._exit` — the module teardown is skipped, nothing
    else. Returns `code` instead (the ordinary exit follows) when another thread still runs or
    the output cannot be flushed (a closed pipe: the ordinary exit reports it as before)."""
    if threading.active_count() > 1:
        return code
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return code
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return code
    os._exit(code)
