"""UI test plumbing: offscreen Qt without a display, and a qasync loop that fails on task errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Refuse a PySide6 that loses a reference on every signal emit (see the module).
from regview.ui import pyside_fixes

pyside_fixes.apply()


# The offscreen platform plugin warns about features it lacks; those are not our bugs.
OFFSCREEN_NOISE = ("This plugin does not support",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE))


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the test's QApplication; any unhandled task error fails the test.

    pytest-qt does not drive qasync, so UI tests that need coroutines run them on this loop
    (`qloop.run_until_complete(...)`, or `qtbot.waitUntil` while the loop is running).
    """
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        asyncio.set_event_loop(None)
        loop.close()
    if errors:
        messages = [str(c.get("exception") or c.get("message")) for c in errors]
        pytest.fail(f"unhandled errors in asyncio tasks: {messages}")
