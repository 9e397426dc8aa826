"""Safe deletion against real registries over loopback sockets: the embedded registry (tag
delete) and Debian's docker-registry 2.8 (no tag delete: the throw-away-manifest path), with
images pushed by skopeo. Plan → execute → every other tag unchanged → restore → CLI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from distribution import run_distribution
from support_images import build_image, build_index, push_layout
from testkit import require_tool

from regview.cli.main import run as cli_main
from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import DeleteSupport, Method, PlanOptions, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal, restore
from regview.core.model import Endpoint
from regview.spec import mediatypes as mt


async def cli(argv: list[str]) -> int:
    """The real CLI, in a thread (it runs its own event loop)."""
    return await asyncio.to_thread(cli_main, argv)


pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]
REPO = "team/app"


@pytest.fixture(params=["embedded", "distribution"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "embedded":
        from regview.server.runner import LocalRegistry

        with LocalRegistry(tmp_path / "local") as reg:
            yield reg.url
    else:
        require_tool("docker-registry")
        with run_distribution(tmp_path / "dist") as reg:
            yield reg.url


@pytest.fixture
async def seeded(
    registry_url: str, tmp_path: Path
) -> AsyncIterator[tuple[RegistryClient, dict[str, str]]]:
    host = registry_url.split("://", 1)[1]
    image = build_image(tmp_path / "img", seed=1)
    index = build_index(tmp_path / "idx", seed=2)
    push_layout(image, f"{host}/{REPO}:base")
    push_layout(index, f"{host}/{REPO}:multi")
    async with RegistryClient(Endpoint(registry_url)) as client:
        base = await client.get_manifest(REPO, "base")
        multi = await client.get_manifest(REPO, "multi")
        body = json.loads(base.data)
        await client.put_manifest(REPO, "multi-copy", multi.data, multi.media_type)
        for i in range(6):
            body["annotations"] = {"n": str(i)}
            data = json.dumps(body).encode()
            await client.put_manifest(REPO, f"v{i}", data, mt.OCI_MANIFEST)
        await client.put_manifest(REPO, "v0-copy", data, mt.OCI_MANIFEST)  # shares v5's digest
        tags = {
            t: (await client.head_manifest(REPO, t)).digest for t in await client.list_tags(REPO)
        }
        yield client, tags


async def test_plan_execute_restore(
    seeded: tuple[RegistryClient, dict[str, str]], registry_url: str
) -> None:
    client, before = seeded
    port = ClientPort(client)
    facts = await gather_facts(port, REPO)
    embedded = "Regview-Registry-Version" in await client.ping()
    # no probe: regview's registry says who it is on /v2/; distribution's deletion setting is
    # for the first deletion to tell
    assert facts.capabilities.manifest_delete is (
        DeleteSupport.ALLOWED if embedded else DeleteSupport.UNKNOWN
    )
    assert facts.capabilities.tag_delete is embedded
    selected = {"multi-copy", "v5", "v1", "v2"}
    plan = make_plan(facts, Selection.of_tags(selected), PlanOptions(delete_manifests=True))
    methods = {a.method for a in plan.tag_actions}
    assert methods == ({Method.TAG_DELETE} if embedded else {Method.THROWAWAY})
    by_tag = {a.tag: a for a in plan.tag_actions}
    assert by_tag["multi-copy"].shared_with == ("multi",)
    assert by_tag["v5"].shared_with == ("v0-copy",)
    journal = Journal()
    report = await Executor(port, journal).run(plan)
    assert report.ok, report.results
    after = {t: (await client.head_manifest(REPO, t)).digest for t in await client.list_tags(REPO)}
    assert set(after) == set(before) - selected
    assert all(after[t] == before[t] for t in after), "a kept tag moved"
    # v1, v2 manifests were deleted by digest; the index and v5's manifest stay (still tagged)
    assert not await port.manifest_exists(REPO, before["v1"])
    assert await port.manifest_exists(REPO, before["multi"])

    results = await restore(journal, report.journal_id, port)
    assert all(r.restored for r in results), results
    restored = {
        t: (await client.head_manifest(REPO, t)).digest for t in await client.list_tags(REPO)
    }
    assert restored == before


async def test_cli_rm_prune_trash(
    seeded: tuple[RegistryClient, dict[str, str]],
    registry_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, before = seeded
    host = registry_url.split("://", 1)[1]
    # not a terminal and no --yes: refuses (exit 5, the CLI's "refused"), deletes nothing
    assert await cli(["rm", f"{host}/{REPO}:v3"]) == 5
    assert "refusing" in capsys.readouterr().err
    assert "v3" in await client.list_tags(REPO)

    # a named tag that does not exist is "not found" (exit 4, as documented); v3 still goes
    assert await cli(["rm", f"{host}/{REPO}:v3", f"{host}/{REPO}:nope", "--yes", "--json"]) == 4
    out = json.loads(capsys.readouterr().out)
    assert out["deleted"] == ["v3"] and out["failed"] == []
    assert [s["tag"] for s in out["skipped"]] == ["nope"]

    args = [
        "prune",
        f"{host}/{REPO}",
        "--delete-regex",
        "v[0-9]",
        "--keep-regex",
        "v0",
        "--dry-run",
        "--json",
    ]
    assert await cli(args) == 0
    preview = json.loads(capsys.readouterr().out)
    assert sorted(d["tag"] for d in preview["delete"]) == ["v1", "v2", "v4", "v5"]
    keep = {d["tag"]: d["reason"] for d in preview["keep"]}
    assert "keep pattern" in keep["v0"] and "does not match" in keep["base"]

    assert await cli(["prune", f"{host}/{REPO}", "--delete-regex", "(?=x)"]) == 2
    assert "lookahead" in capsys.readouterr().err

    assert await cli(["trash", "list", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in entry["items"]] == ["v3"]
    assert await cli(["trash", "restore", entry["id"]]) == 0
    assert "restored: v3" in capsys.readouterr().out
    assert (await client.head_manifest(REPO, "v3")).digest == before["v3"]
