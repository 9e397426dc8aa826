"""The one asyncio loop where the GUI's network I/O runs, and a proxy to reach it from another loop.

    io = IoLoop.shared()                    the process's I/O loop (a daemon thread); made on first use
    result = await io.run(coro)             run `coro` there, await it from any other loop
    proxy = LoopBound(obj, io)              `obj` (living on `io`) as seen from another loop

Every registry client of the window lives on this loop (`services.sessions`): its connection pool,
token cache and disk caches are used by one thread only, and HTTP, JSON parsing and the cache's
disk reads of a 10,000-tag listing stay off the UI thread. The UI keeps awaiting the client as
before, through `LoopBound`: a coroutine method called from the UI loop runs as a task on the I/O
loop; an async iterator is forwarded step by step; plain attributes and plain methods are the
object's own. So a core function handed the proxy (a delete plan, the referrers, an executor with
its progress callbacks) runs on the caller's loop and only its requests hop: its callbacks stay
on the caller's thread.

Cancelling the awaiting task cancels the task on the I/O loop and waits until its clean-up
(closing responses, saving a listing) has finished before the caller goes on.

No Qt here: the CLI and the tests use it as plain asyncio code.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CLEAN_UP_S = 15.0  # how long a cancelled caller waits for the I/O task's clean-up


class IoLoop:
    """One daemon thread running an asyncio loop for network-and-parsing work."""

    _shared: IoLoop | None = None
    _shared_lock = threading.Lock()

    def __init__(self, name: str = "regview-io") -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()
        ready.wait()

    @classmethod
    def shared(cls) -> IoLoop:
        """The process's I/O loop."""
        with cls._shared_lock:
            if cls._shared is None or not cls._shared.thread.is_alive():
                cls._shared = IoLoop()
            return cls._shared

    def owns_running_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    async def run(
        self, coro: Coroutine[Any, Any, T], on_cancel: Callable[[], None] | None = None
    ) -> T:
        """Run `coro` on the I/O loop; await it from the caller's loop (on the I/O loop itself:
        just await it).

        Cancelling the caller cancels the I/O task and then waits for it to finish, so its
        clean-up happens before the caller goes on.
        """
        try:
            here = _caller_loop()
        except RuntimeError:
            coro.close()  # never started: no "never awaited" warning on top
            raise
        if here is self.loop:
            return await coro
        result: asyncio.Future[T] = here.create_future()
        holder: list[asyncio.Task[T]] = []

        def settle(task: asyncio.Task[T]) -> None:
            def transfer() -> None:
                if result.done():
                    return
                if task.cancelled():
                    result.cancel()
                elif (exc := task.exception()) is not None:
                    result.set_exception(exc)
                else:
                    result.set_result(task.result())

            with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody waits
                here.call_soon_threadsafe(transfer)

        def start() -> None:
            task = self.loop.create_task(coro)
            holder.append(task)
            task.add_done_callback(settle)

        def cancel() -> None:
            if holder:
                holder[0].cancel()
            else:  # not started yet: it never will be
                coro.close()
                with contextlib.suppress(RuntimeError):
                    here.call_soon_threadsafe(result.cancel)

        self.loop.call_soon_threadsafe(start)
        try:
            return await asyncio.shield(result)
        except asyncio.CancelledError:
            if on_cancel is not None:
                on_cancel()
            self.loop.call_soon_threadsafe(cancel)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(result), CLEAN_UP_S)
            raise


def _caller_loop() -> asyncio.AbstractEventLoop:
    """The loop of the task calling. A qasync task can be stepped by Qt's event processing while
    its loop is not running (between two `run_until_complete` calls, while a window closes):
    then its loop is the thread's current one. Before the hop, such a step went on where the
    client answered from its caches; with the hop it must be able to wait for the I/O loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _has_async_methods(cls: type) -> bool:
    """Whether instances of `cls` have coroutine or async-generator methods (then an attribute
    holding one is proxied too: `client.content.flush()` must run where the client lives)."""
    known = _ASYNC_TYPES.get(cls)
    if known is None:
        known = any(
            inspect.iscoroutinefunction(v) or inspect.isasyncgenfunction(v)
            for klass in cls.__mro__
            if klass is not object
            for v in vars(klass).values()
        )
        _ASYNC_TYPES[cls] = known
    return known


_ASYNC_TYPES: dict[type, bool] = {}
_DONE = object()


class LoopBound:
    """`target` (an object living on `io`'s loop) as seen from another loop; see the module doc.

    Typed by its users as the target's type (`typing.cast`): it offers the same methods.
    """

    __slots__ = ("__weakref__", "_io", "_target")

    def __init__(self, target: object, io: IoLoop) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_io", io)

    @property
    def target(self) -> Any:
        """The object itself (for code running on the I/O loop)."""
        return self._target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        io = self._io
        if inspect.iscoroutinefunction(value):
            method = value

            async def hop(*args: Any, **kwargs: Any) -> Any:
                return await io.run(method(*args, **kwargs))

            return hop
        if inspect.isasyncgenfunction(value):
            agen_method = value
            return lambda *a, **kw: ForwardedIterator(agen_method(*a, **kw), io)
        if inspect.ismethod(value) or inspect.isbuiltin(value):
            plain = value

            def call(*args: Any, **kwargs: Any) -> Any:
                out = plain(*args, **kwargs)
                if inspect.iscoroutine(out):  # a plain method handing back a coroutine
                    return io.run(out)
                if hasattr(out, "__anext__"):  # …or an async iterator (iter_repositories)
                    return ForwardedIterator(out, io)
                return out

            return call
        if value is not None and _has_async_methods(type(value)):
            return LoopBound(value, io)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def __repr__(self) -> str:
        return f"LoopBound({self._target!r})"


class ForwardedIterator(AsyncIterator[Any]):
    """An async iterator living on the I/O loop, stepped from another loop."""

    def __init__(self, inner: Any, io: IoLoop) -> None:
        self._inner = inner
        self._io = io

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        inner = self._inner

        async def step() -> Any:
            try:
                return await inner.__anext__()
            except StopAsyncIteration:  # not raised through a future: a value says it
                return _DONE

        value = await self._io.run(step())
        if value is _DONE:
            raise StopAsyncIteration
        return value

    async def aclose(self) -> None:
        closer = getattr(self._inner, "aclose", None)
        if closer is not None:
            await self._io.run(closer())
