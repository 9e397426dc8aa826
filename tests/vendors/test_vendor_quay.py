"""Deleting on Quay through its API (issue 17), against the Quay imitation over real sockets in
front of the embedded registry, every request counted by a proxy in between.

Listing (tags with digest, size, start time, paged by has_additional), single and bulk deletes
that spare sibling tags, restore from Quay's time machine (and from the local copy once the
window has passed), an immutable tag never offered, refusal when the OAuth token lacks
repo:write (nothing sent), and the CLI's rm / prune / trash restore on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cli_support import Cli
from vendor_seed import tags_now
from vendor_sites import QUAY_REPO as REPO
from vendor_sites import ROBOT, Site, oauth, open_port, quay_site

from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import DeleteSupport, Method, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal, restore
from regview.core.model import Credentials, RegistryKind
from regview.core.vendors import quay as quay_module

pytestmark = pytest.mark.integration
API = "/api/v1/repository/org/app"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with quay_site(tmp_path) as s:
        yield s


@pytest.fixture
async def writer(site: Site) -> AsyncIterator[ClientPort]:
    async with open_port(site, RegistryKind.QUAY, oauth(site, "repo:read", "repo:write")) as port:
        yield port


async def test_listing_through_the_tag_api(
    site: Site, writer: ClientPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quay_module, "PAGE", 3)  # seven tags: three pages
    mark = site.proxy.mark()
    assert writer.vendor is not None
    rows = await writer.vendor.list_tags(REPO)
    assert rows is not None
    assert {r.tag: r.digest for r in rows} == site.pushed
    pages = [p for _, p in site.proxy.since(mark) if p.startswith(f"{API}/tag/")]
    assert len(pages) == 3 and all("onlyActiveTags=true" in p for p in pages), pages
    assert all(r.created is not None and r.size and r.blobs for r in rows)
    multi = next(r for r in rows if r.tag == "multi")
    assert [p.architecture for p in multi.platforms] == ["amd64", "arm64"]


async def test_single_delete_spares_the_sibling(site: Site, writer: ClientPort) -> None:
    facts = await gather_facts(writer, REPO)
    assert facts.capabilities.manifest_delete is DeleteSupport.ALLOWED
    assert any("time machine for 14 days" in n for n in facts.capabilities.vendor_notes)
    plan = make_plan(facts, Selection.of_tags(["old"]))
    assert [(a.tag, a.method, a.shared_with) for a in plan.tag_actions] == [
        ("old", Method.VENDOR_API, ("old-copy",))
    ]
    mark = site.proxy.mark()
    report = await Executor(writer, Journal()).run(plan)
    assert report.ok, report.results
    assert site.mutations(mark) == [("DELETE", f"{API}/tag/old")]
    assert tags_now(site.url, ROBOT, REPO) == {t: d for t, d in site.pushed.items() if t != "old"}


async def test_bulk_delete_then_time_machine_restore(site: Site, writer: ClientPort) -> None:
    chosen = ["dev-1", "dev-2", "old", "old-copy", "multi"]
    plan = make_plan(await gather_facts(writer, REPO), Selection.of_tags(chosen))
    mark = site.proxy.mark()
    journal = Journal()
    report = await Executor(writer, journal).run(plan)
    assert report.ok, report.results
    assert sorted(site.mutations(mark)) == sorted(("DELETE", f"{API}/tag/{t}") for t in chosen)
    assert tags_now(site.url, ROBOT, REPO) == {t: site.pushed[t] for t in ("v1.0", "stable")}

    mark = site.proxy.mark()
    results = await restore(journal, report.journal_id, writer)
    assert all(r.restored for r in results), results
    assert tags_now(site.url, ROBOT, REPO) == site.pushed
    # Quay's own restore put every tag back: no manifest pushed through /v2
    restores = [p for m, p in site.mutations(mark) if m == "POST"]
    assert sorted(restores) == sorted(f"{API}/tag/{t}/restore" for t in chosen)
    assert not [p for m, p in site.mutations(mark) if m == "PUT"]
    assert any("registry's own restore" in r.reason for r in results)
    history = site.vendor.store.repos[REPO].tags
    assert all(history[t].reversion for t in chosen)


async def test_restore_after_the_window_uses_the_local_copy(site: Site, writer: ClientPort) -> None:
    plan = make_plan(await gather_facts(writer, REPO), Selection.of_tags(["dev-1"]))
    journal = Journal()
    report = await Executor(writer, journal).run(plan)
    assert report.ok, report.results
    site.vendor.advance(15 * 86400)  # two weeks and a day: Quay's history forgot dev-1
    mark = site.proxy.mark()
    results = await restore(journal, report.journal_id, writer)
    assert all(r.restored for r in results), results
    assert tags_now(site.url, ROBOT, REPO)["dev-1"] == site.pushed["dev-1"]
    methods = {m for m, _ in site.mutations(mark)}
    assert "PUT" in methods and "POST" not in methods  # the recycle bin's copy, pushed


async def test_immutable_tag_is_never_offered(site: Site, writer: ClientPort) -> None:
    site.vendor.make_immutable(REPO, "v1.0")
    facts = await gather_facts(writer, REPO)
    plan = make_plan(facts, Selection.repository())
    assert [r.tag for r in plan.refused] == ["v1.0"]
    assert "immutable" in plan.refused[0].reason
    mark = site.proxy.mark()
    report = await Executor(writer, Journal()).run(plan)
    assert report.ok, report.results
    assert ("DELETE", f"{API}/tag/v1.0") not in site.mutations(mark)
    assert tags_now(site.url, ROBOT, REPO) == {"v1.0": site.pushed["v1.0"]}


async def test_refusal_without_repo_write_sends_nothing(site: Site) -> None:
    async with open_port(site, RegistryKind.QUAY, oauth(site, "repo:read")) as reader:
        mark = site.proxy.mark()
        facts = await gather_facts(reader, REPO)
        assert facts.capabilities.manifest_delete is DeleteSupport.DENIED
        plan = make_plan(facts, Selection.of_tags(["dev-1"]))
        assert "repo:write" in plan.refusal and "Nothing was deleted" in plan.refusal
        report = await Executor(reader, Journal()).run(plan)
        assert not report.results
        assert site.mutations(mark) == []
    assert tags_now(site.url, ROBOT, REPO) == site.pushed


async def test_a_robot_login_without_an_api_token_is_refused_in_words(site: Site) -> None:
    async with open_port(site, RegistryKind.QUAY, Credentials(*ROBOT)) as robot:
        facts = await gather_facts(robot, REPO)
        plan = make_plan(facts, Selection.of_tags(["dev-1"]))
        assert "OAuth access token" in plan.refusal and "repo:write" in plan.refusal


def test_cli_rm_prune_trash_restore(site: Site, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    host = site.url.split("://", 1)[1]
    token = oauth(site, "repo:read", "repo:write").secret
    login = cli("login", host, "-u", "$oauthtoken", "--password-stdin", stdin=token)
    assert login.code == 0, login.err
    settings = cli.settings_file.read_text()
    assert token not in settings and '"kind": "quay"' in settings
    mark = site.proxy.mark()
    listed_tags = cli("tags", f"{host}/{REPO}", "--json")
    assert listed_tags.code == 0, listed_tags.err
    assert {t["tag"]: t["digest"] for t in listed_tags.json()} == site.pushed
    assert all(t["created"] for t in listed_tags.json())  # the API's push time
    assert any("/tag/" in p for _, p in site.proxy.since(mark)), "listed through the API"
    mark = site.proxy.mark()
    rm = cli("rm", f"{host}/{REPO}:old", "--yes")
    assert rm.code == 0, rm.err
    assert site.mutations(mark) == [("DELETE", f"{API}/tag/old")]
    mark = site.proxy.mark()
    prune = cli("prune", f"{host}/{REPO}", "--delete-regex", "dev-.*", "--yes")
    assert prune.code == 0, prune.err
    assert sorted(site.mutations(mark)) == [
        ("DELETE", f"{API}/tag/dev-1"),
        ("DELETE", f"{API}/tag/dev-2"),
    ]
    listed = cli("trash", "list", "--json")
    assert listed.code == 0, listed.err
    mark = site.proxy.mark()
    for entry in listed.json():
        restored = cli("trash", "restore", entry["id"])
        assert restored.code == 0, restored.err
    assert tags_now(site.url, ROBOT, REPO) == site.pushed
    # dev-1 and dev-2 came back from Quay's time machine; old's manifest was still live (old-copy),
    # so the recycle bin re-tagged it through /v2
    assert sorted(site.mutations(mark)) == [
        ("POST", f"{API}/tag/dev-1/restore"),
        ("POST", f"{API}/tag/dev-2/restore"),
        ("PUT", f"/v2/{REPO}/manifests/old"),
    ]


async def test_rate_limited_api_is_waited_for(site: Site, writer: ClientPort) -> None:
    assert writer.vendor is not None
    site.vendor.throttle.next(2)
    rows = await writer.vendor.list_tags(REPO)
    assert rows is not None and {r.tag: r.digest for r in rows} == site.pushed
    assert len(site.vendor.throttle.refused) == 2  # two 429s (Retry-After: 1), then the page


async def test_delete_manifests_too_sends_only_tag_deletes(site: Site, writer: ClientPort) -> None:
    """Quay has no manifest delete: a manifest without a live tag is gone from /v2 and collected
    when the time machine lets go; the plan's manifest steps send nothing more."""
    from regview.core.deletion.plan import PlanOptions

    facts = await gather_facts(writer, REPO)
    plan = make_plan(
        facts, Selection.of_tags(["multi", "dev-1"]), PlanOptions(delete_manifests=True)
    )
    assert plan.manifest_actions
    mark = site.proxy.mark()
    report = await Executor(writer, Journal()).run(plan)
    assert report.ok, report.results
    assert sorted(site.mutations(mark)) == [
        ("DELETE", f"{API}/tag/dev-1"),
        ("DELETE", f"{API}/tag/multi"),
    ]


