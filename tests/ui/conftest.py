"""UI test plumbing: offscreen Qt without a display, and a qasync loop that fails on task errors."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import qasync

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


@pytest.fixture(scope="session", autouse=True)
def _regview_style(qapp: Any) -> None:
    """The app's own style from the start, set once: tests that apply a theme no longer swap
    the application style (setting it deletes the old one under widgets that may still paint
    with it — a later test crashed in Qt's event processing after such swaps)."""
    from regview.ui.theme import RegviewStyle

    qapp.setStyle(RegviewStyle())


@pytest.fixture
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on the test's QApplication; any unhandled task error fails the test.

    pytest-qt does not drive qasync, so UI tests that need coroutines run them on this loop
    (`qloop.run_until_complete(...)`, or `qtbot.waitUntil` while the loop is running).
    """
    loop = _AppLikeLoop(qapp, already_running=False)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        # Habit 7: the owner cancels *and awaits* its tasks on close (`await window.aclose()`).
        # A task left behind runs its next step from Qt's event processing after the loop has
        # stopped, where asyncio fails with "no running event loop" — a flaky teardown error.
        leaked = [_task_name(t) for t in pending]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        # callbacks already scheduled (a closed connection's connection_lost) run in the loop
        loop.run_until_complete(asyncio.sleep(0.01))
        asyncio.set_event_loop(None)
        loop.close()
    if leaked:
        pytest.fail(f"tasks outlived the test (close their owner and await it): {leaked}")
    if errors:
        messages = [str(c.get("exception") or c.get("message")) for c in errors]
        where = "\n".join(_where(c) for c in errors)
        pytest.fail(f"unhandled errors in asyncio tasks: {messages}\n{where}")


class _AppLikeLoop(qasync.QEventLoop):  # type: ignore[misc]
    """qasync's loop, still the running loop while `run_until_complete` ends.

    qasync's `run_until_complete` processes Qt's events once more after `run_forever` has
    returned and stopped being the running loop. A task step or a callback that lands there (a
    result handed over from the I/O thread, a timer) finds no running loop: `asyncio.sleep`,
    `asyncio.wait`, `get_running_loop` raise "no running event loop" — a flaky error no user can
    meet, because the app calls `run_until_complete` once, for its whole life. Tests call it
    between every step; here the loop stays the running one until it has returned.
    """

    _completing = False

    def run_until_complete(self, future: Any) -> Any:
        self._completing = True
        try:
            return super().run_until_complete(future)
        finally:
            self._completing = False
            asyncio.events._set_running_loop(None)

    def run_forever(self) -> Any:
        try:
            return super().run_forever()
        finally:
            if self._completing:
                asyncio.events._set_running_loop(self)


def _where(context: dict[str, Any]) -> str:
    """The traceback and the task or callback of an unhandled error: a flaky one has to say
    where it came from the first time it is seen."""
    import traceback

    exc = context.get("exception")
    parts = [str(context.get("message", ""))]
    for key in ("task", "future", "handle"):
        if context.get(key) is not None:
            parts.append(f"{key}: {context[key]!r}")
    if isinstance(exc, BaseException):
        parts.append("".join(traceback.format_exception(exc)))
    return "\n".join(parts)


def _task_name(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", None) or task.get_name()


# Collections started on a thread other than the UI thread, since the last test checked.
_OFF_THREAD_COLLECTIONS: list[str] = []


def _note_off_thread_collection(phase: str, info: dict[str, int]) -> None:
    if phase == "start" and threading.current_thread() is not threading.main_thread():
        _OFF_THREAD_COLLECTIONS.append(
            f"generation {info.get('generation')} on thread {threading.current_thread().name!r}"
        )


@pytest.fixture(scope="session", autouse=True)
def _garbage_collected_on_the_ui_thread(qapp: Any) -> Iterator[None]:
    """The app's collector regime from the first UI test on, whatever runs first: `gc_guard`
    (as `regview.app` installs it) switches automatic collection off, so the I/O thread that
    lives from the first session on never collects the Qt objects earlier tests left behind."""
    from regview.ui import gc_guard

    gc_guard.install()
    gc.callbacks.append(_note_off_thread_collection)
    try:
        yield
    finally:
        gc.callbacks.remove(_note_off_thread_collection)


@pytest.fixture(autouse=True)
def _collect_widgets_on_the_ui_thread() -> Iterator[None]:
    """Collect each test's widget cycles here, on the UI thread, not later on some worker thread
    that happens to allocate (Qt warns "Timers cannot be stopped from another thread").

    A collection on another thread fails the test it ran in: a Qt object it frees there with a
    running timer leaves the timer registered, and the UI thread's event processing crashes
    (SIGSEGV) when it next fires — a test of its own minutes later, not this one
    (tests/ui/test_gc_guard_io_thread.py)."""
    _OFF_THREAD_COLLECTIONS.clear()
    yield
    gc.collect()
    if _OFF_THREAD_COLLECTIONS:
        pytest.fail(
            "the cyclic garbage collector ran off the UI thread during this test "
            f"({', '.join(_OFF_THREAD_COLLECTIONS)}): Qt objects it freed there crash Qt later"
        )
