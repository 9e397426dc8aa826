"""Listing a Harbor repository through Harbor's API against listing it through `/v2`, same run.

    .venv/bin/python bench/bench_harbor.py [--tags 1000]

Every side lists the same repository of the Harbor imitation of the test suite
(`tests/vendors/harbor_imitation.py`, regview's embedded registry underneath) with
`inventory.load_tags`, as the window, `regview tags` and the planner do, every request counted
by a proxy in between:
- `v2`: a profile of no particular kind — the tag list, then a manifest GET per tag;
- `harbor-api`: a Harbor profile — the artifact pages (100 a page), then the manifest of each
  digest the listing cache does not know (`vendors.enrich`);
- each again with the listing cache of the first pass (`again`): `/v2` revalidates every tag
  with a conditional GET; the API side needs only its pages (content-addressed summaries).

What matters is requests; seconds are printed but the imitation builds each API page in-process.
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
sys.path[:0] = [
    str(ROOT / "tests"),
    str(ROOT / "tests" / "integration"),
    str(ROOT / "tests" / "vendors"),
    str(ROOT),
]

from counting_proxy import CountingProxy  # noqa: E402
from fault_servers import serve  # noqa: E402
from harbor_imitation import Harbor  # noqa: E402
from imitation import serve_asgi  # noqa: E402
from tiny_images import seed_tiny_tags  # noqa: E402

from regview.core.client.client import RegistryClient  # noqa: E402
from regview.core.inventory import load_tags  # noqa: E402
from regview.core.model import Credentials, Endpoint, RegistryKind  # noqa: E402
from regview.server.runner import LocalRegistry  # noqa: E402

REPO = "team/app"
LOGIN = Credentials("maint", "maint-pw")


async def side(
    url: str, kind: RegistryKind, proxy: CountingProxy, cache: Path
) -> tuple[int, int, int, float]:
    mark = proxy.mark()
    started = time.perf_counter()
    async with RegistryClient(Endpoint(url, kind=kind), LOGIN, cache_dir=cache) as client:
        rows = await load_tags(client, REPO)
    took = time.perf_counter() - started
    seen = proxy.since(mark)
    gets = sum(1 for m, p in seen if m == "GET" and "/manifests/" in p)
    return len(rows), len(seen), gets, took


async def seed(url: str, n: int) -> None:
    async with RegistryClient(Endpoint(url), LOGIN) as client:
        await seed_tiny_tags(client, REPO, n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tags", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalRegistry(Path(tmp) / "data") as reg:
        os.environ.setdefault("REGVIEW_BASEDIR", str(Path(tmp) / "base"))
        harbor = Harbor(reg.url)
        harbor.add_project("team")
        harbor.add_user(LOGIN.username, LOGIN.secret, {"team": "maintainer"})
        with serve_asgi(harbor.app()) as front:
            proxy = CountingProxy(front)
            with serve(proxy.app) as url:
                asyncio.run(seed(url, args.tags))
                print(f"{args.tags} tags, load average {os.getloadavg()[0]:.1f}")
                print("| side | tags | requests | manifest GETs | seconds |")
                print("|---|---|---|---|---|")
                for name, kind in (
                    ("v2", RegistryKind.GENERIC),
                    ("harbor-api", RegistryKind.HARBOR),
                ):
                    cache = Path(tmp) / f"cache-{name}"
                    for label in (name, f"{name} again"):
                        n, requests, gets, took = asyncio.run(side(url, kind, proxy, cache))
                        print(f"| {label} | {n} | {requests} | {gets} | {took:.1f} |")


if __name__ == "__main__":
    main()
