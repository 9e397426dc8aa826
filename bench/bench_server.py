"""Benchmark: `regview serve` next to Debian's `docker-registry`, in the same run.

    .venv/bin/python bench/bench_server.py [--size-mib 200] [--tags 10000] [--seconds 10]
                                           [--rounds 3] [--pulls 5] [--transfer-only]
                                           [--pull-to DIR] [--baseline-src DIR]

Measures skopeo push and pull of one image of --size-mib, manifest PUTs per second (a minimal
asyncio HTTP/1.1 client creating --tags tags), and manifest GET and HEAD requests per second over
those tags with wrk (a Lua script walking the tag list). Each round starts both servers afresh and
keeps both running: one push to each, then --pulls pulls from each, interleaved (d r r d d r …) so
that both see the same moments of a shared machine's load; a round's pull figure is the median
of its pulls. skopeo writes the pulled image under --pull-to, a tmpfs by default: on this
shared machine the client's disk writeback otherwise moves single pulls by tens of percent (see
results-server.md). Every skopeo run gets an empty blob-info cache of its own (a tmpfs over
/var/lib/containers/cache in a private mount namespace when run as root, a fresh XDG_DATA_HOME
otherwise): the shared BoltDB cache is written and fsynced for every blob, so one run waited on
another's disk flushes and a server could be pulled with a cache another had warmed. The table shows the median over the rounds and every round's figure, with the load
average seen during the run; every single pull goes to stderr. Prints a Markdown table.
`--baseline-src` (repeatable) adds a server: `regview serve` from another source tree (the code
before a change, a variant), pushed and pulled in the same interleaving: candidates side by side.

skopeo is bound by its own CPU here (hashing, writing, its runtime), so its pull time says little
about the servers; each pull also reports skopeo's CPU seconds (what the server's way of sending
costs the puller, far less disturbed by the load than its time) and the server's. Two further rows, in the same rotation, come from a minimal client that costs
little: the image's layers fetched one after another on a new connection each, hashed and
discarded in 32 KiB reads as skopeo does (MiB/s, and the client's CPU seconds per pull: the part of
a pull's cost the server's way of sending decides), and --readers such clients at once without
hashing (MiB/s: the servers' own speed).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support_images import build_image  # noqa: E402
from testkit import free_port, v2_status  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ACCEPT = (
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json"
)


BEFORE = "regview-before"  # --baseline-src's server


def wait_up(url: str) -> None:
    for _ in range(200):
        if v2_status(url) is not None:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


# `regview serve` itself, loaded alone: the full CLI imports every sub-command module, and a
# benchmark should not fail because some other sub-command is mid-edit in a shared checkout.
SERVE = (
    "import argparse, sys; from regview.cli import cmd_serve; p = argparse.ArgumentParser(); "
    "cmd_serve.register(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


def start_regview(data: Path, port: int, src: Path = ROOT) -> subprocess.Popen[bytes]:
    """`regview serve` from the source tree `src` (this one, or --baseline-src's)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE,
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
            "--gc-delay",
            "-1",
        ],
        cwd=src,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def start_distribution(data: Path, port: int) -> subprocess.Popen[bytes]:
    config = data.parent / "distribution.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {data}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    return subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: skopeo's blob-info cache for root (containers/image `blobinfocache`): one BoltDB shared by
#: every run, written (and fsynced) for each blob copied
SHARED_CACHE = Path("/var/lib/containers/cache")


def _can_unshare() -> bool:
    """Whether a private mount namespace can put a tmpfs over the shared cache (root, and a
    container that allows `unshare -m`)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = f"mount -t tmpfs regview-bench {SHARED_CACHE}"
    SHARED_CACHE.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["unshare", "-m", "sh", "-c", probe], capture_output=True).returncode == 0


@functools.cache
def cache_mode() -> str:
    """How each skopeo run gets a blob-info cache of its own: so that no run benefits from
    (or waits on the fsync of) another's, and no server gets a cache another server warmed."""
    if os.geteuid() != 0:
        return "fresh XDG_DATA_HOME per run"
    if _can_unshare():
        return "fresh tmpfs over /var/lib/containers/cache per run (unshare -m)"
    return "SHARED /var/lib/containers/cache (could not unshare: figures noisier)"


