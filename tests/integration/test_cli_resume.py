"""Issue 16 through the command line, against the embedded registry over sockets:

- `rm --json` behind a proxy that answers 503 to some DELETEs: exit 1, each tag with its status
  and evidence, totals; what is reported not deleted is still there;
- `rm --resume JOURNAL` then finishes only what is left (exit 0, `verified: true`);
- `trash resume ID` finishes a run a SIGKILL stopped; `trash list` points at it meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Cli
from fault_servers import refusing_proxy, serve
from kill_support import kill_after
from tiny_images import seed_tiny_tags, snapshot

from regview.core.client.client import RegistryClient
from regview.core.journal.journal import Journal
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration]
REPO = "team/app"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "reg") as reg:
        yield reg


async def test_rm_json_tells_the_truth_then_resume_finishes(
    registry: LocalRegistry, tmp_path: Path
) -> None:
    async with RegistryClient(Endpoint(registry.url)) as client:
        await seed_tiny_tags(client, REPO, 6)
        before = await snapshot(client, REPO)
    cli = Cli(tmp_path)
    refused = {"t0001", "t0003"}
    asked = [f"t{i:04d}" for i in range(4)]
    with serve(lambda: refusing_proxy(registry.url, refused)) as url:
        host = url.split("://", 1)[1]
        r = await asyncio.to_thread(
            cli, "rm", *(f"{host}/{REPO}:{t}" for t in asked), "--yes", "--json"
        )
        assert r.code == 1, r.err
        doc = r.json()
        assert doc["verified"] is False
        by = {t["name"]: t for t in doc["tags"]}
        for t in refused:
            assert by[t]["status"] == "not-deleted" and "the planned digest" in by[t]["evidence"]
        for t in set(asked) - refused:
            assert by[t]["status"] == "deleted" and by[t]["gone"]
        assert doc["totals"]["asked"] == 4 and doc["totals"]["not_deleted"] == 2
        assert doc["totals"]["gone"] == 2
        async with RegistryClient(Endpoint(registry.url)) as client:
            now = await snapshot(client, REPO)
        assert all(now[t] == before[t] for t in refused)  # not deleted means unchanged
        (journal_id,) = doc["journals"]
        journal_file = Journal().journal_dir / f"{journal_id}.json"
        refused.clear()  # the registry answers again
        r = await asyncio.to_thread(cli, "rm", "--resume", str(journal_file), "--yes", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["verified"] is True and doc["resumed"] == journal_id
    by = {t["name"]: t for t in doc["tags"]}
    assert {t for t, x in by.items() if x["reason"].startswith("done in the earlier run")} == {
        "t0000",
        "t0002",
    }
    async with RegistryClient(Endpoint(registry.url)) as client:
        assert set(await client.list_tags(REPO)) == {"t0004", "t0005"}
    # nothing left: a second resume says so and changes nothing
    r = await asyncio.to_thread(cli, "trash", "resume", journal_id, "--yes")
    assert r.code == 0 and "nothing is left" in r.err, r.err


async def test_trash_resume_finishes_a_killed_run(registry: LocalRegistry, tmp_path: Path) -> None:
    async with RegistryClient(Endpoint(registry.url)) as client:
        await seed_tiny_tags(client, REPO, 40)
    await asyncio.to_thread(kill_after, registry.url, REPO, None, 7)
    (entry,) = Journal().pending()
    cli = Cli(tmp_path)
    r = await asyncio.to_thread(cli, "trash", "list")
    assert f"regview trash resume {entry.id}" in r.out, r.out
    r = await asyncio.to_thread(cli, "trash", "resume", entry.id[:15])  # no terminal, no --yes
    assert r.code == 5 and "nothing was changed" in r.err
    r = await asyncio.to_thread(cli, "trash", "resume", entry.id, "--yes", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["verified"] and doc["totals"]["asked"] == 40 and doc["totals"]["gone"] == 40
    async with RegistryClient(Endpoint(registry.url)) as client:
        assert await client.list_tags(REPO) == []
    done = Journal().load(entry.id)
    assert done.status == "finished" and not done.unfinished()


async def test_gitlab_rm_through_the_api_tells_the_truth_then_resume_finishes(
    tmp_path: Path,
) -> None:
    """The same on GitLab, where tags are deleted through its REST API (issue 16's CLI path that
    had no test): 503s on some tag DELETEs → exit 1, those tags unchanged; `rm --resume` after
    the API heals finishes only them."""
    from datetime import UTC, datetime, timedelta

    from gitlab_delete_support import seed_tags

    from regview.core.model import CredentialKind, Credentials

    with LocalRegistry(tmp_path / "gitlab", demo=True, auth="token") as reg:
        assert reg.demo_credentials is not None
        user, token = reg.demo_credentials
        creds = Credentials(user, token, CredentialKind.PERSONAL)
        repo = "oss/tools/web"
        day = datetime.now(UTC) - timedelta(days=1)
        async with RegistryClient(Endpoint(reg.url), creds) as client:
            digests = await seed_tags(
                client, repo, {f"v{i}": day - timedelta(hours=i) for i in range(5)}
            )
        refused = {"v1", "v3"}
        asked = ["v0", "v1", "v2", "v3"]
        cli = Cli(tmp_path)
        with serve(lambda: refusing_proxy(reg.url, refused)) as url:
            host = url.split("://", 1)[1]
            r = await asyncio.to_thread(
                cli,
                "login",
                host,
                "-u",
                user,
                "--password-stdin",
                "--api",
                f"{url}/api/v4",
                stdin=token,
            )
            assert r.code == 0, r.err
            r = await asyncio.to_thread(
                cli, "rm", *(f"{host}/{repo}:{t}" for t in asked), "--yes", "--json"
            )
            assert r.code == 1, r.err
            doc = r.json()
            assert doc["verified"] is False, doc
            by = {t["name"]: t for t in doc["tags"]}
            # the proxy refuses DELETEs ending in a tag name: GitLab's API tag delete. A /v2
            # delete (by digest) would have got through and these would read "deleted".
            assert {t for t, x in by.items() if x["status"] == "not-deleted"} == refused
            assert {t for t, x in by.items() if x["status"] == "deleted"} == {"v0", "v2"}
            async with RegistryClient(Endpoint(reg.url), creds) as client:
                left = set(await client.list_tags(repo))
                assert left == {"v1", "v3", "v4"}
                for t in refused:  # not deleted means unchanged
                    assert (await client.head_manifest(repo, t)).digest == digests[t]
            (journal_id,) = doc["journals"]
            journal_file = Journal().journal_dir / f"{journal_id}.json"
            refused.clear()  # the API answers again
            r = await asyncio.to_thread(cli, "rm", "--resume", str(journal_file), "--yes", "--json")
        assert r.code == 0, r.err
        doc = r.json()
        assert doc["verified"] is True and doc["resumed"] == journal_id
        by = {t["name"]: t for t in doc["tags"]}
        earlier = {t for t, x in by.items() if x["reason"].startswith("done in the earlier run")}
        assert earlier == {"v0", "v2"}
        async with RegistryClient(Endpoint(reg.url), creds) as client:
            assert set(await client.list_tags(repo)) == {"v4"}
