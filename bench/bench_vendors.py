"""Listing Docker Hub tags through the Hub API against listing them through `/v2`, same run.

    .venv/bin/python bench/bench_vendors.py [--tags 1000]

Both sides list the same repository through the Docker Hub imitation of the test suite
(`tests/vendors/hub_imitation.py`, regview's embedded registry underneath), counted by the
imitation itself:
- `hub-api`: `inventory.load_tags` on a Docker Hub profile — the Hub API, 100 tags a page;
- `v2`: the same call on a profile of no particular kind — the tag list, then a manifest request
  per digest (a GET per new digest counts against Docker Hub's pull limit; regview already asks
  HEAD where it can, `client.counts_pulls`), the config of each image.

What matters is requests and, above all, manifest GETs (pulls). Wall times are printed but say
little: the imitation builds each API page from the registry underneath (two or three requests
per tag), which the real Docker Hub does not.
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
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "vendors"), str(ROOT)]

from hub_imitation import HubImitation  # noqa: E402
from imitation import Token, serve_asgi  # noqa: E402
from tiny_images import seed_tiny_tags  # noqa: E402

from regview.core.client.client import RegistryClient  # noqa: E402
from regview.core.inventory import load_tags  # noqa: E402
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind  # noqa: E402
from regview.server.runner import LocalRegistry  # noqa: E402

REPO = "alice/app"


async def seed(url: str, n: int) -> None:
    async with RegistryClient(Endpoint(url)) as client:
        await seed_tiny_tags(client, REPO, n)


async def side(url: str, kind: RegistryKind, front: HubImitation) -> tuple[int, int, int, float]:
    creds = Credentials("alice", "pat", CredentialKind.PASSWORD)
    mark = front.mark()
    started = time.perf_counter()
    async with RegistryClient(Endpoint(url, kind=kind, vendor_api=url), creds) as client:
        rows = await load_tags(client, REPO)
    took = time.perf_counter() - started
    seen = front.since(mark)
    gets = sum(1 for m, p in seen if m == "GET" and "/manifests/" in p)
    return len(rows), len(seen), gets, took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalRegistry(Path(tmp) / "data") as reg:
        asyncio.run(seed(reg.url, args.tags))
        front = HubImitation(reg.url, {"pat": Token("alice", ("repo:admin",))})
        with serve_asgi(front.app()) as url:
            os.environ.setdefault("REGVIEW_BASEDIR", str(Path(tmp) / "base"))
            print(f"{args.tags} tags, load average {os.getloadavg()[0]:.1f}")
            print("| side | tags | requests | manifest GETs (pulls) | seconds |")
            print("|---|---|---|---|---|")
            for name, kind in (("hub-api", RegistryKind.DOCKER_HUB), ("v2", RegistryKind.GENERIC)):
                n, requests, gets, took = asyncio.run(side(url, kind, front))
                print(f"| {name} | {n} | {requests} | {gets} | {took:.1f} |")


if __name__ == "__main__":
    main()
