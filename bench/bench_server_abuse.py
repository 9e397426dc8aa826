"""The embedded registry's memory and answers under the abuses of issue 12, regview against a
baseline regview (an older source tree) side by side in one run.

    python bench/bench_server_abuse.py --baseline-src /tmp/old      # old tree: git archive | tar

Each abuse runs against a fresh `regview serve` subprocess (its RSS read from /proc):
1. one unauthenticated 400 MiB `PUT /api/v4/projects/1` (`--auth token --demo`);
2. 50,000 `PATCH /v2/a/b/blobs/uploads/<random uuid>` over one keep-alive connection;
3. 100 connections, each PATCHing its own upload, announcing `Content-Length: 10000000000` and
   sending 10 bytes: how many are answered within 45 s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Server:
    proc: subprocess.Popen[str]
    host: str
    port: int

    def rss_mib(self, field: str = "VmRSS") -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def serve(src: Path | None, *args: str) -> Iterator[Server]:
    env = dict(os.environ)
    if src is not None:  # `-m` puts the working directory first on sys.path: run from there
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [sys.executable, "-m", "regview", "serve", "--port", "0", "--data", data, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=src,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            url = line.split("listening on ", 1)[1].split()[0]
            host, port = url.split("://", 1)[1].rsplit(":", 1)
            time.sleep(0.5)  # settle after start-up
            yield Server(proc, host, int(port))
        finally:
            proc.terminate()
            proc.wait(30)


def big_rest_put(server: Server) -> str:
    before = server.rss_mib()
    total = 400 * 1024 * 1024
    head = (
        f"PUT /api/v4/projects/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    chunk = b" " * (1024 * 1024)
    answer = b""
    start = time.monotonic()
    with socket.create_connection((server.host, server.port), timeout=120) as s:
        s.sendall(head)
        s.setblocking(False)
        sent = 0
        while sent < total and time.monotonic() - start < 120:
            try:
                answer += s.recv(4096)
                if answer:
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        s.setblocking(True)
        s.settimeout(60)
        if not answer:
            with suppress(OSError):
                answer = s.recv(4096)
    took = time.monotonic() - start
    status = answer[9:12].decode() if answer.startswith(b"HTTP/1.1") else "none"
    return (
        f"status {status} after {took:.1f} s, {sent / 2**20:.0f} MiB sent; RSS {before:.0f} → "
        f"{server.rss_mib():.0f} MiB (peak {server.rss_mib('VmHWM'):.0f} MiB)"
    )


def unknown_patches(server: Server, count: int) -> str:
    before = server.rss_mib()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    statuses: dict[int, int] = {}
    start = time.monotonic()
    for _ in range(count):
        conn.request("PATCH", f"/v2/a/b/blobs/uploads/{uuid.uuid4()}", body=b"x")
        response = conn.getresponse()
        response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
    conn.close()
    took = time.monotonic() - start
    return (
        f"{statuses} in {took:.0f} s; RSS {before:.1f} → {server.rss_mib():.1f} MiB "
        f"(+{server.rss_mib() - before:.1f})"
    )


def stalled_bodies(server: Server, connections: int, wait: float) -> str:
    """Each connection PATCHes its own (real) upload, announcing 10 GB and sending 10 bytes."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    locations = []
    for _ in range(connections):
        conn.request("POST", "/v2/a/b/blobs/uploads/")
        response = conn.getresponse()
        response.read()
        locations.append(response.getheader("Location") or "")
    conn.close()
    before = server.rss_mib()
    answered: list[float] = []
    start = time.monotonic()

    def stall(location: str) -> None:
        head = f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"
        with socket.create_connection((server.host, server.port), timeout=wait) as s:
            s.sendall(head.encode() + b"0123456789")
            try:
                if s.recv(64):
                    answered.append(time.monotonic() - start)
            except OSError:
                pass

    threads = [threading.Thread(target=stall, args=(loc,)) for loc in locations]
    for t in threads:
        t.start()
    time.sleep(2)
    during = server.rss_mib()
    for t in threads:
        t.join(wait + 10)
    slowest = f"{max(answered):.1f} s" if answered else "-"
    return (
        f"{len(answered)}/{connections} answered within {wait:.0f} s (slowest {slowest}); "
        f"RSS {before:.1f} → {during:.1f} MiB while held, {server.rss_mib():.1f} after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, required=True)
    parser.add_argument("--patches", type=int, default=50_000)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f}")
    for name, src in (("baseline", args.baseline_src), ("regview", None)):
        with serve(src, "--auth", "token", "--demo") as server:
            print(f"{name} 400 MiB unauthenticated REST PUT: {big_rest_put(server)}", flush=True)
        with serve(src) as server:
            print(
                f"{name} {args.patches} unknown-upload PATCHes: "
                f"{unknown_patches(server, args.patches)}",
                flush=True,
            )
        with serve(src) as server:
            print(f"{name} stalled bodies: {stalled_bodies(server, 100, 45)}", flush=True)
    print(f"load: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
