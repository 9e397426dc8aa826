"""Running blocking work off the UI thread, and owning the tasks a widget starts.

    run_blocking(fn, *args)        await a blocking call (disk, keyring, thread-bound library) on a
                                   worker thread; the Qt event loop keeps painting meanwhile
    run_keyring(fn, *args)         the same on the single keyring thread: D-Bus and keychain
                                   prompts are serialised, never concurrent
    TaskOwner                      named task slots owned by a widget: starting a slot cancels the
                                   task that held it; `await aclose()` on close cancels them all and
                                   waits until they have finished (`cancel_all()` only asks, for
                                   a Qt close event that cannot wait); errors of a task that
                                   nobody awaited go to the loop's exception handler (tests fail on
                                   them, the app shows its crash dialog)

Nothing here imports the rest of regview: dialogs and sessions build on it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_BLOCKING = ThreadPoolExecutor(max_workers=4, thread_name_prefix="regview-blocking")
_KEYRING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regview-keyring")


def _loop() -> asyncio.AbstractEventLoop:
    # qasync may step a task from Qt's own event processing (a dialog's exec, a test's
    # processEvents), when asyncio does not consider the loop "running": fall back to the set one.
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


async def run_blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` on a worker thread and await its result."""
    loop = _loop()
    return await loop.run_in_executor(_BLOCKING, functools.partial(fn, *args, **kwargs))


async def run_keyring(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a keyring call on the one keyring thread (calls are serialised, never on the UI)."""
    loop = _loop()
    return await loop.run_in_executor(_KEYRING, functools.partial(fn, *args, **kwargs))


class TaskOwner:
    """Named task slots. A new task in a slot cancels the old one; `cancel_all` ends them all.

    Widgets hold one and route every coroutine through `start`, so closing a dialog cancels its
    probe or test instead of leaving it to write into a deleted widget.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def start(self, name: str, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        old = self._tasks.pop(name, None)
        if old is not None and not old.done():
            old.cancel()
        task: asyncio.Task[T] = asyncio.ensure_future(coro)
        self._tasks[name] = task
        task.add_done_callback(functools.partial(self._finished, name))
        return task

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def task(self, name: str) -> asyncio.Task[Any] | None:
        return self._tasks.get(name)

    def cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None and not task.done():
            task.cancel()

    def cancel_all(self) -> None:
        for name in list(self._tasks):
            self.cancel(name)

    async def aclose(self) -> None:
        """Cancel every task and wait until each has run its clean-up.

        A cancelled task still has steps to run (its `finally` blocks, closing connections); if
        nobody waits for them they run later from Qt's event processing, possibly after the
        event loop stopped, where asyncio calls fail with "no running event loop".
        """
        while self._tasks:
            tasks = list(self._tasks.values())
            self.cancel_all()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, name: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # Nobody awaits these tasks: report the failure to the loop rather than lose it.
            task.get_loop().call_exception_handler(
                {"message": f"task {name!r} failed", "exception": exc, "task": task}
            )
