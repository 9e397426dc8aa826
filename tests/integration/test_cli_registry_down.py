"""`regview rm` against a registry that stops answering mid-run (the executor is the app's):
it stops sending after a few requests in a row got no answer, says so and how to finish, exits
with an error, and its JSON report accounts for every tag — true to what the registry holds."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from cli_support import Cli
from fault_servers import serve
from test_cli_delete_policy import slow_deletes, tags_of
from tiny_images import seed_tiny_tags

from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration]


def test_rm_stops_when_the_registry_stops_answering(tmp_path: Path) -> None:
    names = [f"t{i:04d}" for i in range(60)]
    with LocalRegistry(tmp_path / "plain") as plain:

        async def seed() -> None:
            async with RegistryClient(Endpoint(plain.url)) as client:
                await seed_tiny_tags(client, "team/app", len(names) + 2)

        def listed() -> set[str]:
            return asyncio.run(tags_of(plain.url, "team/app"))

        asyncio.run(seed())
        cli = Cli(tmp_path)
        with serve(lambda: slow_deletes(plain.url, 0.3)) as proxy:
            host = proxy.split("://", 1)[1]
            images = [f"{host}/team/app:{t}" for t in names]
            proc = cli.spawn("rm", *images, "--yes", "--json")
            deadline = time.monotonic() + 60
            while len(listed()) > len(names) + 2 - 4:  # a few went: the proxy is the registry
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no tag went"
                time.sleep(0.05)
        # the proxy is gone: connections to it are refused from now on
        stopped_at = time.monotonic()
        try:
            out, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        took = time.monotonic() - stopped_at
        left = listed()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    assert "the registry stopped answering" in err and "regview trash resume" in err, err
    report = json.loads(out)
    tags = {t["name"]: t for t in report["tags"]}
    assert sorted(tags) == names  # every tag asked for, accounted for
    waiting = {n for n, t in tags.items() if t["outcome"] == "not-started"}
    assert len(waiting) >= len(names) // 2, {n: t["outcome"] for n, t in tags.items()}
    assert all("the registry stopped answering" in tags[n]["reason"] for n in waiting)
    # true to the registry: gone is gone, not started is still there; nothing else touched
    assert {n for n, t in tags.items() if t["gone"]}.isdisjoint(left)
    assert waiting <= left
    assert {f"t{i:04d}" for i in range(len(names), len(names) + 2)} <= left
    assert report["verified"] is False
    assert took < 45, took
