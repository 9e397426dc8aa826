"""The I/O loop and its proxy: a coroutine method awaited from another loop runs on the I/O thread;
cancelling the caller cancels it there and waits for its clean-up; async iterators are stepped
there; sub-objects with coroutine methods hop too; plain attributes are the object's own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from regview.services.io_loop import IoLoop, LoopBound


class _Limiter:
    def __init__(self) -> None:
        self.limit = 16
        self.threads: list[str] = []

    async def acquire(self) -> None:
        self.threads.append(threading.current_thread().name)

    def words(self) -> str:
        return f"limit {self.limit}"


class _Client:
    def __init__(self) -> None:
        self.registry = "example.test"
        self.limiter = _Limiter()
        self.events: list[str] = []

    async def whoami(self, suffix: str = "") -> str:
        return threading.current_thread().name + suffix

    async def slow(self) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)  # clean-up that takes a while
            self.events.append(f"cleaned on {threading.current_thread().name}")

    async def pages(self) -> AsyncIterator[list[str]]:
        for i in range(3):
            yield [f"{threading.current_thread().name}-{i}"]

    def iter_pages(self) -> AsyncIterator[list[str]]:  # a plain method handing back one
        return self.pages()

    async def fail(self) -> None:
        raise LookupError("no such repository")


async def test_coroutine_methods_run_on_the_io_thread_and_attributes_pass_through() -> None:
    io = IoLoop.shared()
    target = _Client()
    proxy = LoopBound(target, io)
    assert await proxy.whoami("!") == f"{io.thread.name}!"
    assert proxy.registry == "example.test"
    assert proxy.limiter.limit == 16
    assert proxy.limiter.words() == "limit 16"
    await proxy.limiter.acquire()  # a sub-object's coroutine hops too
    assert target.limiter.threads == [io.thread.name]
    proxy.registry = "other.test"
    assert target.registry == "other.test"
    with pytest.raises(LookupError, match="no such repository"):
        await proxy.fail()


async def test_cancelling_the_caller_cancels_the_io_task_and_waits_for_its_clean_up() -> None:
    io = IoLoop.shared()
    target = _Client()
    proxy = LoopBound(target, io)
    task = asyncio.ensure_future(proxy.slow())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the caller resumed only after the I/O task's finally had run, on the I/O thread
    assert target.events == [f"cleaned on {io.thread.name}"]


async def test_async_iterators_are_stepped_on_the_io_thread() -> None:
    io = IoLoop.shared()
    proxy = LoopBound(_Client(), io)
    name = io.thread.name
    assert [p async for p in proxy.pages()] == [[f"{name}-0"], [f"{name}-1"], [f"{name}-2"]]
    assert [p async for p in proxy.iter_pages()] == [[f"{name}-0"], [f"{name}-1"], [f"{name}-2"]]


def test_on_the_io_loop_itself_a_call_does_not_hop() -> None:
    io = IoLoop.shared()
    proxy = LoopBound(_Client(), io)

    async def there() -> str:
        return str(await proxy.whoami())

    done = asyncio.run_coroutine_threadsafe(there(), io.loop)
    assert done.result(10) == io.thread.name
