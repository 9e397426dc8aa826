"""How many requests go to one registry at once, adapted to the link; what its rate limits say.

    AdaptiveLimiter(start=16, ceiling=64, floor=2, clock=time.monotonic)
        await .acquire()                     a slot; waits while full or paused (Retry-After)
        .release(started, outcome)           OK / THROTTLED (429, 503) / RESET (connection)
        .pause(seconds)                      nothing new starts before then (Retry-After)
        .limit .throttled .allowance         current limit, 429/503 seen, the pull allowance
        .status_words(registry) -> str       throttling and allowance in words ("" if neither)
    Allowance(remaining, limit, window, reset_at)        from RateLimit-* headers
    parse_allowance(headers, now) -> Allowance | None

Why: over a 50–150 ms round trip a fixed 16 requests in flight is the bottleneck, not the CPU,
while on loopback more requests only queue at the server. So the limit climbs a hill: each
measuring window (two rounds of the current limit, and at least 0.25 s) it compares the
throughput with the window before. It probes upwards only while answers take less than three
times the quickest seen (more is queueing, which more in flight only lengthens); a step up
(×2 until a step first fails, then ×1.5) is judged from the first answer to a request sent
after it (answers to earlier ones measure the old limit); one that raised the throughput by
≥ 30 % of the step is kept and followed at once by another; one that did not in two windows
running is undone and the limit holds for a while before probing again.
It shrinks on what a loaded server says: 429/503 and connection resets halve it (once per
window: answers to requests sent before the cut do not cut again), and a doubled round-trip
time that bought no throughput, two windows running, takes a quarter off (not below the
start) — unless a lower limit measured in the last seconds gave clearly less throughput than
this one does now (then the slower answers are the price of that throughput). Retry-After
pauses every new request.

Docker Hub counts pulls and says so: `ratelimit-limit: 100;w=21600`, `ratelimit-remaining:
76;w=21600` (the IETF draft's `RateLimit-Remaining` / `RateLimit-Reset` spell it the same way,
with the reset in seconds). The last value seen is `allowance`, for the status bar and errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

START_CONCURRENCY = 16  # where an adaptive limit starts (the fixed default it replaced)
DEFAULT_CEILING = 64  # requests in flight at most, unless the registry's settings say otherwise
GROW = 1.5  # a probe step up
GAIN = 1.12  # a throughput rise that counts as a rise (the latency rule)
# A step up is kept when the throughput rose by at least this share of the step: doubling
# must buy ≥ 30 %, ×1.5 ≥ 15 %. On a long link a step buys nearly all of it; on a saturated
# server nothing, and a busy machine's noise easily fakes a 12 % rise from one window to the next.
# (40 % threw away a doubling that bought 50 %, measured only once the step had settled:
# docker-registry at 50 ms on the shared bench machine, bench/results-wan.md.)
KEEP_SHARE = 0.3
# Probe upwards only while the average answer takes less than this many times the quickest one
# seen: more time than that is queueing (in the server, or for the CPU on either side), which
# more requests in flight would only lengthen. On a long link the round trip itself dominates.
QUEUEING = 3.0
MIN_WINDOW_S = 0.25  # a window lasts at least this long: on loopback 32 answers are ~10 ms of noise
HOLD_WINDOWS = 8  # windows to wait before probing again after a step that bought nothing
SLOWER = 2.0  # round trip this many times the best seen: the server is queueing
MIN_WINDOW = 16  # completions at least in one measuring window
# How long a throughput measured at a lower limit keeps a higher one from a latency cut. Only
# while the higher limit still gives clearly more than that figure: a server that really starts
# queueing (its throughput falls back) is cut at once whatever the age.
MEMORY_S = 60.0


class Outcome(Enum):
    OK = "ok"
    THROTTLED = "throttled"  # 429 or 503: the server asks for less
    RESET = "reset"  # the connection failed or was reset


@dataclass(frozen=True, slots=True)
class Allowance:
    """What the registry said is left of its request (pull) allowance."""

    remaining: int
    limit: int | None = None
    window: int | None = None  # seconds the limit applies to (Docker Hub: 21600, 6 hours)
    reset_at: float | None = None  # clock time when it resets, when the registry said

    def describe(self, now: float | None = None) -> str:
        """'76 of 100 pulls left (per 6 h)' — for the status bar and error messages."""
        text = (
            f"{self.remaining} of {self.limit}" if self.limit is not None else f"{self.remaining}"
        )
        text += " pulls left"
        if self.window:
            text += f" (per {_duration(self.window)})"
        if self.reset_at is not None:
            left = self.reset_at - (time.monotonic() if now is None else now)
            if left > 0:
                text += f", resets in {_duration(left)}"
        return text

    def as_json(self) -> dict[str, int | None]:
        return {"remaining": self.remaining, "limit": self.limit, "window_seconds": self.window}


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours == int(hours) or hours >= 10 else f"{hours:.1f} h"
    if seconds >= 60:
        return f"{math.ceil(seconds / 60)} min"
    return f"{math.ceil(seconds)} s"


def _quota(value: str) -> tuple[int, int | None] | None:
    """'76;w=21600' → (76, 21600); '76' → (76, None); junk → None."""
    head, _, params = value.partition(";")
    head = head.strip()
    if not head.isdigit():
        return None
    window = None
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.strip().lower() == "w" and val.strip().isdigit():
            window = int(val.strip())
    return int(head), window


def parse_allowance(headers: Mapping[str, str], now: float) -> Allowance | None:
    """The allowance a response announces (`headers` looked up case-insensitively), or None."""
    remaining_raw = headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
    if remaining_raw is None:
        return None
    remaining = _quota(remaining_raw)
    if remaining is None:
        return None
    limit_raw = headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit")
    limit = _quota(limit_raw) if limit_raw else None
    reset_raw = (headers.get("ratelimit-reset") or "").strip()
    reset_at = now + int(reset_raw) if reset_raw.isdigit() else None
    return Allowance(
        remaining=remaining[0],
        limit=limit[0] if limit else None,
        window=remaining[1] or (limit[1] if limit else None),
        reset_at=reset_at,
    )


class AdaptiveLimiter:
    """Requests in flight to one registry: a hill-climbing limit between `floor` and `ceiling`.

    One per `RegistryHttp`; every attempt of every request holds a slot while it runs.
    `start == ceiling` gives a fixed limit (the CLI's explicit `--concurrency`).
    """

    def __init__(
        self,
        *,
        start: int = START_CONCURRENCY,
        ceiling: int = DEFAULT_CEILING,
        floor: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self.floor = max(1, min(floor, self.ceiling))
        self.limit = min(max(start, self.floor), self.ceiling)
        # slower answers alone never take the limit below where it started (a fixed 16 was
        # fine before it adapted); only 429/503 and resets do
        self._latency_floor = self.limit
        self._clock = clock
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.paused_until = 0.0
        self.throttled = 0  # 429/503 answers seen
        self.resets = 0  # connection failures seen
        self.allowance: Allowance | None = None
        self.peak = self.limit  # the highest limit reached (bench, tests)
        # the measuring window
        self._win_start = clock()
        self._win_done = 0
        self._win_latency = 0.0
        self._win_busy = False  # the limit was reached in this window (demand, not the limit)
        self._prev: tuple[int, float] | None = None  # (limit, throughput) of the last window
        self._stepped_from: tuple[int, float] | None = None  # before a probe step up
        self._second_look = False  # the step's first window said it bought nothing
        self._hold = 0
        self._slow_start = True
        self._slow_windows = 0
        self._best_latency = math.inf  # the lowest window average
        self._min_latency = math.inf  # the quickest single answer
        self._cut_at = -math.inf  # when the limit was last cut (one cut per signal burst)
        # after a step up, answers to requests sent before it measure the old limit: the
        # window restarts with the first answer to a request sent after it
        self._settling_since: float | None = None
        self._measured: dict[int, tuple[float, float]] = {}  # limit → (throughput, when)

    # -- slots ---------------------------------------------------------------------------------

    async def acquire(self) -> float:
        """Wait for a slot; returns the start time to hand back to `release`."""
        while True:
            now = self._clock()
            if now < self.paused_until:
                await asyncio.sleep(self.paused_until - now)
                continue
            if self.in_flight < self.limit and not self._waiters:
                self.in_flight += 1
                if self.in_flight >= self.limit:
                    self._win_busy = True
                return self._clock()
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():
                    self._free_slot()  # handed a slot just as we were cancelled: pass it on
                else:
                    self._forget(fut)
                raise
            if self._clock() < self.paused_until:
                self._free_slot()  # a pause began while we waited: wait it out first
                continue
            return self._clock()

    def release(self, started: float, outcome: Outcome = Outcome.OK) -> None:
        now = self._clock()
        if self._settling_since is not None and started >= self._settling_since:
            self._settling_since = None
            self._restart_window(now)
        if outcome is Outcome.OK:
            took = now - started
            if took < self._min_latency:
                self._min_latency = took
            if self._settling_since is None:
                self._win_done += 1
                self._win_latency += took
        elif started >= self._cut_at:
            # a request sent before the last cut reports the same congestion: cut once
            self._cut(now)
        if outcome is Outcome.THROTTLED:
            self.throttled += 1
        elif outcome is Outcome.RESET:
            self.resets += 1
        self._free_slot()
        if (
            self._win_done >= max(MIN_WINDOW, 2 * self.limit)
            and now - self._win_start >= MIN_WINDOW_S
        ):
            self._evaluate(now)

    def pause(self, seconds: float) -> None:
        """Retry-After: no new request starts for `seconds` (requests in flight go on)."""
        self.paused_until = max(self.paused_until, self._clock() + seconds)

    def status_words(self, registry: str) -> str:
        """What the user should know about the link, in words ("" when nothing): throttling
        and the pull allowance — for the status bar and the CLI's notes."""
        parts = []
        if self.throttled:
            parts.append(
                f"throttled {self.throttled} request(s) (HTTP 429/503); regview slowed down and "
                "retried them"
            )
        if self.allowance is not None:
            parts.append(self.allowance.describe())
        return f"{registry}: " + " · ".join(parts) if parts else ""

    def note_headers(self, headers: Mapping[str, str]) -> None:
        allowance = parse_allowance(headers, self._clock())
        if allowance is not None:
            self.allowance = allowance

    # -- internals -----------------------------------------------------------------------------

    def _free_slot(self) -> None:
        self.in_flight -= 1
        while self._waiters and self.in_flight < self.limit:
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                if self.in_flight >= self.limit:
                    self._win_busy = True
                fut.set_result(None)

    def _forget(self, fut: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(fut)

    def _set_limit(self, limit: int) -> None:
        self.limit = min(max(limit, self.floor), self.ceiling)
        self.peak = max(self.peak, self.limit)
        # a raised limit lets waiters in now, not at the next release
        while self._waiters and self.in_flight < self.limit:
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                fut.set_result(None)

    def _cut(self, now: float) -> None:
        self._cut_at = now
        self._settling_since = None
        self._slow_start = False
        self._set_limit(self.limit // 2)
        self._stepped_from = None
        self._hold = HOLD_WINDOWS
        self._restart_window(now)
        self._prev = None

    def _restart_window(self, now: float) -> None:
        self._win_start = now
        self._win_done = 0
        self._win_latency = 0.0
        self._win_busy = self.in_flight >= self.limit

    def _evaluate(self, now: float) -> None:
        elapsed = max(now - self._win_start, 1e-6)
        throughput = self._win_done / elapsed
        latency = self._win_latency / self._win_done
        busy = self._win_busy
        self._best_latency = min(self._best_latency, latency)
        limit = self.limit
        if self._stepped_from is not None:
            before_limit, before = self._stepped_from
            self._stepped_from = None
            failed = throughput < before * (1 + KEEP_SHARE * (limit / before_limit - 1))
            if failed and not self._second_look:
                # one window is a coin toss on a busy machine (a stalled server thread halves
                # it): the step gets a second window before it is undone
                self._second_look = True
                self._stepped_from = (before_limit, before)
            elif failed:
                # the step bought nothing: back down, and wait before trying again
                self._second_look = False
                self._set_limit(before_limit)
                self._hold = HOLD_WINDOWS
                self._slow_start = False
            elif limit < self.ceiling and latency < QUEUEING * self._min_latency:
                # it paid: the next step at once (a long link wants many more in flight)
                self._step_up(limit, throughput)
        elif (
            self._slower(latency, throughput)
            and limit > self._latency_floor
            and not self._lower_was_slower(limit, throughput, now)
        ):
            # the server has taken longer per request for two windows and we got nothing for
            # it: it is queueing (one slow window is a hiccup of a busy machine, not a trend)
            self._set_limit(max(self._latency_floor, math.ceil(limit * 0.75)))
            self._hold = HOLD_WINDOWS
            self._slow_windows = 0
        elif self._hold > 0:
            self._hold -= 1
        elif busy and limit < self.ceiling and latency < QUEUEING * self._min_latency:
            self._step_up(limit, throughput)
        if busy:  # a window that did not fill the limit says nothing about the limit
            self._measured[limit] = (throughput, now)
        self._prev = (limit, throughput)
        self._restart_window(now)

    def _lower_was_slower(self, limit: int, throughput: float, now: float) -> bool:
        """True when a lower limit, measured lately, gave clearly less throughput than `limit`
        gives now: the slower answers are the price of throughput that is being had (a server
        that serves more the more it is given — a busy machine's registry gets more of the CPU
        with more requests in hand), not queueing that buys nothing."""
        for lower, (then, when) in self._measured.items():
            if (
                lower < limit
                and now - when <= MEMORY_S
                and throughput >= then * (1 + KEEP_SHARE * (limit / lower - 1))
            ):
                return True
        return False

    def _slower(self, latency: float, throughput: float) -> bool:
        if (
            latency > SLOWER * self._best_latency
            and self._prev is not None
            and throughput <= self._prev[1] * GAIN
        ):
            self._slow_windows += 1
        else:
            self._slow_windows = 0
        return self._slow_windows >= 2

    def _step_up(self, limit: int, throughput: float) -> None:
        self._stepped_from = (limit, throughput)
        self._second_look = False
        self._settling_since = self._clock()
        # doubling until a step first buys nothing or the server pushes back (TCP's slow
        # start), then ×1.5
        self._set_limit(math.ceil(limit * (2 if self._slow_start else GROW)))
