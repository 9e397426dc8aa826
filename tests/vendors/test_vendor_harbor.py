"""Deleting on Harbor through its API v2.0 (issue 17), against the Harbor imitation over real
sockets in front of the embedded registry, every request counted by a proxy in between.

Listing (artifacts with tags, sizes, push times, paged), single and bulk deletes that spare
sibling tags, an immutable tag never offered, refusal without the permission (nothing sent),
the retention policy shown, restore from the recycle bin, and the CLI's rm / prune / trash
restore on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cli_support import Cli
from vendor_seed import seed, tags_now
from vendor_sites import CLEANER, MAINTAINER, READER, Site, harbor_site, open_port
from vendor_sites import HARBOR_REPO as REPO

from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import DeleteSupport, Method, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal, restore
from regview.core.model import Credentials, RegistryKind
from regview.core.vendors import harbor as harbor_module

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with harbor_site(tmp_path) as s:
        yield s


@pytest.fixture
async def cleaner(site: Site) -> AsyncIterator[ClientPort]:
    async with open_port(site, RegistryKind.HARBOR, Credentials(*CLEANER)) as port:
        yield port


async def test_listing_through_the_artifacts_api(
    site: Site, cleaner: ClientPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harbor_module, "PAGE_SIZE", 2)  # several pages with seven artifacts' tags
    mark = site.proxy.mark()
    assert cleaner.vendor is not None
    rows = await cleaner.vendor.list_tags(REPO)
    assert rows is not None
    assert {r.tag: r.digest for r in rows} == site.pushed
    pages = [p for m, p in site.proxy.since(mark) if "/artifacts" in p]
    # five listed artifacts (A, B, C, D and the index; its children are not listed) → 3 pages
    assert len(pages) == 3, pages
    assert all("with_immutable_status=true" in p for p in pages)
    multi = next(r for r in rows if r.tag == "multi")
    assert [p.architecture for p in multi.platforms] == ["amd64", "arm64"]
    assert all(r.created is not None and r.size for r in rows)
    assert all(r.blobs for r in rows), "the blobs the frees figures need come from /v2"
    dev1 = next(r for r in rows if r.tag == "dev-1")
    art = site.vendor.store.repos[REPO].manifests[dev1.digest]
    assert dev1.created is not None and abs(dev1.created.timestamp() - art.pushed) < 1


async def test_single_delete_spares_the_sibling_and_sends_one_delete(
    site: Site, cleaner: ClientPort
) -> None:
    facts = await gather_facts(cleaner, REPO)
    assert facts.capabilities.manifest_delete is DeleteSupport.ALLOWED
    assert facts.capabilities.vendor_api == "Harbor API"
    plan = make_plan(facts, Selection.of_tags(["old"]))
    assert [(a.tag, a.method, a.shared_with) for a in plan.tag_actions] == [
        ("old", Method.VENDOR_API, ("old-copy",))
    ]
    mark = site.proxy.mark()
    report = await Executor(cleaner, Journal()).run(plan)
    assert report.ok, report.results
    b = site.pushed["old"]
    assert site.mutations(mark) == [
        ("DELETE", f"/api/v2.0/projects/team/repositories/app/artifacts/{b}/tags/old")
    ]
    now = tags_now(site.url, MAINTAINER, REPO)
    assert "old" not in now and now["old-copy"] == b
    assert {t: d for t, d in now.items()} == {t: d for t, d in site.pushed.items() if t != "old"}


async def test_bulk_delete_and_restore(site: Site, cleaner: ClientPort) -> None:
    facts = await gather_facts(cleaner, REPO)
    chosen = ["dev-1", "dev-2", "old-copy", "multi"]
    plan = make_plan(facts, Selection.of_tags(chosen))
    assert not plan.refused and plan.refusal == ""
    assert plan.blast.reclaimable_bytes > 0
    mark = site.proxy.mark()
    journal = Journal()
    report = await Executor(cleaner, journal).run(plan)
    assert report.ok, report.results
    deletes = [p for m, p in site.mutations(mark) if m == "DELETE"]
    d1, d2, multi = (site.pushed[t] for t in ("dev-1", "dev-2", "multi"))
    base = "/api/v2.0/projects/team/repositories/app/artifacts"
    # a sole image tag takes its artifact with it (Harbor keeps untagged artifacts otherwise);
    # an index and a tag with a kept sibling lose only the tag (Harbor would delete the index's
    # children, which the plan did not choose); nothing else is deleted, nothing through /v2
    assert sorted(deletes) == sorted(
        [
            f"{base}/{d1}",
            f"{base}/{d2}",
            f"{base}/{multi}/tags/multi",
            f"{base}/{site.pushed['old']}/tags/old-copy",
        ]
    )
    assert not [p for m, p in site.mutations(mark) if m == "PUT"]
    now = tags_now(site.url, MAINTAINER, REPO)
    assert now == {t: d for t, d in site.pushed.items() if t not in chosen}
    stored = site.vendor.store.repos[REPO].manifests
    assert d1 not in stored and d2 not in stored
    assert multi in stored and all(c in stored for c, _ in stored[multi].children)

    results = await restore(journal, report.journal_id, cleaner)
    assert all(r.restored for r in results), results
    assert tags_now(site.url, MAINTAINER, REPO) == site.pushed


async def test_immutable_tag_is_never_offered(site: Site, cleaner: ClientPort) -> None:
    facts = await gather_facts(cleaner, REPO)
    assert set(facts.protected) == {"v1.0"}
    plan = make_plan(facts, Selection.of_tags(["v1.0", "stable"]))
    assert [r.tag for r in plan.refused] == ["v1.0"]
    assert "immutable" in plan.refused[0].reason
    # v1.0 stays, so stable is deleted alone, sparing it
    assert [(a.tag, a.shared_with) for a in plan.tag_actions] == [("stable", ("v1.0",))]
    assert "v1.0" in plan.kept_tags
    assert any("immutable" in w and "v1.*" in w for w in plan.warnings), plan.warnings
    assert any("retention" in w and "10 most recently pushed" in w for w in plan.warnings)
    mark = site.proxy.mark()
    report = await Executor(cleaner, Journal()).run(plan)
    assert report.ok, report.results
    assert site.mutations(mark) == [
        (
            "DELETE",
            f"/api/v2.0/projects/team/repositories/app/artifacts/{site.pushed['stable']}/tags/stable",
        )
    ]
    assert tags_now(site.url, MAINTAINER, REPO)["v1.0"] == site.pushed["v1.0"]
    # the whole repository: every tag but the immutable one
    whole = make_plan(await gather_facts(cleaner, REPO), Selection.repository())
    assert "v1.0" not in {a.tag for a in whole.tag_actions}
    assert [r.tag for r in whole.refused] == ["v1.0"]


async def test_refusal_without_the_permission_sends_nothing(site: Site) -> None:
    async with open_port(site, RegistryKind.HARBOR, Credentials(*READER)) as reader:
        mark = site.proxy.mark()
        facts = await gather_facts(reader, REPO)
        assert facts.capabilities.manifest_delete is DeleteSupport.DENIED
        plan = make_plan(facts, Selection.of_tags(["dev-1"]))
        assert "Tag: Delete" in plan.refusal and "Nothing was deleted" in plan.refusal
        report = await Executor(reader, Journal()).run(plan)
        assert not report.results
        assert site.mutations(mark) == []
    assert tags_now(site.url, MAINTAINER, REPO) == site.pushed


async def test_v2_tag_delete_is_refused_as_harbor_does(site: Site) -> None:
    """The imitation is faithful where regview would go wrong without the API: Harbor answers a
    tag DELETE on /v2 with 400 UNSUPPORTED."""
    from vendor_seed import token_client

    with token_client(site.url, MAINTAINER, REPO, "pull,delete") as http:
        answer = http.delete(f"/v2/{REPO}/manifests/old")
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "UNSUPPORTED"


def test_cli_rm_prune_trash_restore(site: Site, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    host = site.url.split("://", 1)[1]
    user, secret = CLEANER
    login = cli("login", host, "-u", user, "--password-stdin", stdin=secret)
    assert login.code == 0, login.err
    assert secret not in cli.settings_file.read_text()
    assert '"kind": "harbor"' in cli.settings_file.read_text()
    mark = site.proxy.mark()
    listed_tags = cli("tags", f"{host}/{REPO}", "--json")
    assert listed_tags.code == 0, listed_tags.err
    assert {t["tag"]: t["digest"] for t in listed_tags.json()} == site.pushed
    assert all(t["created"] for t in listed_tags.json())  # the API's push time
    assert any("/artifacts" in p for _, p in site.proxy.since(mark)), "listed through the API"
    mark = site.proxy.mark()
    rm = cli("rm", f"{host}/{REPO}:old", "--yes")
    assert rm.code == 0, rm.err
    assert site.mutations(mark) == [
        (
            "DELETE",
            f"/api/v2.0/projects/team/repositories/app/artifacts/{site.pushed['old']}/tags/old",
        )
    ]
    # an immutable tag named to rm: refused in words, nothing sent
    mark = site.proxy.mark()
    refused = cli("rm", f"{host}/{REPO}:v1.0", "--yes")
    assert refused.code == 5 and "immutable" in refused.out + refused.err  # 5: refused
    assert site.mutations(mark) == []
    # prune dev-*: both go, everything else stays
    mark = site.proxy.mark()
    prune = cli("prune", f"{host}/{REPO}", "--delete-regex", "dev-.*", "--yes")
    assert prune.code == 0, prune.err
    assert len([m for m, _ in site.mutations(mark) if m == "DELETE"]) == 2
    now = tags_now(site.url, MAINTAINER, REPO)
    assert set(now) == set(site.pushed) - {"old", "dev-1", "dev-2"}
    listed = cli("trash", "list", "--json")
    assert listed.code == 0, listed.err
    for entry in listed.json():
        restored = cli("trash", "restore", entry["id"])
        assert restored.code == 0, restored.err
    assert tags_now(site.url, MAINTAINER, REPO) == site.pushed


async def test_a_repository_nested_in_the_project(site: Site, cleaner: ClientPort) -> None:
    """Harbor wants the name inside the project encoded twice in API paths (a/b → a%252Fb)."""
    nested = "team/tools/app"
    pushed = seed(site.url, MAINTAINER, nested, {"x1": "A", "x2": "B", "x3": "B"})
    facts = await gather_facts(cleaner, nested)
    assert {t.tag: t.digest for t in facts.tags} == pushed
    plan = make_plan(facts, Selection.of_tags(["x1", "x2"]))
    mark = site.proxy.mark()
    report = await Executor(cleaner, Journal()).run(plan)
    assert report.ok, report.results
    base = "/api/v2.0/projects/team/repositories/tools%252Fapp/artifacts"
    assert sorted(site.mutations(mark)) == [
        ("DELETE", f"{base}/{pushed['x1']}"),
        ("DELETE", f"{base}/{pushed['x2']}/tags/x2"),
    ]
    assert tags_now(site.url, MAINTAINER, nested) == {"x3": pushed["x3"]}


async def test_rate_limited_api_is_waited_for(site: Site, cleaner: ClientPort) -> None:
    assert cleaner.vendor is not None
    site.vendor.throttle.next(1)
    rows = await cleaner.vendor.list_tags(REPO)
    assert rows is not None and {r.tag: r.digest for r in rows} == site.pushed
    assert len(site.vendor.throttle.refused) == 1  # answered 429 once, then asked again
    plan = make_plan(await gather_facts(cleaner, REPO), Selection.of_tags(["dev-1"]))
    site.vendor.throttle.next(1, "DELETE")  # the DELETE is refused once: temporary, sent again
    mark = site.proxy.mark()
    report = await Executor(cleaner, Journal()).run(plan)
    assert report.ok, report.results
    artifact = f"/api/v2.0/projects/team/repositories/app/artifacts/{site.pushed['dev-1']}"
    assert site.mutations(mark) == [("DELETE", artifact), ("DELETE", artifact)]
    assert site.vendor.throttle.refused[-1] == f"DELETE {artifact}"
    assert tags_now(site.url, MAINTAINER, REPO) == {
        t: d for t, d in site.pushed.items() if t != "dev-1"
    }


async def test_delete_manifests_too_removes_the_index_and_its_children(
    site: Site, cleaner: ClientPort
) -> None:
    from regview.core.deletion.plan import PlanOptions

    facts = await gather_facts(cleaner, REPO)
    plan = make_plan(facts, Selection.of_tags(["multi"]), PlanOptions(delete_manifests=True))
    multi = site.pushed["multi"]
    children = [c for c, _ in site.vendor.store.repos[REPO].manifests[multi].children]
    assert {a.digest for a in plan.manifest_actions} >= {multi, *children}
    mark = site.proxy.mark()
    journal = Journal()
    report = await Executor(cleaner, journal).run(plan)
    assert report.ok, report.results
    stored = site.vendor.store.repos[REPO].manifests
    assert multi not in stored and not any(c in stored for c in children)
    base = "/api/v2.0/projects/team/repositories/app/artifacts"
    deletes = [p for m, p in site.mutations(mark) if m == "DELETE"]
    assert all(p.startswith(base) for p in deletes), deletes  # nothing through /v2
    results = await restore(journal, report.journal_id, cleaner)
    assert all(r.restored for r in results), results
    assert tags_now(site.url, MAINTAINER, REPO) == site.pushed


async def test_a_repeated_listing_costs_only_the_api_pages(site: Site, tmp_path: Path) -> None:
    """The API gives every tag's digest; a digest the listing cache has summarised already needs
    no manifest read (content-addressed), so listing again sends only Harbor's pages."""
    creds = Credentials(*CLEANER)
    cache = tmp_path / "cache"
    async with open_port(site, RegistryKind.HARBOR, creds, cache_dir=cache) as port:
        assert port.vendor is not None
        first = await port.vendor.list_tags(REPO)
        mark = site.proxy.mark()
        again = await port.vendor.list_tags(REPO)
        sent = site.proxy.since(mark)
    assert first == again
    assert sent and all("/api/v2.0/" in p and "/artifacts" in p for _, p in sent), sent
    async with open_port(site, RegistryKind.HARBOR, creds, cache_dir=cache) as port:
        assert port.vendor is not None
        mark = site.proxy.mark()
        assert await port.vendor.list_tags(REPO) == first  # a new session: the cache on disk
        assert not [p for _, p in site.proxy.since(mark) if "/manifests/" in p]


