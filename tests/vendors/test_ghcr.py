"""GHCR through GitHub's packages API, over an imitation written from GitHub's REST API
documentation with regview's embedded registry underneath (`ghcr_imitation`): versions with
their tags, one tag of several deleted by the safe path (throw-away manifest, then its version)
so the siblings stay, a tag alone on its version deleted with its version, GitHub's restore
used by the recycle bin, and a token without delete:packages refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ghcr_imitation import GhcrImitation
from imitation import Token, serve_asgi
from seed import push_image, push_index, tags_now
from vendor_support import connected, delete, plan_for

from regview.core.deletion.executor import Status
from regview.core.deletion.plan import Method
from regview.core.journal.journal import Journal, restore
from regview.core.model import RegistryKind
from regview.core.vendors.ghcr import GHCR
from regview.server.runner import LocalRegistry

pytestmark = pytest.mark.integration

REPO = "acme/app"
VERSIONS = "/orgs/acme/packages/container/app/versions"
TOKENS = {
    "ghp_full": Token("alice", ("delete:packages", "read:packages", "write:packages")),
    "ghp_read": Token("alice", ("read:packages",)),
    "ghp_nowrite": Token("alice", ("delete:packages", "read:packages")),
}
FULL = ("alice", "ghp_full")


class Ghcr:
    def __init__(self, front: GhcrImitation, url: str, underlying: str) -> None:
        self.front, self.url, self.underlying = front, url, underlying
        self.digests: dict[str, str] = {}

    def tags(self) -> dict[str, str]:
        return tags_now(self.underlying, REPO)

    def version_id(self, digest: str) -> int:
        return self.front._versions[REPO][digest].id


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "registry-data") as reg:
        yield reg


@pytest.fixture
def ghcr(registry: LocalRegistry) -> Iterator[Ghcr]:
    u = registry.url
    front = GhcrImitation(u, dict(TOKENS), orgs={"acme": {"alice"}})
    with serve_asgi(front.app()) as url:
        g = Ghcr(front, url, u)
        g.digests["shared"] = push_image(u, REPO, ["v1", "v1.0", "stable"], salt="a")
        g.digests["v2"] = push_image(u, REPO, ["v2"], salt="b")
        g.digests["v3"] = push_image(u, REPO, ["v3"], salt="c")
        g.digests["multi"] = push_index(u, REPO, ["multi", "multi-latest"], salt="m")
        # GitHub has listed them as versions by the time anyone looks
        httpx.get(url + VERSIONS, headers={"Authorization": "Bearer ghp_full"}).raise_for_status()
        yield g


def _api_deletes(front: GhcrImitation, mark: int) -> list[str]:
    return [p for m, p in front.mutations(mark) if m == "DELETE"]


async def test_versions_come_from_the_packages_api_with_their_tags(ghcr: Ghcr) -> None:
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        assert isinstance(port.vendor, GHCR)
        versions = {v.digest: v for v in await port.vendor.versions(REPO)}
        access = await port.vendor.access(REPO)
    assert set(versions[ghcr.digests["shared"]].tags) == {"v1", "v1.0", "stable"}
    assert versions[ghcr.digests["v2"]].tags == ("v2",)
    untagged = [v for v in versions.values() if not v.tags]
    assert len(untagged) == 2, "the index's platform manifests are untagged versions"
    assert access.can_delete is True and "delete:packages" in access.scopes


async def test_versions_are_read_page_by_page(registry: LocalRegistry) -> None:
    u = registry.url
    for i in range(105):
        push_image(u, REPO, [f"t{i:03d}"], salt=f"p{i}")
    front = GhcrImitation(u, dict(TOKENS), orgs={"acme": {"alice"}})
    with serve_asgi(front.app()) as url:
        async with connected(url, RegistryKind.GHCR, FULL) as port:
            assert isinstance(port.vendor, GHCR)
            versions = await port.vendor.versions(REPO)
    assert len({v.digest for v in versions}) == 105
    pages = [p for m, p in front.since() if m == "GET" and p.startswith(VERSIONS)]
    assert len(pages) == 2 and "page=2" in pages[1], pages


async def test_one_tag_of_several_goes_by_the_safe_path_and_its_siblings_stay(ghcr: Ghcr) -> None:
    before = ghcr.tags()
    shared_id = ghcr.version_id(ghcr.digests["shared"])
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        plan = await plan_for(port, REPO, ["v1"])
        assert [a.method for a in plan.tag_actions] == [Method.VENDOR_API]
        mark = ghcr.front.mark()
        report = await delete(port, REPO, ["v1"])
    assert [r.verdict for r in report.results] == [Status.DELETED], report.to_json()
    changes = ghcr.front.mutations(mark)
    assert [m for m, _ in changes] == ["PUT", "DELETE"], changes
    assert changes[0][1] == "/v2/acme/app/manifests/v1"
    assert changes[1][1].startswith(VERSIONS + "/") and changes[1][1] != f"{VERSIONS}/{shared_id}"
    after = ghcr.tags()
    assert {t: d for t, d in before.items() if t != "v1"} == after
    assert ghcr.digests["shared"] in ghcr.front._versions[REPO], "the shared version stays"


async def test_a_tag_alone_on_its_version_goes_with_the_version(ghcr: Ghcr) -> None:
    before = ghcr.tags()
    v2_id = ghcr.version_id(ghcr.digests["v2"])
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        mark = ghcr.front.mark()
        report = await delete(port, REPO, ["v2"])
    assert [r.verdict for r in report.results] == [Status.DELETED]
    assert ghcr.front.mutations(mark) == [("DELETE", f"{VERSIONS}/{v2_id}")]
    assert ghcr.tags() == {t: d for t, d in before.items() if t != "v2"}


async def test_bulk_delete_spares_every_tag_not_chosen(ghcr: Ghcr) -> None:
    before = ghcr.tags()
    chosen = ["v1", "stable", "v3", "multi"]
    kept_versions = {ghcr.version_id(ghcr.digests[k]) for k in ("shared", "v2", "multi")}
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        mark = ghcr.front.mark()
        report = await delete(port, REPO, chosen)
    assert sorted(r.name for r in report.results if r.verdict.gone) == sorted(chosen)
    assert ghcr.tags() == {t: d for t, d in before.items() if t not in chosen}
    changes = ghcr.front.mutations(mark)
    puts = [p for m, p in changes if m == "PUT"]
    # v1, stable (v1.0 stays on their version) and multi (multi-latest stays) take the safe path
    assert sorted(puts) == sorted(f"/v2/acme/app/manifests/{t}" for t in ("v1", "stable", "multi"))
    deleted_ids = {int(p.rsplit("/", 1)[1]) for p in _api_deletes(ghcr.front, mark)}
    assert len(deleted_ids) == 4 and not deleted_ids & kept_versions
    assert not [p for m, p in changes if m == "DELETE" and "/manifests/" in p]


async def test_the_recycle_bin_uses_githubs_restore_for_a_deleted_version(ghcr: Ghcr) -> None:
    before = ghcr.tags()
    v2_id = ghcr.version_id(ghcr.digests["v2"])
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        report = await delete(port, REPO, ["v2", "v1"])
        assert "v2" not in ghcr.tags() and "v1" not in ghcr.tags()
        mark = ghcr.front.mark()
        results = await restore(Journal(), report.journal_id, port)
    assert all(r.restored for r in results), results
    reasons = {r.name: r.reason for r in results}
    assert "own restore" in reasons["v2"] and reasons["v1"] == "restored"
    assert ghcr.tags() == before
    changes = ghcr.front.mutations(mark)
    assert ("POST", f"{VERSIONS}/{v2_id}/restore") in changes
    # v1's version was never deleted (the safe path deleted a throw-away): its tag is re-pushed
    assert ("PUT", "/v2/acme/app/manifests/v1") in changes
    assert ghcr.version_id(ghcr.digests["v2"]) == v2_id, "the very version came back"


async def test_a_token_without_delete_packages_is_refused_before_anything_is_sent(
    ghcr: Ghcr,
) -> None:
    before = ghcr.tags()
    async with connected(ghcr.url, RegistryKind.GHCR, ("alice", "ghp_read")) as port:
        mark = ghcr.front.mark()
        report = await delete(port, REPO, ["v2", "v1"])
    assert "delete:packages" in report.refusal and "Nothing was deleted" in report.refusal
    assert report.results == []
    assert ghcr.front.mutations(mark) == []
    assert ghcr.tags() == before


async def test_without_write_packages_a_shared_tag_stays_and_says_why(ghcr: Ghcr) -> None:
    before = ghcr.tags()
    async with connected(ghcr.url, RegistryKind.GHCR, ("alice", "ghp_nowrite")) as port:
        report = await delete(port, REPO, ["v1"])
    (result,) = report.results
    assert result.verdict is Status.NOT_DELETED, result
    assert "403" in result.reason or "denied" in result.reason
    assert ghcr.tags() == before


async def test_untagged_platform_versions_go_with_their_index_when_asked(ghcr: Ghcr) -> None:
    from regview.core.deletion.plan import PlanOptions

    before = ghcr.tags()
    versions_before = set(ghcr.front._versions[REPO])
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        report = await delete(
            port, REPO, ["multi", "multi-latest"], PlanOptions(delete_manifests=True)
        )
    assert all(r.verdict.gone for r in report.results), report.to_json()
    children = [
        r for r in report.results if r.kind == "manifest" and r.digest != ghcr.digests["multi"]
    ]
    assert len(children) == 2, "the index's two platform manifests, untagged versions on GitHub"
    gone = versions_before - set(ghcr.front._versions[REPO])
    assert gone == {ghcr.digests["multi"], *(r.digest for r in children)}
    assert ghcr.tags() == {t: d for t, d in before.items() if not t.startswith("multi")}


async def test_a_throwaway_left_by_a_failed_version_delete_is_finished_by_resume(
    ghcr: Ghcr,
) -> None:
    """The safe path's second step fails for good (GitHub answering 500): v1 is left on the
    throw-away placeholder, reported so, its siblings untouched; a resume of the journal entry
    deletes the placeholder's version and v1 is gone."""
    from regview.core.deletion.executor import Executor

    before = ghcr.tags()
    ghcr.front.failing_deletes = 100
    async with connected(ghcr.url, RegistryKind.GHCR, FULL) as port:
        plan = await plan_for(port, REPO, ["v1"])
        report = await Executor(port, Journal(), backoff=0.01).run(plan)
        (result,) = report.results
        assert result.verdict is Status.PLACEHOLDER, result
        assert "resume" in result.reason
        left = ghcr.tags()
        assert left["v1"] != before["v1"], "v1 points at the throw-away"
        assert {t: d for t, d in left.items() if t != "v1"} == {
            t: d for t, d in before.items() if t != "v1"
        }
        ghcr.front.failing_deletes = 0
        entry = Journal().load(report.journal_id)
        resumed = await Executor(port, Journal(), backoff=0.01).run(plan, resume=entry)
    (again,) = resumed.results
    assert again.verdict.gone, again
    assert ghcr.tags() == {t: d for t, d in before.items() if t != "v1"}


