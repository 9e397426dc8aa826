"""Deleting 1,000 tags: regview's executor vs bare httpx loops at the same concurrency, same run.

    .venv/bin/python bench/bench_delete.py [--tags 1000] [--concurrency 8] [--rounds 3]
                                           [--registry regview|distribution]

The registry runs in its own process (`regview serve`, or Debian's `docker-registry` for the
throw-away-manifest path, which has no tag delete), so the client and the server do not share
a GIL. Every side gets a fresh registry seeded with the same 1,000 single-manifest tags.

Sides, per tag:
- `minimal`: the fewest requests that remove the tag — `DELETE /v2/<name>/manifests/<tag>`
  (regview serve), or PUT a unique placeholder + DELETE it by digest (docker-registry). It
  deletes whatever the tag points at by then, and keeps nothing.
- `careful`: what a careful script does too — resolve the tag first (`HEAD` with the Accept
  list), compare the digest with the one it decided on, then the minimal requests.
- `regview`: the executor — one GET by tag (re-verifies the digest from the bytes and gives the
  bytes to keep), the manifest saved to the recycle bin and fsynced, a journal line `started`,
  the minimal requests, a journal line with the outcome. Gathering the facts and planning are
  timed separately and not part of the ratio.

`minimal` and `careful` use `httpx.AsyncClient` as it comes (httpcore underneath); the `-fast`
variants use `httpx.AsyncClient` over `regview.core.client.fasthttp.FastTransport`, the lean httptools
transport regview's client sends through, so that the ratio against them measures regview's own
work and not the choice of HTTP stack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_server import free_port, start_distribution, start_regview, wait_up  # noqa: E402
from tiny_images import tiny_manifest  # noqa: E402

from regview.core.client.client import RegistryClient  # noqa: E402
from regview.core.client.fasthttp import FastTransport  # noqa: E402
from regview.core.deletion.executor import Executor  # noqa: E402
from regview.core.deletion.plan import Selection, make_plan  # noqa: E402
from regview.core.deletion.port import ClientPort, gather_facts  # noqa: E402
from regview.core.journal.journal import Journal  # noqa: E402
from regview.core.model import Endpoint  # noqa: E402
from regview.paths import default_paths  # noqa: E402
from regview.spec import mediatypes as mt  # noqa: E402
from regview.spec.digest import Digest  # noqa: E402

REPO = "bench/app"
SIDES = ("minimal", "careful", "minimal-fast", "careful-fast", "regview")


def tag(i: int) -> str:
    return f"t{i:05d}"


async def seed(url: str, n: int, conc: int) -> dict[str, str]:
    """Push n tags; returns tag → digest (what the deleting side decided on)."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        r = await http.post(
            f"/v2/{REPO}/blobs/uploads/?digest={mt.OCI_EMPTY_DIGEST}", content=b"{}"
        )
        if r.status_code == 202:
            loc = r.headers["Location"]
            r = await http.put(
                f"{loc}{'&' if '?' in loc else '?'}digest={mt.OCI_EMPTY_DIGEST}", content=b"{}"
            )
        r.raise_for_status()
        sem = asyncio.Semaphore(conc)

        async def one(i: int) -> None:
            async with sem:
                r = await http.put(
                    f"/v2/{REPO}/manifests/{tag(i)}",
                    content=tiny_manifest(i),
                    headers={"Content-Type": mt.OCI_MANIFEST},
                )
                r.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(n)))
    return {tag(i): str(Digest.of(tiny_manifest(i))) for i in range(n)}