async def test_a_tag_pushed_after_the_plan_survives(site: Site, cleaner: ClientPort) -> None:
    """dev-1 was alone on its image when planned; someone tags the same image dev-1-copy before
    the plan runs. Deleting the artifact would take dev-1-copy with it: only dev-1 goes."""
    from vendor_seed import token_client

    plan = make_plan(await gather_facts(cleaner, REPO), Selection.of_tags(["dev-1"]))
    (action,) = plan.tag_actions
    assert action.manifest_untagged and action.manifest_deletable
    digest = site.pushed["dev-1"]
    with token_client(site.url, MAINTAINER, REPO) as http:
        body = http.get(
            f"/v2/{REPO}/manifests/{digest}",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        ).content
        put = http.put(
            f"/v2/{REPO}/manifests/dev-1-copy",
            content=body,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        )
        assert put.status_code == 201
    mark = site.proxy.mark()
    report = await Executor(cleaner, Journal()).run(plan)
    assert report.ok, report.results
    base = "/api/v2.0/projects/team/repositories/app/artifacts"
    assert site.mutations(mark) == [("DELETE", f"{base}/{digest}/tags/dev-1")]
    now = tags_now(site.url, MAINTAINER, REPO)
    assert now["dev-1-copy"] == digest and "dev-1" not in now


def test_cli_rm_with_a_robot_that_may_not_delete(site: Site, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    host = site.url.split("://", 1)[1]
    login = cli("login", host, "-u", READER[0], "--password-stdin", stdin=READER[1])
    assert login.code == 0, login.err
    mark = site.proxy.mark()
    rm = cli("rm", f"{host}/{REPO}:dev-1", "--yes")
    assert rm.code == 3, rm.err  # 3: authentication/permission, as documented
    assert "Tag: Delete" in rm.err and "Nothing was deleted" in rm.err
    assert site.mutations(mark) == []
    assert tags_now(site.url, MAINTAINER, REPO) == site.pushed