async def test_the_last_tagged_version_is_refused_in_githubs_words(registry: LocalRegistry) -> None:
    u = registry.url
    push_image(u, "acme/solo", ["only"], salt="s")
    front = GhcrImitation(u, dict(TOKENS), orgs={"acme": {"alice"}})
    with serve_asgi(front.app()) as url:
        async with connected(url, RegistryKind.GHCR, FULL) as port:
            report = await delete(port, "acme/solo", ["only"])
    (result,) = report.results
    assert result.verdict is Status.NOT_DELETED, result
    assert "last tagged version" in result.reason and "delete the whole package" in result.reason
    assert tags_now(u, "acme/solo") == {"only": result.digest}


async def test_the_token_owners_own_package_goes_through_user_packages(
    registry: LocalRegistry,
) -> None:
    u = registry.url
    push_image(u, "alice/tool", ["a", "b"], salt="t")
    push_image(u, "alice/tool", ["c"], salt="u")
    front = GhcrImitation(u, dict(TOKENS))
    with serve_asgi(front.app()) as url:
        async with connected(url, RegistryKind.GHCR, FULL) as port:
            mark = front.mark()
            report = await delete(port, "alice/tool", ["a", "c"])
    assert all(r.verdict.gone for r in report.results), report.to_json()
    api = [p for _m, p in front.since(mark) if not p.startswith(("/v2/", "/token"))]
    assert api and all(p.startswith(("/user/packages/container/tool/", "/user")) for p in api), api
    assert sorted(tags_now(u, "alice/tool")) == ["b"]
