"""Where a skopeo pull's time goes, against registries already running and holding the image.

    .venv/bin/python bench/skopeo_phases.py [--pulls 8] [--ref bench/big:v1] NAME=HOST:PORT ...

Each pull runs under `strace -f --seccomp-bpf` tracing only rare calls (execve, connect, openat,
renameat, exit_group; the reads and writes of the transfer run untraced), each with an empty
blob-info cache of its own and into /dev/shm, the registries in rotated order. From the trace:
`start` (exec to the first connection: skopeo's own start-up), `meta` (first connection to the
first layer's: https probe, /v2/ ping, manifest), each blob's time to headers (connect to the
destination file's creation, which follows the response headers) and body (file created to
renamed into place), and the tail. Medians over the pulls. The registries are started and
pushed to by the caller, e.g. by `bench_server.py`'s helpers.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import skopeo_command

_LINE = re.compile(r"\d+ +(\d+\.\d+) (\w+)\((.*)")


@dataclass
class Pull:
    """One traced pull's phases, in milliseconds."""

    total: float
    start: float
    meta: float
    headers: list[float]  # each blob: connect to response headers
    bodies: list[float]  # each blob: headers to the file renamed into place
    tail: float


def trace_pull(host: str, ref: str) -> Pull:
    with (
        tempfile.TemporaryDirectory(prefix="regview-phases-", dir="/dev/shm") as into,
        tempfile.TemporaryDirectory(prefix="regview-phases-cache-") as scratch,
    ):
        log = Path(scratch) / "trace"
        args = ["copy", "--src-tls-verify=false", f"docker://{host}/{ref}", f"dir:{into}/img"]
        strace = ["strace", "-f", "--seccomp-bpf", "-ttt", "-o", str(log), "-e", "signal=none"]
        strace += ["-e", "trace=execve,connect,openat,renameat,exit_group"]
        command, env = skopeo_command(args, Path(scratch))
        # trace skopeo itself (inside the private mount namespace when there is one)
        command = [
            part.replace("exec skopeo", "exec " + " ".join(strace) + " skopeo") for part in command
        ]
        if command[0] == "skopeo":
            command = [*strace, *command]
        subprocess.run(command, check=True, capture_output=True, env=env)
        events: list[tuple[str, float]] = []
        for line in log.read_text().splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            t, call, rest = float(m.group(1)), m.group(2), m.group(3)
            if call == "execve" and "skopeo" in rest and not events:
                events.append(("start", t))
            elif call == "connect" and "sin_port" in rest:
                events.append(("connect", t))
            elif call == "openat" and "dir-put-blob" in rest:
                events.append(("headers", t))
            elif call == "renameat":
                events.append(("done", t))
            elif call == "exit_group":
                events.append(("end", t))
    start = events[0][1]
    end = [t for kind, t in events if kind == "end"][-1]
    connects = [t for kind, t in events if kind == "connect"]
    heads = [t for kind, t in events if kind == "headers"]
    dones = [t for kind, t in events if kind == "done"]
    return Pull(
        total=(end - start) * 1e3,
        start=(connects[0] - start) * 1e3,
        meta=(max(c for c in connects if c < heads[0]) - connects[0]) * 1e3,
        headers=[(h - max(c for c in connects if c < h)) * 1e3 for h in heads],
        bodies=[(d - h) * 1e3 for h, d in zip(heads, dones, strict=True)],
        tail=(end - dones[-1]) * 1e3,
    )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("registries", nargs="+", help="NAME=HOST:PORT")
    p.add_argument("--pulls", type=int, default=8)
    p.add_argument("--ref", default="bench/big:v1")
    args = p.parse_args()
    if shutil.which("strace") is None:
        print("strace is needed", file=sys.stderr)
        return 1
    servers = dict(spec.split("=", 1) for spec in args.registries)
    names = list(servers)
    got: dict[str, list[Pull]] = {n: [] for n in names}
    t = time.strftime("%H:%M:%S", time.gmtime())
    loads = [float(Path("/proc/loadavg").read_text().split()[0])]
    for i in range(args.pulls):
        k = i % len(names)
        order = names[k:] + names[:k]
        if i % 2:
            order.reverse()
        for name in order:
            got[name].append(trace_pull(servers[name], args.ref))
        loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
    print(
        f"{args.pulls} traced pulls of {args.ref} per registry from {t} UTC, 1-minute load "
        f"{min(loads):.1f}–{max(loads):.1f}; medians in ms\n"
    )
    print(
        "| registry | whole pull | start | meta (probe, ping, manifest) | blob headers, sum | "
        "layer body, each | layer bodies, sum | tail | whole pulls |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    med = statistics.median
    for name in names:
        runs = got[name]
        layers = [b for r in runs for b in r.bodies[:-1]]  # the last blob is the config
        print(
            f"| {name} | {med(r.total for r in runs):.0f} | {med(r.start for r in runs):.0f} "
            f"| {med(r.meta for r in runs):.1f} | {med(sum(r.headers) for r in runs):.1f} "
            f"| {med(layers):.0f} | {med(sum(r.bodies) for r in runs):.0f} "
            f"| {med(r.tail for r in runs):.1f} | {' '.join(f'{r.total:.0f}' for r in runs)} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