def test_cli_robot_login_with_the_oauth_token_beside_it(site: Site, tmp_path: Path) -> None:
    """A robot account for the registry, Quay's OAuth token for the API (REGVIEW_API_TOKEN at
    login, then from the keyring): rm deletes through the API; without the token it refuses in
    words and sends nothing."""
    cli = Cli(tmp_path)
    host = site.url.split("://", 1)[1]
    bare = cli("login", host, "-u", ROBOT[0], "--password-stdin", stdin=ROBOT[1])
    assert bare.code == 0, bare.err
    mark = site.proxy.mark()
    refused = cli("rm", f"{host}/{REPO}:old", "--yes")
    assert refused.code != 0 and "OAuth access token" in refused.out + refused.err
    assert site.mutations(mark) == []
    token = oauth(site, "repo:read", "repo:write").secret
    login = cli(
        "login",
        host,
        "-u",
        ROBOT[0],
        "--password-stdin",
        stdin=ROBOT[1],
        env={"REGVIEW_API_TOKEN": token},
    )
    assert login.code == 0, login.err
    assert token in str(cli.keyring()) and token not in cli.settings_file.read_text()
    mark = site.proxy.mark()
    rm = cli("rm", f"{host}/{REPO}:old", "--yes")
    assert rm.code == 0, rm.err
    assert site.mutations(mark) == [("DELETE", f"{API}/tag/old")]
