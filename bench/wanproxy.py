"""A loopback TCP proxy that behaves like a long link: round trip, bandwidth, injected 429s.

    .venv/bin/python bench/wanproxy.py --listen PORT --upstream HOST:PORT --rtt-ms 50
        [--mbit 50] [--throttle 0.1] [--retry-after 0] [--seed 1] [--trace FILE]

- Every byte is delivered half a round trip after it arrived, in order, in both directions;
  a new connection's first bytes wait one round trip more (the TCP handshake a real link costs
  before the client may send). TLS handshakes cross the proxy and pay their own round trips.
- `--mbit`: one shared link per direction — data leaves no faster than that, whatever the
  number of connections (so more connections cannot buy bandwidth, only hide latency).
- `--throttle P`: a fraction P of HTTP/1.1 requests never reach the registry and are answered
  `429 Too Many Requests` one round trip later (with `Retry-After` when `--retry-after` is set),
  as a rate-limiting front would. Requests are recognised by their head (`\\r\\n\\r\\n`); only
  body-less requests (GET, HEAD) are throttled, so uploads pass untouched.
- `--trace FILE`: one line per new connection and per request head as it reaches the proxy
  (`time connection open` / `time connection METHOD PATH`; `time` is `time.monotonic()`, the
  same clock in every process of the machine), written out every 0.2 s: when a client opens
  connections, when its first and last requests leave.
- Prints `ready PORT` once listening; counts (`requests`, `throttled`, `connections`) go to
  stderr on SIGTERM.

Runs in its own process (uvloop when installed) so its work never shares a loop or the GIL with
the client being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

THROTTLED = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
THROTTLED_BODY = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"injected by wanproxy"}]}'


class Link:
    """One direction of the link: delay, and an optional bandwidth shared by every connection."""

    def __init__(self, delay: float, bytes_per_s: float | None) -> None:
        self.delay = delay
        self.bytes_per_s = bytes_per_s
        self.free_at = 0.0  # when the link has sent everything queued so far

    def due(self, now: float, size: int) -> float:
        if self.bytes_per_s is None:
            return now + self.delay
        start = max(now, self.free_at)
        self.free_at = start + size / self.bytes_per_s
        return self.free_at + self.delay


class Pipe:
    """Bytes for one transport, each delivered at its due time, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, link: Link) -> None:
        self.loop = loop
        self.link = link
        self.queue: deque[tuple[float, bytes | None]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.target: asyncio.Transport | None = None
        self.extra = 0.0  # added to the next item only (the handshake)

    def send(self, data: bytes | None) -> None:
        now = self.loop.time()
        due = self.link.due(now, len(data) if data else 0) + self.extra
        self.extra = 0.0
        if self.queue:
            due = max(due, self.queue[-1][0])
        self.queue.append((due, data))
        if self.timer is None:
            self.timer = self.loop.call_at(due, self._flush)

    def _flush(self) -> None:
        self.timer = None
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now + 0.0005:
            if self.target is None:  # upstream still connecting: a moment more
                self.timer = self.loop.call_later(0.001, self._flush)
                return
            _, data = self.queue.popleft()
            if self.target.is_closing():
                self.queue.clear()
                return
            if data is None:
                if self.target.can_write_eof():
                    self.target.write_eof()
                else:
                    self.target.close()
            else:
                self.target.write(data)
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self._flush)


class Stats:
    requests = 0
    throttled = 0
    connections = 0