def skopeo_command(args: list[str], scratch: Path) -> tuple[list[str], dict[str, str]]:
    """skopeo with an empty blob-info cache of its own under `scratch` (or as `cache_mode` says)."""
    env = dict(os.environ)
    mode = cache_mode()
    if mode.startswith("fresh XDG"):  # rootless skopeo keeps it in $XDG_DATA_HOME/containers
        env["XDG_DATA_HOME"] = str(scratch)
        return ["skopeo", *args], env
    if mode.startswith("fresh tmpfs"):
        script = f'mount -t tmpfs regview-bench {SHARED_CACHE} && exec skopeo "$@"'
        return ["unshare", "-m", "sh", "-c", script, "sh", *args], env
    return ["skopeo", *args], env


def skopeo_time(args: list[str]) -> tuple[float, float]:
    """One skopeo run: (seconds, its CPU seconds — with the few milliseconds of the `unshare`
    and `mount` around it, the same for every server)."""
    with tempfile.TemporaryDirectory(prefix="regview-bench-cache-") as scratch:
        command, env = skopeo_command(args, Path(scratch))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        seconds = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return seconds, cpu


async def _put_worker(host: str, port: int, paths: list[str], body: bytes) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"Host: {host}:{port}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    for path in paths:
        writer.write(f"PUT {path} HTTP/1.1\r\n".encode() + head + body)
        await writer.drain()
        status = await reader.readline()
        if b" 201 " not in status:
            raise RuntimeError(f"PUT {path}: {status!r}")
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
    writer.close()


async def _head_worker(port: int, paths: list[str], deadline: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    while time.perf_counter() < deadline:
        path = paths[done % len(paths)]
        writer.write(
            f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {ACCEPT}\r\n\r\n".encode()
        )
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"HEAD {path}: {status!r}")
        while await reader.readline() not in (b"\r\n", b""):
            pass
        done += 1
    writer.close()
    return done


async def head_rps(
    port: int, repo: str, count: int, seconds: float, connections: int = 16
) -> float:
    """HEAD with a minimal asyncio client (wrk's parser waits for a body after HEAD)."""
    paths = [f"/v2/{repo}/manifests/t{i}" for i in range(count)]
    start = time.perf_counter()
    deadline = start + seconds
    counts = await asyncio.gather(
        *(_head_worker(port, paths[i::connections], deadline) for i in range(connections))
    )
    return sum(counts) / (time.perf_counter() - start)


async def put_tags(port: int, repo: str, body: bytes, count: int, connections: int = 8) -> float:
    paths = [f"/v2/{repo}/manifests/t{i}" for i in range(count)]
    t = time.perf_counter()
    await asyncio.gather(
        *(_put_worker("127.0.0.1", port, paths[i::connections], body) for i in range(connections))
    )
    return count / (time.perf_counter() - t)


