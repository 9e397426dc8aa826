"""Benchmark: tag details of a 10,000-tag repository, regview against two baselines.

    .venv/bin/python bench/bench_tags.py [--tags 10000] [--concurrency 16] [--variants A,B]

Starts Debian's docker-registry (2.8) on a free loopback port, fills `bench/a` (variant A:
every image shares one config) and `bench/b` (variant B: every image its own config) with
`--tags` tags, about one in ten sharing a digest with another tag, by pushing blobs once and
PUTting manifests over HTTP. Then, in one process run, times:

1. floor   — a minimal hand-written asyncio HTTP/1.1 client doing only the strictly needed
             requests (tags list, one manifest GET per tag, one config GET per distinct config)
2. httpx   — the same requests through a plain `httpx.AsyncClient`
3. regview — `inventory.load_tags` in-process, cold cache (and `regview tags --json` as a
             subprocess, right after a floor of its own, CPU from the process's rusage)
4. warm    — a second `load_tags` with the cache warm: requests counted (≤ 1 per tag)

Prints a Markdown table (wall seconds, CPU seconds of this process, requests).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests")]

from distribution import run_distribution  # noqa: E402
from floor_client import ACCEPT, floor  # noqa: E402

from regview.core import inventory  # noqa: E402
from regview.core.client.client import RegistryClient  # noqa: E402
from regview.core.model import Endpoint  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- filling


async def fill(url: str, repo: str, tags: int, own_config: bool) -> None:
    layer = os.urandom(1024)
    conn = aiohttp.TCPConnector(limit=16)
    async with aiohttp.ClientSession(connector=conn) as s:

        async def push_blob(data: bytes) -> str:
            digest = sha(data)
            async with s.post(f"{url}/v2/{repo}/blobs/uploads/") as r:
                assert r.status == 202, await r.text()
                loc = r.headers["Location"]
            sep = "&" if "?" in loc else "?"
            target = loc if loc.startswith("http") else url + loc
            async with s.put(
                f"{target}{sep}digest={digest}",
                data=data,
                headers={"Content-Type": "application/octet-stream"},
            ) as r:
                assert r.status == 201, await r.text()
            return digest

        layer_digest = await push_blob(layer)

        def config_bytes(i: int) -> bytes:
            return json.dumps(
                {
                    "created": f"2024-01-01T00:00:{i % 60:02d}Z",
                    "architecture": "amd64",
                    "os": "linux",
                    "config": {"Labels": {"n": str(i)}},
                    "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
                }
            ).encode()

        distinct = tags - tags // 10
        shared_config = config_bytes(0)
        configs: list[bytes] = [
            config_bytes(i) if own_config else shared_config for i in range(distinct)
        ]
        sem = asyncio.Semaphore(16)

        async def bounded(coro: Awaitable[object]) -> object:
            async with sem:
                return await coro

        unique_configs = {sha(c): c for c in configs}
        await asyncio.gather(*(bounded(push_blob(c)) for c in unique_configs.values()))

        def manifest(i: int) -> bytes:
            c = configs[i]
            return json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": sha(c),
                        "size": len(c),
                    },
                    "layers": [
                        {
                            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": layer_digest,
                            "size": len(layer),
                        }
                    ],
                    # distinct manifests even when the config is shared
                    "annotations": {"bench.index": str(i)},
                }
            ).encode()

        async def put(tag: str, data: bytes) -> None:
            async with s.put(
                f"{url}/v2/{repo}/manifests/{tag}",
                data=data,
                headers={"Content-Type": OCI_MANIFEST},
            ) as r:
                assert r.status == 201, await r.text()

        jobs = []
        for t in range(tags):
            # every tenth tag re-uses the manifest of the tag before it
            i = t - t // 10 - (1 if t % 10 == 9 else 0)
            i = min(max(i, 0), distinct - 1)
            jobs.append(bounded(put(f"t{t:05d}", manifest(i))))
        await asyncio.gather(*jobs)


# --------------------------------------------------------------------------- plain httpx


async def plain_httpx(url: str, repo: str, concurrency: int) -> int:
    count = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:

        async def get(path: str, accept: str = "application/json") -> bytes:
            nonlocal count
            count += 1
            r = await client.get(path, headers={"Accept": accept})
            r.raise_for_status()
            return r.content

        tags = json.loads(await get(f"/v2/{repo}/tags/list"))["tags"]
        configs: dict[str, asyncio.Task[bytes]] = {}
        queue = list(reversed(tags))

        async def worker() -> None:
            while queue:
                tag = queue.pop()
                m = json.loads(await get(f"/v2/{repo}/manifests/{tag}", ACCEPT))
                d = m["config"]["digest"]
                if d not in configs:
                    configs[d] = asyncio.ensure_future(get(f"/v2/{repo}/blobs/{d}"))
                json.loads(await configs[d])

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count


async def regview_listing(url: str, repo: str, concurrency: int, cache: Path) -> tuple[int, int]:
    async with RegistryClient(Endpoint(url), cache_dir=cache, concurrency=concurrency) as c:
        infos = await inventory.load_tags(c, repo)
        assert all(not i.error for i in infos), [i.error for i in infos if i.error][:3]
        return c.requests, len(infos)


def floor_command(url: str, repo: str) -> tuple[float, int, float]:
    """The floor as a command (`python bench/floor_client.py`, standard library only):
    (wall s, requests, CPU s) — what any Python command pays on top of the floor in-process."""
    from bench_wan import timed_run

    wall, proc, cpu = timed_run(
        [sys.executable, str(ROOT / "bench" / "floor_client.py"), url, repo, "16"]
    )
    if proc.returncode != 0:
        raise RuntimeError(f"floor_client.py exited {proc.returncode}: {proc.stderr[-200:]!r}")
    return wall, int(proc.stdout), cpu


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def timed(fn: Callable[[], Awaitable[object]]) -> tuple[float, float, object]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = asyncio.run(fn())  # type: ignore[arg-type]
    return time.perf_counter() - wall0, time.process_time() - cpu0, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--httpx-concurrency", type=int, default=8)
    ap.add_argument("--variants", default="A,B")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument(
        "--clients",
        default="floor,httpx,cold,warm,cli",
        help="which rows: floor, httpx, cold / warm (load_tags in-process), cli (`regview tags "
        "--json` as a subprocess, timed right after a floor of its own), floorcmd (the floor as "
        "a command, before the CLI: the CLI is also compared with it)",
    )
    ap.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="another checkout whose `regview tags --json` runs right after this one's",
    )
    args = ap.parse_args()
    clients = set(args.clients.split(","))
    # bench_wan imports this module: its CLI helpers are imported here, not at the top
    from bench_wan import cli_run, compile_like_an_install

    compile_like_an_install()  # bytecode as an install has it (PYTHONDONTWRITEBYTECODE here)
    if args.baseline_src is not None:
        compile_like_an_install(args.baseline_src)
    print(
        f"# machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rows: list[str] = []
    # (variant, what) → each run / its floor: the CLI against the floor in-process (the issue's
    # yardstick) and, with floorcmd, against the floor as a command
    ratios: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as d, run_distribution(Path(d) / "registry") as reg:
        for variant in args.variants.split(","):
            repo = f"bench/{variant.lower()}"
            t0 = time.perf_counter()
            asyncio.run(fill(reg.url, repo, args.tags, own_config=variant == "B"))
            print(f"filled {repo} with {args.tags} tags in {time.perf_counter() - t0:.1f} s")
            for rnd in range(args.rounds):
                cache = Path(d) / f"cache-{variant}-{rnd}"
                runs: list[tuple[str, str, Callable[[], Awaitable[object]]]] = [
                    (
                        "floor",
                        f"floor (asyncio streams, c={args.concurrency})",
                        lambda repo=repo: floor(reg.url, repo, args.concurrency),
                    ),
                    (
                        "httpx",
                        f"plain httpx.AsyncClient (c={args.httpx_concurrency})",
                        lambda repo=repo: plain_httpx(reg.url, repo, args.httpx_concurrency),
                    ),
                    (
                        "cold",
                        f"regview load_tags, cold (c={args.concurrency})",
                        lambda repo=repo, cache=cache: regview_listing(
                            reg.url, repo, args.concurrency, cache
                        ),
                    ),
                    (
                        "warm",
                        f"regview load_tags, warm cache (c={args.concurrency})",
                        lambda repo=repo, cache=cache: regview_listing(
                            reg.url, repo, args.concurrency, cache
                        ),
                    ),
                ]
                floor_wall = 0.0
                for key, name, fn in runs:
                    if key not in clients:
                        continue
                    wall, cpu, result = timed(fn)
                    requests = result[0] if isinstance(result, tuple) else result
                    if key == "floor":
                        floor_wall = wall
                    ratio = wall / floor_wall if floor_wall else 0
                    row = f"| {variant} | {name} | {wall:.2f} | {cpu:.2f} | {requests} | {ratio:.2f}× | {load()} |"
                    print(row, flush=True)
                    rows.append(row)
                if "cli" not in clients:
                    continue
                if "floor" in clients and {"httpx", "cold", "warm"} & clients:
                    # the CLI against a floor of its own, just before it (minutes have passed)
                    floor_wall, cpu, result = timed(lambda repo=repo: floor(reg.url, repo, 16))
                    row = f"| {variant} | floor again, right before the CLI | {floor_wall:.2f} | {cpu:.2f} | {result} | 1.00× | {load()} |"
                    print(row, flush=True)
                    rows.append(row)
                sources = [("", ROOT)]
                if args.baseline_src is not None:
                    sources.append((f" ({args.baseline_src.name})", args.baseline_src))
                    # each version right after a floor of its own, the order turned every
                    # round: neither always runs first (the registry's caches, the load)
                    if rnd % 2:
                        sources.reverse()
                command_wall = 0.0
                if "floorcmd" in clients:
                    command_wall, requests, cpu = floor_command(reg.url, repo)
                    if floor_wall:
                        ratios.setdefault((variant, "floor as a command"), []).append(
                            command_wall / floor_wall
                        )
                    row = f"| {variant} | floor as a command (`python bench/floor_client.py`) | {command_wall:.2f} | {cpu:.2f} | {requests} | {command_wall / floor_wall if floor_wall else 0:.2f}× | {load()} |"
                    print(row, flush=True)
                    rows.append(row)
                for i, (label, src) in enumerate(sources):
                    if i > 0 and "floor" in clients:
                        floor_wall, cpu, result = timed(lambda repo=repo: floor(reg.url, repo, 16))
                        row = f"| {variant} | floor again, right before the CLI | {floor_wall:.2f} | {cpu:.2f} | {result} | 1.00× | {load()} |"
                        print(row, flush=True)
                        rows.append(row)
                    base = Path(d) / f"cli-{variant}-{rnd}{label.strip(' ()')}"
                    wall, proc, cpu = cli_run(reg.url, repo, base, src)
                    ok = (
                        "ok"
                        if proc.returncode == 0 and len(json.loads(proc.stdout)) == args.tags
                        else f"exit {proc.returncode}: {proc.stderr[-200:]!r}"
                    )
                    ratio = wall / floor_wall if floor_wall else 0
                    if ratio:
                        ratios.setdefault((variant, f"`regview tags --json`{label}"), []).append(
                            ratio
                        )
                    if command_wall:
                        ratios.setdefault(
                            (variant, f"`regview tags --json`{label} vs the floor as a command"),
                            [],
                        ).append(wall / command_wall)
                    row = f"| {variant} | `regview tags --json` subprocess{label} ({ok}) | {wall:.2f} | {cpu:.2f} | – | {ratio:.2f}× | {load()} |"
                    print(row, flush=True)
                    rows.append(row)
    print(
        "\n| variant | client | wall s | CPU s | requests | vs floor | load |\n"
        "|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    if ratios:
        # One round is one pair (a floor, then the CLI) on a machine whose speed drifts from
        # second to second: the spread over many rounds says more than any single one.
        print("\n| variant | client | rounds | vs its floor: median | range | rounds within 1.3× |")
        print("|---|---|---|---|---|---|")
        for (variant, what), got in ratios.items():
            within = sum(r <= 1.3 for r in got)
            print(
                f"| {variant} | {what} | {len(got)} | "
                f"{statistics.median(got):.2f}× | {min(got):.2f}–{max(got):.2f}× | "
                f"{within} of {len(got)} |"
            )


if __name__ == "__main__":
    main()
