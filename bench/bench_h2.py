"""Benchmark: HTTP/2 against HTTP/1.1 for a tag listing over TLS and a long link.

    .venv/bin/python bench/bench_h2.py [--tags 1000] [--rtts 50,150] [--rounds 2]

Fills the embedded registry with `--tags` tags (bench_tags variant B), serves its app with
hypercorn over TLS (a private CA; ALPN h2 and http/1.1) and puts `wanproxy.py` in front. Then,
alternating, `inventory.load_tags` with the adaptive limiter over the lean HTTP/1.1 transport
(the default) and over HTTP/2 (`RegistryClient(http2=True)`), cold cache, in one process run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "integration")]
sys.path.append(str(ROOT / "tests"))

from bench_tags import fill  # noqa: E402
from bench_wan import proxy  # noqa: E402
from test_client_http2 import hypercorn_registry  # noqa: E402

from regview.core import inventory  # noqa: E402
from regview.core.client.client import RegistryClient  # noqa: E402
from regview.core.model import Endpoint  # noqa: E402
from regview.server.runner import LocalRegistry  # noqa: E402


async def listing(url: str, ca: str, http2: bool, cache: Path) -> tuple[int, int]:
    async with RegistryClient(Endpoint(url, ca_file=ca), cache_dir=cache, http2=http2) as c:
        infos = await inventory.load_tags(c, "bench/h2")
        assert not any(i.error for i in infos)
        return len(infos), c.limiter.peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=1000)
    ap.add_argument("--rtts", default="50,150")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print("| RTT ms | transport | wall s | CPU s | peak limit | load |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "data"
        with LocalRegistry(data) as reg:
            asyncio.run(fill(reg.url, "bench/h2", args.tags, own_config=True))
        with hypercorn_registry(data, Path(d) / "tls") as (url, ca, _versions):
            for rtt in (float(r) for r in args.rtts.split(",")):
                with proxy(url.replace("https", "http"), rtt) as via:
                    target = via.replace("http://", "https://")
                    k = 0
                    for rnd in range(args.rounds):
                        order = [False, True] if rnd % 2 == 0 else [True, False]
                        for http2 in order:
                            k += 1
                            c0, t0 = time.process_time(), time.perf_counter()
                            n, peak = asyncio.run(
                                listing(target, ca, http2, Path(d) / f"c{rtt}-{k}")
                            )
                            wall = time.perf_counter() - t0
                            assert n == args.tags
                            name = "HTTP/2 (httpx + h2)" if http2 else "HTTP/1.1 (fasthttp)"
                            print(
                                f"| {rtt:.0f} | {name} | {wall:.2f} | "
                                f"{time.process_time() - c0:.2f} | {peak} | "
                                f"{os.getloadavg()[0]:.1f} |",
                                flush=True,
                            )


if __name__ == "__main__":
    main()