class Clock:
    """Wall time, plus the CPU seconds of this process (client) and of the registry process,
    which are much less disturbed than wall time when other work shares the machine."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    def server_cpu(self) -> float:
        fields = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime

    def start(self) -> None:
        self._t = (time.perf_counter(), time.process_time(), self.server_cpu())

    def stop(self) -> tuple[float, float, float]:
        wall, client, server = self._t
        return (
            time.perf_counter() - wall,
            time.process_time() - client,
            self.server_cpu() - server,
        )


def placeholder() -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [],
            "annotations": {"bench": secrets.token_hex(16)},
        }
    ).encode()


async def bare(
    url: str,
    digests: dict[str, str],
    conc: int,
    clock: Clock,
    *,
    careful: bool,
    tag_delete: bool,
    fast: bool,
) -> tuple[float, float, float]:
    transport = FastTransport(None, limit=conc) if fast else None
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=conc), transport=transport
    ) as http:
        sem = asyncio.Semaphore(conc)

        async def send(method: str, path: str, ok: int, **kw: object) -> httpx.Response:
            # docker-registry answers 500 now and then to concurrent manifest deletes in one
            # repository (it walks every tag); a careful script retries, and so does regview,
            # with the same back-off, so that the registry's failures cost both sides alike.
            retries = 0
            while True:
                r = await http.request(method, path, **kw)  # type: ignore[arg-type]
                if r.status_code < 500 or retries == 4:
                    break
                retries += 1
                await asyncio.sleep(0.5 * 2 ** (retries - 1))  # the back-off regview uses
            # a DELETE that answered 500 may have gone through: 404 on the retry is success
            gone = method == "DELETE" and retries > 0 and r.status_code == 404
            assert r.status_code == ok or gone, (method, path, r.status_code)
            return r

        async def one(t: str, expected: str) -> None:
            async with sem:
                path = f"/v2/{REPO}/manifests/{t}"
                if careful:
                    r = await send("HEAD", path, 200, headers={"Accept": mt.ACCEPT_MANIFESTS})
                    if r.headers.get("Docker-Content-Digest") != expected:
                        raise AssertionError(f"{t} changed")
                if tag_delete:
                    await send("DELETE", path, 202)
                    return
                data = placeholder()
                await send("PUT", path, 201, content=data, headers={"Content-Type": mt.OCI_INDEX})
                await send("DELETE", f"/v2/{REPO}/manifests/{Digest.of(data)}", 202)

        clock.start()
        await asyncio.gather(*(one(t, d) for t, d in digests.items()))
        return clock.stop()


async def regview(
    url: str, n: int, conc: int, base: Path, clock: Clock
) -> tuple[float, tuple[float, float, float]]:
    async with RegistryClient(Endpoint(url), concurrency=conc, cache_dir=base / "cache") as client:
        port = ClientPort(client)
        t0 = time.perf_counter()
        facts = await gather_facts(port, REPO)
        plan = make_plan(facts, Selection.repository())
        t1 = time.perf_counter()
        clock.start()
        report = await Executor(port, Journal(default_paths(base)), concurrency=conc).run(plan)
        measured = clock.stop()
        assert report.ok and len(report.deleted) == n, report.failed[:3]
        return t1 - t0, measured


def run_side(side: str, args: argparse.Namespace, work: Path, rnd: int) -> dict[str, float]:
    port = free_port()
    data = work / f"data-{side}-{rnd}"
    data.mkdir()
    starter = start_regview if args.registry == "regview" else start_distribution
    proc = starter(data, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url)
        digests = asyncio.run(seed(url, args.tags, args.concurrency))
        tag_delete = args.registry == "regview"
        clock = Clock(proc.pid)
        out: dict[str, float] = {}
        if side == "regview":
            out["plan"], measured = asyncio.run(
                regview(url, args.tags, args.concurrency, work / f"base-{rnd}", clock)
            )
        else:
            measured = asyncio.run(
                bare(
                    url,
                    digests,
                    args.concurrency,
                    clock,
                    careful=side.startswith("careful"),
                    tag_delete=tag_delete,
                    fast=side.endswith("-fast"),
                )
            )
        out[side], out[f"{side} cpu"], out[f"{side} server cpu"] = measured
        return out
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def cpu_model() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--registry", choices=("regview", "distribution"), default="regview")
    a = ap.parse_args()
    rows: list[dict[str, float]] = []
    loads = [os.getloadavg()[0]]
    work = Path(tempfile.mkdtemp(prefix="regview-bench-delete-"))
    try:
        for rnd in range(a.rounds):
            times: dict[str, float] = {}
            # the order rotates, so no side always runs first (or last) in a round
            for side in SIDES[rnd % len(SIDES) :] + SIDES[: rnd % len(SIDES)]:
                times.update(run_side(side, a, work, rnd))
                loads.append(os.getloadavg()[0])
            rows.append(times)
            print(
                f"round {rnd + 1}: "
                + ", ".join(f"{k} {v:.2f}s" for k, v in times.items() if "cpu" not in k)
                + "; regview ×"
                + ", ×".join(f"{times['regview'] / times[b]:.2f} {b}" for b in SIDES[:-1]),
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(
        f"\nmachine: {os.cpu_count()} cores, {cpu_model()}, {platform.platform()}, Python "
        f"{platform.python_version()}; 1-minute load average {min(loads):.1f} to "
        f"{max(loads):.1f}; registry: {a.registry} (own process); {a.tags} tags, "
        f"concurrency {a.concurrency}; median of {a.rounds} rounds\n"
    )
    print(
        "| side | wall s (median) | regview ÷ side, wall (median of per-round ratios) | "
        "client CPU s | server CPU s | regview ÷ side, client+server CPU | wall per round |"
    )
    print("|---|---|---|---|---|---|---|")
    for side in SIDES:
        wall = statistics.median(r["regview"] / r[side] for r in rows)
        cpu = statistics.median(
            (r["regview cpu"] + r["regview server cpu"])
            / (r[f"{side} cpu"] + r[f"{side} server cpu"])
            for r in rows
        )
        each = ", ".join(f"{r[side]:.2f}" for r in rows)
        print(
            f"| {side} | {med[side]:.2f} | {wall:.2f} | {med[side + ' cpu']:.2f} | "
            f"{med[side + ' server cpu']:.2f} | {cpu:.2f} | {each} |"
        )
    print(f"\nfacts + plan (not in the ratios): median {med['plan']:.2f} s")


if __name__ == "__main__":
    main()
