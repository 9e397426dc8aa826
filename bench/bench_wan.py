"""Benchmark: tag listings over a long link — regview against the concurrency-16 floor.

    .venv/bin/python bench/bench_wan.py [--rtts 0,20,50,150] [--tags 2000,10000]
        [--servers distribution,embedded] [--variant B] [--mbit 0] [--budget 240]
        [--throttle 0.1 --throttle-rtt 50]

Starts Debian's docker-registry and the embedded registry (`regview serve`, its own process)
on loopback ports, fills `bench/wan-<tags>` with `--tags` tags (bench_tags.fill: variant B,
every image its own config, one tag in ten sharing a digest), and puts `bench/wanproxy.py` in
front of each: every byte half a round trip late each way, plus a round trip per new
connection. Then, for each server × tag count × round trip, in one process run, times:

1. floor    — bench_tags' minimal asyncio HTTP/1.1 client, 16 keep-alive connections, only the
              needed requests (the issue's baseline)
2. window   — regview's `BackgroundLoader.load` (the tag load the window runs: worker thread,
              row feed) with a cold cache, in-process
3. CLI      — `regview tags HOST/REPO --json` as a subprocess, as users run it, cold cache

The CLI and window rows use the adaptive limiter (start 16, ceiling 64). Each row also says,
from the proxy's `--trace`: `start s` (from the run's start to its first request: the CLI's
interpreter, imports and set-up), `after last request s` (the last request's answer, then the
caches saved, the rows sorted, output, exit), the connections opened, and the client's CPU
seconds (the subprocess's user + system; in-process, this process's). regview's bytecode is
compiled first, as an install has it (`--no-compile` leaves it: with PYTHONDONTWRITEBYTECODE set,
every `regview` process then compiles the package again, ~0.15 s of CPU), and the window's
modules are imported before the first timing (the window has them loaded when it lists).
`--baseline-src DIR` runs another checkout's CLI right after this one's. `--rounds N` repeats
the three N times through the same proxy (each ratio against its own round's floor). `--throttle P` adds a
run where the proxy answers a fraction P of requests with 429 (at `--throttle-rtt`): the CLI's
output is compared tag by tag with an unthrottled listing, and its stderr must say it was
throttled. A combination whose floor estimate exceeds `--budget` seconds is skipped (said so).
Prints Markdown rows with `uptime`'s load average on each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "bench"),
    str(ROOT / "tests" / "integration"),
    str(ROOT / "tests"),
]

from bench_tags import fill  # noqa: E402
from distribution import run_distribution  # noqa: E402
from floor_client import floor  # noqa: E402
from testkit import free_port, v2_status  # noqa: E402

from regview.core.model import Endpoint  # noqa: E402

PY = sys.executable


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


@contextlib.contextmanager
def embedded(data: Path) -> Iterator[str]:
    port = free_port()
    log = (data.parent / "serve.log").open("wb")
    proc = subprocess.Popen(
        [PY, "-m", "regview", "serve", "--port", str(port), "--data", str(data)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while v2_status(url) != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"regview serve did not start: {proc.returncode}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@contextlib.contextmanager
def proxy(
    upstream: str,
    rtt_ms: float,
    *,
    mbit: float = 0.0,
    throttle: float = 0.0,
    trace: Path | None = None,
) -> Iterator[str]:
    """The URL of a wanproxy in front of `upstream` (http://host:port); `trace`: its --trace."""
    if rtt_ms == 0 and not mbit and not throttle and trace is None:
        yield upstream
        return
    cmd = [PY, str(ROOT / "bench" / "wanproxy.py"), "--upstream", upstream.split("://")[1]]
    cmd += ["--rtt-ms", str(rtt_ms), "--mbit", str(mbit), "--throttle", str(throttle)]
    if trace is not None:
        cmd += ["--trace", str(trace)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    if not line or line[0] != "ready":
        proc.kill()
        raise RuntimeError(f"wanproxy did not start: {proc.stderr.read() if proc.stderr else ''}")
    try:
        yield f"http://127.0.0.1:{line[1]}"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        if err.strip():
            print(f"    proxy: {err.strip()}", flush=True)


async def window_load(url: str, repo: str, cache: Path) -> tuple[int, int, int, int]:
    """The window's path: BackgroundLoader on the I/O thread, rows through the feed."""
    from regview.core.client.client import RegistryClient
    from regview.services.io_loop import IoLoop
    from regview.ui.loader import BackgroundLoader

    io = IoLoop.shared()
    loader = BackgroundLoader()

    async def make() -> RegistryClient:
        return RegistryClient(Endpoint(url), None, cache_dir=cache)

    client = await io.run(make())
    rows = 0

    def on_rows(batch: object) -> None:
        nonlocal rows
        rows += len(batch)  # type: ignore[arg-type]

    try:
        _, infos = await loader.load(io, client, repo, on_rows)
        assert all(not i.error for i in infos), [i.error for i in infos if i.error][:3]
        return client.requests, len(infos), client.limiter.peak, client.limiter.throttled
    finally:
        await io.run(client.aclose())


class Run:
    """What one client run did, seen from the proxy's trace (`wanproxy.py --trace`)."""

    def __init__(self, trace: Path | None) -> None:
        self.trace = trace
        self.offset = trace.stat().st_size if trace is not None and trace.exists() else 0
        self.t0 = time.monotonic()
        self.requests: int | str = ""  # requests the proxy saw (known after `cells`)

    def cells(self, t1: float) -> list[str]:
        """start (to the first request), after the last request left, connections opened."""
        if self.trace is None:
            return ["", "", ""]
        time.sleep(0.5)  # the proxy writes its trace every 0.2 s
        with self.trace.open() as f:
            f.seek(self.offset)
            events = [line.split(" ", 2) for line in f.read().splitlines() if line]
        sent = [float(t) for t, _, what in events if what != "open"]
        opened = sum(1 for *_, what in events if what == "open")
        self.requests = len(sent)
        if not sent:
            return ["", "", str(opened)]
        return [f"{sent[0] - self.t0:.2f}", f"{t1 - sent[-1]:.2f}", str(opened)]


def cli_list(url: str, repo: str, base: Path) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    wall, proc, _ = cli_run(url, repo, base)
    return wall, proc


def cli_run(
    url: str, repo: str, base: Path, src: Path = ROOT
) -> tuple[float, subprocess.CompletedProcess[bytes], float]:
    """(wall s, the finished process, its CPU seconds: user + system); `src`: whose regview."""
    host = url.split("://")[1]
    env = dict(os.environ, REGVIEW_BASEDIR=str(base))
    return timed_run([PY, "-m", "regview", "tags", f"{host}/{repo}", "--json"], env=env, cwd=src)


def timed_run(
    args: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> tuple[float, subprocess.CompletedProcess[bytes], float]:
    """Run a command to its end: (wall s, the finished process, its CPU seconds: user +
    system, from `wait4`). Output goes to files, so a long one never blocks the command."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        popen = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(popen.pid, 0)
        wall = time.perf_counter() - t
        popen.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        proc = subprocess.CompletedProcess(popen.args, popen.returncode, out.read(), err.read())
    return wall, proc, usage.ru_utime + usage.ru_stime


def compile_like_an_install(src: Path = ROOT) -> None:
    """Bytecode for regview, as pip or the bundle leave it: with PYTHONDONTWRITEBYTECODE set
    (this machine's environment) every `regview` subprocess compiled the package from source
    again, ~0.15 s of CPU a user's install never spends. Into `__pycache__` (git-ignored)."""
    import compileall

    compileall.compile_dir(str(src / "regview"), quiet=1)


def cli_row(
    name: str,
    n: int,
    rtt: float,
    what: str,
    wall: float,
    base: float,
    proc: subprocess.CompletedProcess[bytes],
    cells: list[str],
    cpu: float,
    requests: int | str,
) -> None:
    ok = len(json.loads(proc.stdout)) == n if proc.returncode == 0 else False
    label = f"`regview tags --json` subprocess{what}" + (
        "" if ok else f" FAILED {proc.stderr[-300:]!r}"
    )
    print(
        row(
            name,
            n,
            rtt,
            label,
            f"{wall:.2f}",
            requests,
            "",
            f"{wall / base:.2f}×",
            *cells,
            f"{cpu:.2f}",
            load_average(),
        ),
        flush=True,
    )


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM too: the registries and proxies are stopped on the way out


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtts", default="0,20,50,150")
    ap.add_argument("--tags", default="2000,10000")
    ap.add_argument("--servers", default="distribution,embedded")
    ap.add_argument("--variant", default="B")
    ap.add_argument("--mbit", type=float, default=0.0)
    ap.add_argument(
        "--budget", type=float, default=240.0, help="skip when the floor would take longer"
    )
    ap.add_argument("--throttle", type=float, default=0.0)
    ap.add_argument("--throttle-rtt", type=float, default=50.0)
    ap.add_argument("--skip-window", action="store_true")
    ap.add_argument("--rounds", type=int, default=1, help="floor, window, CLI: this many times")
    ap.add_argument(
        "--no-compile",
        action="store_true",
        help="leave regview's bytecode alone (the CLI compiles it when PYTHONDONTWRITEBYTECODE is set)",
    )
    ap.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="a checkout of other code (e.g. `git worktree add /tmp/old <commit>`): its "
        "`regview tags --json` runs too, right after this code's, against the same floor",
    )
    args = ap.parse_args()
    if not args.no_compile:
        compile_like_an_install()
        if args.baseline_src is not None:
            compile_like_an_install(args.baseline_src)
    # the window's modules are loaded when it opens, long before a tag load: not in its time
    import regview.core.inventory
    import regview.ui.loader
    import regview.ui.models.tags_model  # noqa: F401

    print(
        f"# machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        row(
            "server",
            "tags",
            "RTT ms",
            "client",
            "wall s",
            "requests",
            "peak limit",
            "vs floor",
            "start s",
            "after last request s",
            "connections",
            "client CPU s",
            "load",
        )
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    counts = [int(n) for n in args.tags.split(",")]
    rtts = [float(r) for r in args.rtts.split(",")]
    with tempfile.TemporaryDirectory() as d, contextlib.ExitStack() as stack:
        tmp = Path(d)
        servers: dict[str, str] = {}
        for name in args.servers.split(","):
            if name == "distribution":
                servers[name] = stack.enter_context(run_distribution(tmp / "distribution")).url
            else:
                (tmp / "embedded").mkdir()
                servers[name] = stack.enter_context(embedded(tmp / "embedded" / "data"))
        for name, url in servers.items():
            for n in counts:
                repo = f"bench/wan-{n}"
                t0 = time.perf_counter()
                asyncio.run(fill(url, repo, n, own_config=args.variant == "B"))
                print(
                    f"<!-- filled {name} {repo} in {time.perf_counter() - t0:.1f} s -->", flush=True
                )
        k = 0
        for name, url in servers.items():
            for n in counts:
                repo = f"bench/wan-{n}"
                requests_needed = n + (n - n // 10 if args.variant == "B" else 1)
                for rtt in rtts:
                    estimate = requests_needed / 16 * (rtt / 1000 + 0.002)
                    if estimate > args.budget:
                        print(
                            row(
                                name,
                                n,
                                rtt,
                                f"skipped: the floor alone would take ~{estimate:.0f} s",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                                "",
                            ),
                            flush=True,
                        )
                        continue
                    # on loopback (RTT 0) no proxy, so no trace: the hop would cost CPU
                    trace = tmp / f"trace-{name}-{n}-{rtt:g}.txt"
                    with proxy(url, rtt, mbit=args.mbit, trace=trace if rtt else None) as via:
                        for _round in range(args.rounds):
                            run = Run(trace if rtt else None)
                            t = time.perf_counter()
                            cpu = time.process_time()
                            reqs = asyncio.run(floor(via, repo, 16))
                            base = time.perf_counter() - t
                            print(
                                row(
                                    name,
                                    n,
                                    rtt,
                                    "floor (c=16)",
                                    f"{base:.2f}",
                                    reqs,
                                    16,
                                    "1.00×",
                                    *run.cells(time.monotonic()),
                                    f"{time.process_time() - cpu:.2f}",
                                    load_average(),
                                ),
                                flush=True,
                            )
                            if not args.skip_window:
                                k += 1
                                run = Run(trace if rtt else None)
                                t = time.perf_counter()
                                cpu = time.process_time()
                                reqs, got, peak, _ = asyncio.run(
                                    window_load(via, repo, tmp / f"w{k}")
                                )
                                wall = time.perf_counter() - t
                                cells = run.cells(time.monotonic())
                                assert got == n, got
                                print(
                                    row(
                                        name,
                                        n,
                                        rtt,
                                        "regview window load (adaptive)",
                                        f"{wall:.2f}",
                                        reqs,
                                        peak,
                                        f"{wall / base:.2f}×",
                                        *cells,
                                        f"{time.process_time() - cpu:.2f}",
                                        load_average(),
                                    ),
                                    flush=True,
                                )
                            sources: list[tuple[str, Path]] = [("", ROOT)]
                            if args.baseline_src is not None:
                                other = (f" ({args.baseline_src.name})", args.baseline_src)
                                # alternate which goes first: the second finds the
                                # registry's caches warm from the first
                                sources.insert(_round % 2, other)
                            for what, src in sources:
                                k += 1
                                run = Run(trace if rtt else None)
                                wall, proc, cli_cpu = cli_run(via, repo, tmp / f"c{k}", src)
                                cells = run.cells(time.monotonic())
                                cli_row(
                                    name,
                                    n,
                                    rtt,
                                    what,
                                    wall,
                                    base,
                                    proc,
                                    cells,
                                    cli_cpu,
                                    run.requests,
                                )
        if args.throttle:
            name, url = next(iter(servers.items()))
            n = counts[0]
            repo = f"bench/wan-{n}"
            k += 1
            _, clean = cli_list(url, repo, tmp / f"c{k}")
            with proxy(url, args.throttle_rtt, throttle=args.throttle) as via:
                k += 1
                wall, proc = cli_list(via, repo, tmp / f"c{k}")
            same = proc.returncode == 0 and json.loads(proc.stdout) == json.loads(clean.stdout)
            said = "throttled" in proc.stderr.decode()
            note = proc.stderr.decode().strip().splitlines()[-1:] if proc.stderr else []
            print(
                row(
                    name,
                    n,
                    args.throttle_rtt,
                    f"CLI with {args.throttle:.0%} 429s: exit {proc.returncode}, identical output: {same}, says throttled: {said} ({note})",
                    f"{wall:.2f}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    load_average(),
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
