"""Deleting 1,000 tags: regview's executor vs a bare httpx loop doing the minimal requests
(one `DELETE /v2/<name>/manifests/<tag>` per tag) at the same concurrency, same run, against
the embedded registry on loopback.

    .venv/bin/python bench/bench_delete.py [--tags 1000] [--concurrency 8]

regview does more per tag on purpose: HEAD (re-verify the digest), GET (save the manifest to the
recycle bin) and the DELETE, plus a journal line. Both sides get a fresh copy of the same state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from regview.core.client import RegistryClient
from regview.core.delete_port import ClientPort, gather_facts
from regview.core.executor import Executor
from regview.core.journal import Journal
from regview.core.model import Endpoint
from regview.core.plan import Selection, make_plan
from regview.paths import default_paths
from regview.server.runner import LocalRegistry
from regview.spec import mediatypes as mt

REPO = "bench/app"


async def seed(url: str, n: int, conc: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post(
            f"/v2/{REPO}/blobs/uploads/?digest={mt.OCI_EMPTY_DIGEST}", content=b"{}"
        )
        if r.status_code == 202:
            loc = r.headers["Location"]
            await http.put(
                f"{loc}{'&' if '?' in loc else '?'}digest={mt.OCI_EMPTY_DIGEST}", content=b"{}"
            )
        sem = asyncio.Semaphore(conc)

        async def one(i: int) -> None:
            body = {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": mt.OCI_EMPTY_DIGEST, "size": 2},
                "layers": [],
                "annotations": {"n": str(i)},
            }
            async with sem:
                r = await http.put(
                    f"/v2/{REPO}/manifests/t{i:05d}",
                    content=json.dumps(body),
                    headers={"Content-Type": mt.OCI_MANIFEST},
                )
                r.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(n)))


async def baseline(url: str, n: int, conc: int) -> float:
    async with httpx.AsyncClient(
        base_url=url, timeout=30, limits=httpx.Limits(max_connections=conc)
    ) as http:
        sem = asyncio.Semaphore(conc)

        async def one(i: int) -> None:
            async with sem:
                r = await http.delete(f"/v2/{REPO}/manifests/t{i:05d}")
                assert r.status_code == 202, r.status_code

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0


async def regview(url: str, n: int, conc: int, base: Path) -> tuple[float, float]:
    async with RegistryClient(Endpoint(url), concurrency=conc, cache_dir=base / "cache") as client:
        port = ClientPort(client)
        t0 = time.perf_counter()
        facts = await gather_facts(port, REPO)
        plan = make_plan(facts, Selection.repository())
        t1 = time.perf_counter()
        report = await Executor(port, Journal(default_paths(base)), concurrency=conc).run(plan)
        t2 = time.perf_counter()
        assert report.ok and len(report.deleted) == n, report.failed[:3]
        return t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(a.rounds):
            times = {}
            for side in ("baseline", "regview"):
                with LocalRegistry(Path(tmp) / f"{side}{rnd}") as reg:
                    asyncio.run(seed(reg.url, a.tags, a.concurrency))
                    if side == "baseline":
                        times[side] = asyncio.run(baseline(reg.url, a.tags, a.concurrency))
                    else:
                        plan_t, run_t = asyncio.run(
                            regview(reg.url, a.tags, a.concurrency, Path(tmp) / f"b{rnd}")
                        )
                        times["plan"], times[side] = plan_t, run_t
            rows.append(times)
            print(
                f"round {rnd + 1}: baseline {times['baseline']:.2f}s, regview execute "
                f"{times['regview']:.2f}s (ratio {times['regview'] / times['baseline']:.2f}), "
                f"facts+plan {times['plan']:.2f}s",
                flush=True,
            )
    best = {k: min(r[k] for r in rows) for k in rows[0]}
    print(
        f"\nmachine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(
        f"best of {a.rounds}: baseline {best['baseline']:.2f}s, regview {best['regview']:.2f}s, "
        f"ratio {best['regview'] / best['baseline']:.2f}; facts+plan {best['plan']:.2f}s"
    )


if __name__ == "__main__":
    main()