def push_blob(url: str, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    req = urllib.request.Request(f"{url}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
    with urllib.request.urlopen(req) as r:
        location = r.headers["Location"]
    if location.startswith("/"):
        location = url + location
    sep = "&" if "?" in location else "?"
    req = urllib.request.Request(
        f"{location}{sep}digest={digest}",
        method="PUT",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    urllib.request.urlopen(req).close()
    return digest


def wrk_rps(url: str, repo: str, count: int, method: str, seconds: int, workdir: Path) -> float:
    script = workdir / f"walk-{method}.lua"
    script.write_text(
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        f'  return wrk.format("{method}", "/v2/{repo}/manifests/t" .. (i % {count}), '
        f'{{["Accept"] = "{ACCEPT}"}})\n'
        "end\n"
    )
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} failed responses against {url}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert m, out
    return float(m.group(1))


def push(url: str, layout_ref: str, size: int, pid: int) -> dict[str, float]:
    host = url.split("://")[1]
    c0 = cpu_seconds(pid)
    seconds, _ = skopeo_time(
        ["copy", "--dest-tls-verify=false", layout_ref, f"docker://{host}/bench/big:v1"]
    )
    # server CPU seconds (lower is better): less disturbed by a busy machine than MiB/s
    return {"push MiB/s": size / 2**20 / seconds, "push: server CPU s": cpu_seconds(pid) - c0}


def pull(url: str, size: int, pid: int, into: Path) -> tuple[float, float, float]:
    """One skopeo pull to a fresh `dir:` under `into`: (MiB/s, the server's CPU seconds,
    skopeo's CPU seconds)."""
    host = url.split("://")[1]
    pulled = Path(tempfile.mkdtemp(prefix="regview-bench-pull-", dir=into))
    c0 = cpu_seconds(pid)
    seconds, client_cpu = skopeo_time(
        ["copy", "--src-tls-verify=false", f"docker://{host}/bench/big:v1", f"dir:{pulled}/img"]
    )
    cpu = cpu_seconds(pid) - c0
    shutil.rmtree(pulled)
    return size / 2**20 / seconds, cpu, client_cpu


def rotation(names: list[str], i: int, first: int) -> list[str]:
    """The servers' order for the i-th pull of a round that starts with server `first`: every
    server takes every place in turn (first, middle, last; forwards and backwards): with three
    servers a fixed d r b / b r d left one always in the middle, between two other servers'
    pulls, and the others pulling twice in a row."""
    k = (i + first) % len(names)
    order = names[k:] + names[:k]
    if (i // len(names)) % 2 == 1:
        order.reverse()
    return order


def layer_digests(url: str) -> list[str]:
    req = urllib.request.Request(
        f"{url}/v2/bench/big/manifests/v1", headers={"Accept": OCI_MANIFEST}
    )
    with urllib.request.urlopen(req) as r:
        return [layer["digest"] for layer in json.load(r)["layers"]]


def fetch_blob(port: int, digest: str, verify: bool) -> int:
    """GET one blob on a new connection (as skopeo does), read to the end in 32 KiB pieces,
    hashed and checked when `verify`; returns the body's length."""
    buf = bytearray(32 * 1024)
    view = memoryview(buf)
    h = hashlib.sha256()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"GET /v2/bench/big/blobs/{digest} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            n = sock.recv_into(buf)
            if not n:
                raise RuntimeError(f"GET {digest}: closed before the headers")
            head += bytes(view[:n])
        head, _, body = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"GET {digest}: {head[:40]!r}")
        h.update(body)
        length = len(body)
        while n := sock.recv_into(buf):
            length += n
            if verify:
                h.update(view[:n])
    if verify and "sha256:" + h.hexdigest() != digest:
        raise RuntimeError(f"GET {digest}: the body does not match its digest")
    return length


def thread_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def minimal_pull(port: int, digests: list[str]) -> tuple[float, float]:
    """The layers one after another, hashed: (seconds, this client's CPU seconds)."""
    c0, t = thread_cpu(), time.perf_counter()
    for digest in digests:
        fetch_blob(port, digest, verify=True)
    return time.perf_counter() - t, thread_cpu() - c0


def concurrent_pulls(port: int, digests: list[str], readers: int) -> float:
    """`readers` clients at once, each fetching every layer (not hashed): bytes per second."""
    t = time.perf_counter()
    with ThreadPoolExecutor(readers) as pool:
        got = sum(
            pool.map(lambda i: sum(fetch_blob(port, d, False) for d in digests), range(readers))
        )
    return got / (time.perf_counter() - t)


def interleaved_minimal(
    servers: dict[str, tuple[str, int]], size: int, pulls: int, readers: int, first: int
) -> dict[str, dict[str, float]]:
    """The minimal client's rows, in the same rotation as the skopeo pulls: medians of the
    round, and the sequential pulls' MiB/s also paired with docker-registry's next to them."""
    names = list(servers)
    ports = {n: int(servers[n][0].rsplit(":", 1)[1]) for n in names}
    digests = layer_digests(servers[names[0]][0])
    rows: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    for i in range(pulls):
        order = rotation(names, i, first)
        for name in order:
            seconds, cpu = minimal_pull(ports[name], digests)
            rows[name].setdefault(MINIMAL, []).append(size / 2**20 / seconds)
            rows[name].setdefault(MINIMAL_CPU, []).append(cpu)
        for name in order:
            mib_s = concurrent_pulls(ports[name], digests, readers) / 2**20
            rows[name].setdefault(CONCURRENT, []).append(mib_s)
    ds = rows.get("docker-registry", {}).get(MINIMAL)
    return {
        n: {m: statistics.median(v) for m, v in rows[n].items()}
        | (
            {
                MINIMAL_PAIRED: statistics.median(
                    v / d for v, d in zip(rows[n][MINIMAL], ds, strict=True)
                )
            }
            if ds
            else {}
        )
        for n in names
    }


#: the minimal client's rows (see the module's docstring)
MINIMAL = "layers, minimal client MiB/s"
MINIMAL_PAIRED = "layers, minimal client, ratio to docker-registry, paired"
MINIMAL_CPU = "layers, minimal client: client CPU s per pull"
CONCURRENT = "layers, concurrent minimal clients MiB/s"


def interleaved_pulls(
    servers: dict[str, tuple[str, int]], size: int, pulls: int, into: Path, first: int
) -> dict[str, dict[str, float]]:
    """`pulls` pulls from each server, the order rotated and reversed between pulls: the round's
    median MiB/s and median server CPU per pull, for each server, and the median of its pulls'
    ratios to the docker-registry pull made next to each (`PAIRED`: drifts of the machine's
    load within a round cancel out of those)."""
    names = list(servers)
    speeds: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    client_cpus: dict[str, list[float]] = {n: [] for n in names}
    for i in range(pulls):
        for name in rotation(names, i, first):
            url, pid = servers[name]
            speed, cpu, client_cpu = pull(url, size, pid, into)
            speeds[name].append(speed)
            cpus[name].append(cpu)
            client_cpus[name].append(client_cpu)
    for name in names:
        each = ", ".join(f"{v:.0f}" for v in speeds[name])
        print(f"  {name} pulls MiB/s: {each}", file=sys.stderr, flush=True)
    ds = speeds.get("docker-registry")
    return {
        n: {
            "pull MiB/s": statistics.median(speeds[n]),
            "pull: server CPU s": statistics.median(cpus[n]),
            "pull: skopeo CPU s": statistics.median(client_cpus[n]),
        }
        | (
            {PAIRED: statistics.median(v / d for v, d in zip(speeds[n], ds, strict=True))}
            if ds
            else {}
        )
        for n in names
    }


#: a round's median over its pulls of (this server's pull MiB/s / the adjacent docker-registry
#: pull's)
PAIRED = "pull ratio to docker-registry, paired"


def request_rates(url: str, port: int, tags: int, seconds: int, work: Path) -> dict[str, float]:
    res: dict[str, float] = {}
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer = os.urandom(512)
    cd, ld = push_blob(url, "bench/small", config), push_blob(url, "bench/small", layer)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": cd,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": ld,
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    res["manifest PUT/s"] = asyncio.run(put_tags(port, "bench/small", manifest, tags))
    res["manifest GET/s"] = wrk_rps(url, "bench/small", tags, "GET", seconds, work)
    res["manifest HEAD/s"] = asyncio.run(head_rps(port, "bench/small", tags, seconds))
    return res


def print_rounds(
    results: dict[str, dict[str, list[float]]], round_loads: list[tuple[float, float]]
) -> None:
    """Each round's pull figures and ratios to docker-registry, with the load before and after
    it: the spread the medians hide ("every round" targets are read here)."""
    names = [n for n in results if n != "docker-registry"]
    print(
        "\n| round | load before → after | docker-registry MiB/s |"
        + "".join(f" {n} MiB/s | ratio of medians | paired ratio |" for n in names)
        + "".join(f" {n}, minimal client paired |" for n in names if MINIMAL_PAIRED in results[n])
    )
    print(
        "|---|---|---|"
        + "---|---|---|" * len(names)
        + "---|" * sum(MINIMAL_PAIRED in results[n] for n in names)
    )
    ds = results["docker-registry"]["pull MiB/s"]
    for i, (d, (before, after)) in enumerate(zip(ds, round_loads, strict=True)):
        line = f"| {i + 1} | {before:.1f} → {after:.1f} | {d:.0f} |"
        for n in names:
            v = results[n]["pull MiB/s"][i]
            line += f" {v:.0f} | {v / d:.2f}× | {results[n][PAIRED][i]:.2f}× |"
        for n in names:
            if MINIMAL_PAIRED in results[n]:
                line += f" {results[n][MINIMAL_PAIRED][i]:.2f}× |"
        print(line)
    for n in names:
        ratios = [v / d for v, d in zip(results[n]["pull MiB/s"], ds, strict=True)]
        paired = results[n][PAIRED]
        print(
            f"\n{n} pull / docker-registry per round: ratio of medians {min(ratios):.2f}× to "
            f"{max(ratios):.2f}× ({sum(r >= 1 for r in ratios)} of {len(ratios)} rounds ≥ 1), "
            f"paired {min(paired):.2f}× to {max(paired):.2f}× "
            f"({sum(r >= 1 for r in paired)} of {len(paired)} rounds ≥ 1)"
        )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--size-mib", type=int, default=200)
    p.add_argument("--tags", type=int, default=10000)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pulls", type=int, default=5, help="pulls from each server per round")
    p.add_argument(
        "--readers",
        type=int,
        default=4,
        help="clients at once in the minimal client's concurrent row (0: skip the minimal "
        "client's rows)",
    )
    p.add_argument(
        "--transfer-only",
        action="store_true",
        help="measure only the skopeo push and pulls (skip the manifest request rates)",
    )
    p.add_argument(
        "--pull-to",
        type=Path,
        default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
        help="where skopeo writes the pulled image (default /dev/shm, a tmpfs: the pull then "
        "measures the registry, not the client's disk writeback; give a disk folder to include "
        "it)",
    )
    p.add_argument(
        "--baseline-src",
        type=Path,
        action="append",
        default=[],
        help="also run `regview serve` from this source tree (an older commit, e.g. made with "
        "`git archive`) as a further server, pulled in the same interleaving; repeatable",
    )
    args = p.parse_args()
    tools = ("skopeo", "docker-registry") + (() if args.transfer_only else ("wrk",))
    for tool in tools:
        if shutil.which(tool) is None:
            print(f"{tool} is needed", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="regview-bench-"))
    try:
        per_layer = args.size_mib * 2**20 // 4
        layout = build_image(work / "image", layer_sizes=[per_layer] * 4, seed=7)
        size = layout.blob_bytes()
        results: dict[str, dict[str, list[float]]] = {}
        loads: list[float] = [os.getloadavg()[0]]
        starters: dict[str, Callable[[Path, int], subprocess.Popen[bytes]]] = {
            "docker-registry": start_distribution,
            "regview": start_regview,
        }
        for i, src in enumerate(args.baseline_src):
            starters[f"{BEFORE}{i or ''}"] = functools.partial(start_regview, src=src.resolve())
        round_loads: list[tuple[float, float]] = []
        for rnd in range(args.rounds):
            load_before = os.getloadavg()[0]
            procs: dict[str, subprocess.Popen[bytes]] = {}
            servers: dict[str, tuple[str, int]] = {}
            got: dict[str, dict[str, float]] = {name: {} for name in starters}
            try:
                for name, starter in starters.items():
                    port = free_port()
                    data = work / f"data-{name}-{rnd}"
                    data.mkdir()
                    procs[name] = starter(data, port)
                    servers[name] = (f"http://127.0.0.1:{port}", port)
                for url, _ in servers.values():
                    wait_up(url)
                pids = {name: (servers[name][0], procs[name].pid) for name in servers}
                for name in sorted(pids, reverse=rnd % 2 == 1):
                    url, pid = pids[name]
                    got[name].update(push(url, layout.oci_ref, size, pid))
                for name, figures in interleaved_pulls(
                    pids, size, args.pulls, args.pull_to or work, first=rnd
                ).items():
                    got[name].update(figures)
                if args.readers:
                    for name, figures in interleaved_minimal(
                        pids, size, args.pulls, args.readers, first=rnd
                    ).items():
                        got[name].update(figures)
                if not args.transfer_only:
                    for name, (url, port) in servers.items():
                        got[name].update(request_rates(url, port, args.tags, args.seconds, work))
            finally:
                for proc in procs.values():
                    proc.terminate()
                    proc.wait(10)
                for name in starters:
                    shutil.rmtree(work / f"data-{name}-{rnd}", ignore_errors=True)
            for name, figures in got.items():
                for metric, value in figures.items():
                    results.setdefault(name, {}).setdefault(metric, []).append(value)
            loads.append(os.getloadavg()[0])
            round_loads.append((load_before, loads[-1]))
            print(f"round {rnd + 1}: {results}", file=sys.stderr, flush=True)
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in subprocess.run(
                    ["lscpu"], capture_output=True, text=True
                ).stdout.splitlines()
                if line.startswith("Model name")
            ),
            platform.processor(),
        )
        print(
            f"Machine: {os.cpu_count()} cores, {model}; Python {platform.python_version()}; "
            f"image {size / 2**20:.0f} MiB in 4 layers; {args.tags} tags; wrk -t2 -c16 "
            f"-d{args.seconds}s; {args.rounds} rounds of {args.pulls} interleaved pulls per "
            f"server into {args.pull_to or work} (a round's pull figure is their median); "
            f"skopeo's blob-info cache: {cache_mode()}; 1-minute load average during the run "
            f"{min(loads):.1f} to {max(loads):.1f}\n"
        )
        befores = [name for name in results if name.startswith(BEFORE)]
        print(
            "| metric | docker-registry (median) | regview (median) | ratio | rounds (d / r) |"
            + "".join(f" {b} (median) | ratio | rounds (d / b) |" for b in befores)
        )
        print("|---|---|---|---|---|" + "---|---|---|" * len(befores))
        for metric in results["regview"]:
            ds, rs = results["docker-registry"][metric], results["regview"][metric]
            d, r = statistics.median(ds), statistics.median(rs)
            fmt = ",.2f" if "CPU" in metric or "paired" in metric else ",.0f"
            each = ", ".join(f"{a:{fmt}}/{b:{fmt}}" for a, b in zip(ds, rs, strict=True))
            line = f"| {metric} | {d:{fmt}} | {r:{fmt}} | {r / d:.2f}× | {each} |"
            for name in befores:
                bs = results[name][metric]
                b = statistics.median(bs)
                each = ", ".join(f"{a:{fmt}}/{c:{fmt}}" for a, c in zip(ds, bs, strict=True))
                line += f" {b:{fmt}} | {b / d:.2f}× | {each} |"
            print(line)
        print_rounds(results, round_loads)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