class Trace:
    """`--trace`: connection openings and request heads, timestamped, appended in batches."""

    lines: ClassVar[list[str]] = []
    path: ClassVar[Path | None] = None

    @classmethod
    def note(cls, conn: int, what: str) -> None:
        # time.monotonic(), not loop.time(): uvloop's clock is libuv's coarse millisecond one
        cls.lines.append(f"{time.monotonic():.4f} {conn} {what}\n")

    @classmethod
    def flush(cls, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if cls.path is not None and cls.lines:
            with cls.path.open("a") as out:
                out.writelines(cls.lines)
            cls.lines.clear()
        if loop is not None:
            loop.call_later(0.2, cls.flush, loop)


class Side(asyncio.Protocol):
    def __init__(
        self,
        on_data: Callable[[bytes | None], None],
        on_lost: Callable[[], None],
        on_made: Callable[[asyncio.Transport], None] | None = None,
    ) -> None:
        self.on_data, self.on_lost, self.on_made = on_data, on_lost, on_made
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport
        if self.on_made is not None:
            self.on_made(self.transport)

    def data_received(self, data: bytes) -> None:
        self.on_data(data)

    def eof_received(self) -> bool:
        self.on_data(None)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.on_lost()


class Session:
    """One client connection and its upstream connection."""

    def __init__(self, args: argparse.Namespace, loop: asyncio.AbstractEventLoop) -> None:
        self.args = args
        self.loop = loop
        self.up = Pipe(loop, UP)
        self.down = Pipe(loop, DOWN)
        self.up.extra = args.rtt_ms / 1000  # the handshake's round trip
        self.client = Side(self.from_client, self.close, self._client_made)
        self.upstream: asyncio.Transport | None = None
        self.head = b""  # request bytes not yet forwarded (throttle mode: a head at a time)
        self.body_left = 0
        self.closed = False
        Stats.connections += 1
        self.number = Stats.connections
        if args.trace:
            Trace.note(self.number, "open")

    async def connect(self) -> None:
        host, port = self.args.upstream.rsplit(":", 1)
        try:
            transport, _ = await self.loop.create_connection(
                lambda: Side(self.down.send, self.close), host, int(port)
            )
        except OSError:
            self.close()
            return
        self.upstream = transport
        self.up.target = transport

    def _client_made(self, transport: asyncio.Transport) -> None:
        self.down.target = transport

    def from_client(self, data: bytes | None) -> None:
        if data is None or not (self.args.throttle or self.args.trace):
            self.up.send(data)
            return
        self.head += data
        while self.head:
            if self.body_left:
                take = self.head[: self.body_left]
                self.head = self.head[len(take) :]
                self.body_left -= len(take)
                self.up.send(take)
                continue
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            request, self.head = self.head[: end + 4], self.head[end + 4 :]
            Stats.requests += 1
            if self.args.trace:
                Trace.note(self.number, b" ".join(request.split(b" ", 2)[:2]).decode())
            length = 0
            for line in request.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length == 0 and self.args.throttle and RNG.random() < self.args.throttle:
                Stats.throttled += 1
                head = THROTTLED
                if self.args.retry_after is not None:
                    head += f"Retry-After: {self.args.retry_after}\r\n".encode()
                answer = head + f"Content-Length: {len(THROTTLED_BODY)}\r\n\r\n".encode()
                # answered by the front, a full round trip after the request left the client
                self.loop.call_later(self.args.rtt_ms / 1000, self._answer, answer + THROTTLED_BODY)
                continue
            self.body_left = length
            self.up.send(request)

    def _answer(self, data: bytes) -> None:
        t = self.client.transport
        if t is not None and not t.is_closing():
            t.write(data)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for t in (self.client.transport, self.upstream):
            if t is not None:
                # what is still queued for the other side goes out first, as on a real link
                self.loop.call_later(self.args.rtt_ms / 2000 + 0.01, t.close)


UP: Link
DOWN: Link
RNG = random.Random(1)
TASKS: set[asyncio.Task[None]] = set()


async def main(args: argparse.Namespace) -> None:
    global UP, DOWN
    loop = asyncio.get_running_loop()
    rate = args.mbit * 1e6 / 8 if args.mbit else None
    UP = Link(args.rtt_ms / 2000, rate)
    DOWN = Link(args.rtt_ms / 2000, rate)
    RNG.seed(args.seed)
    if args.trace:
        Trace.path = Path(args.trace)
        Trace.path.write_text("")
        Trace.flush(loop)

    def factory() -> asyncio.Protocol:
        session = Session(args, loop)
        task = loop.create_task(session.connect())
        TASKS.add(task)
        task.add_done_callback(TASKS.discard)
        return session.client

    server = await loop.create_server(factory, "127.0.0.1", args.listen)
    port = server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    Trace.flush()
    counted = f"requests {Stats.requests} throttled {Stats.throttled}"
    print(f"{counted} connections {Stats.connections}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument("--mbit", type=float, default=0.0)
    ap.add_argument("--throttle", type=float, default=0.0)
    ap.add_argument("--retry-after", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trace", default=None, help="write connections and request heads here")
    return ap.parse_args(argv)


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(parse()))
