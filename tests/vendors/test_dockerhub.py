"""Docker Hub through its API, over an imitation written from Docker Hub's API documentation
with regview's embedded registry underneath (`hub_imitation`): listing without a manifest GET
(no pull spent), deleting single tags and many while tags sharing their digest stay, the
recycle bin putting them back, and a token without "Read, Write, Delete" deleting nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_imitation import HubImitation
from imitation import Token, serve_asgi
from seed import push_image, push_index, tags_now
from vendor_support import connected, delete, plan_for

from regview.core.deletion.executor import Executor, Status
from regview.core.deletion.plan import Method
from regview.core.deletion.port import gather_facts
from regview.core.journal.journal import Journal, restore
from regview.core.model import RegistryKind
from regview.server.runner import LocalRegistry

pytestmark = pytest.mark.integration

REPO = "alice/app"
TOKENS = {
    "dckr_pat_rwd": Token("alice", ("repo:admin",)),
    "dckr_pat_ro": Token("alice", ("repo:read",)),
}
RWD = ("alice", "dckr_pat_rwd")
RO = ("alice", "dckr_pat_ro")


class Hub:
    def __init__(self, front: HubImitation, url: str, underlying: str) -> None:
        self.front, self.url, self.underlying = front, url, underlying
        self.digests: dict[str, str] = {}

    def tags(self) -> dict[str, str]:
        return tags_now(self.underlying, REPO)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "registry-data") as reg:
        yield reg


def _hub(registry: LocalRegistry, **options: object) -> Iterator[Hub]:
    u = registry.url
    front = HubImitation(u, dict(TOKENS), **options)  # type: ignore[arg-type]
    with serve_asgi(front.app()) as url:
        hub = Hub(front, url, u)
        hub.digests["shared"] = push_image(u, REPO, ["v1", "v1.0", "stable"], salt="a")
        hub.digests["v2"] = push_image(u, REPO, ["v2"], salt="b")
        hub.digests["v3"] = push_image(u, REPO, ["v3"], salt="c")
        hub.digests["multi"] = push_index(u, REPO, ["multi", "multi-latest"], salt="m")
        yield hub


@pytest.fixture
def hub(registry: LocalRegistry) -> Iterator[Hub]:
    yield from _hub(registry)


def _v2_deletes(front: HubImitation, mark: int = 0) -> list[tuple[str, str]]:
    return [(m, p) for m, p in front.since(mark) if m == "DELETE" and "/manifests/" in p]


async def test_listing_goes_through_the_api_and_spends_no_pull(hub: Hub) -> None:
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RWD) as port:
        mark = hub.front.mark()
        facts = await gather_facts(port, REPO)
    seen = hub.front.since(mark)
    manifest_gets = [p for m, p in seen if m == "GET" and "/manifests/" in p]
    assert manifest_gets == [], "listing through the Hub API must not GET manifests (pulls)"
    assert any("/v2/namespaces/alice/repositories/app/tags" in p for _m, p in seen)
    by_tag = {t.tag: t for t in facts.tags}
    assert set(by_tag) == set(hub.tags())
    assert by_tag["v1"].digest == by_tag["stable"].digest == hub.digests["shared"]
    multi = by_tag["multi"]
    assert multi.digest == hub.digests["multi"]
    assert sorted(p.label for p in multi.platforms) == ["linux/amd64", "linux/arm64"]
    assert multi.size and multi.size > 0 and multi.created is not None
    assert facts.capabilities.vendor_api == "Docker Hub API"
    assert by_tag["v1"].pulled is None, "Hub's tag_last_pulled null: no date"


async def test_listing_says_when_hub_last_pulled_a_tag(hub: Hub) -> None:
    when = time.time() - 3600
    hub.front.pulled[REPO, "v1"] = when
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RWD) as port:
        facts = await gather_facts(port, REPO)
    by_tag = {t.tag: t for t in facts.tags}
    got = by_tag["v1"].pulled
    assert got is not None and got.tzinfo is not None and abs(got.timestamp() - when) < 0.01
    assert by_tag["stable"].pulled is None, "its sibling was not pulled by that name"


async def test_listing_pages_one_hundred_at_a_time(registry: LocalRegistry) -> None:
    u = registry.url
    front = HubImitation(u, dict(TOKENS))
    digest = push_image(u, REPO, [f"t{i:03d}" for i in range(230)], salt="p")
    with serve_asgi(front.app()) as url:
        async with connected(url, RegistryKind.DOCKER_HUB, RWD) as port:
            assert port.vendor is not None
            tags = await port.vendor.list_tags(REPO)
    assert tags is not None and len(tags) == 230
    assert {t.digest for t in tags} == {digest}
    pages = [p for m, p in front.since() if m == "GET" and "/tags" in p]
    assert len(pages) == 3 and all("page_size=100" in p for p in pages), pages


async def test_rate_limit_answers_are_waited_out(registry: LocalRegistry) -> None:
    u = registry.url
    push_image(u, REPO, [f"t{i:03d}" for i in range(250)], salt="r")
    front = HubImitation(u, dict(TOKENS), rate_limit=180, throttle_every=2)
    with serve_asgi(front.app()) as url:
        async with connected(url, RegistryKind.DOCKER_HUB, RWD) as port:
            assert port.vendor is not None
            tags = await port.vendor.list_tags(REPO)
    assert tags is not None and len(tags) == 250
    # every second API request is answered 429: each is asked again after its Retry-After
    assert front.too_many >= 2


async def test_deleting_one_tag_spares_the_tags_sharing_its_digest(hub: Hub) -> None:
    before = hub.tags()
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RWD) as port:
        plan = await plan_for(port, REPO, ["v1"])
        assert [a.method for a in plan.tag_actions] == [Method.VENDOR_API]
        assert plan.blast is not None and plan.blast.shared_digests == {
            hub.digests["shared"]: ("stable", "v1.0")
        }
        mark = hub.front.mark()
        report = await Executor(port, Journal(), backoff=0.01).run(plan)
    assert [r.verdict for r in report.results] == [Status.DELETED], report.to_json()
    assert hub.front.mutations(mark) == [
        ("DELETE", "/v2/namespaces/alice/repositories/app/tags/v1")
    ]
    after = hub.tags()
    assert "v1" not in after
    assert {t: d for t, d in before.items() if t != "v1"} == after


async def test_bulk_delete_removes_only_the_chosen_tags(hub: Hub) -> None:
    before = hub.tags()
    chosen = ["v1", "v3", "multi"]
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RWD) as port:
        mark = hub.front.mark()
        report = await delete(port, REPO, chosen)
    assert sorted(r.name for r in report.results if r.verdict.gone) == sorted(chosen)
    assert sorted(hub.front.mutations(mark)) == sorted(
        ("DELETE", f"/v2/namespaces/alice/repositories/app/tags/{t}") for t in chosen
    )
    assert _v2_deletes(hub.front, mark) == []
    assert hub.tags() == {t: d for t, d in before.items() if t not in chosen}


async def test_the_recycle_bin_puts_a_deleted_tag_back(hub: Hub) -> None:
    before = hub.tags()
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RWD) as port:
        report = await delete(port, REPO, ["v3", "multi"])
        assert "v3" not in hub.tags()
        mark = hub.front.mark()
        results = await restore(Journal(), report.journal_id, port)
    assert all(r.restored for r in results), results
    assert hub.tags() == before
    assert sorted(hub.front.mutations(mark)) == [
        ("PUT", "/v2/alice/app/manifests/multi"),
        ("PUT", "/v2/alice/app/manifests/v3"),
    ]


async def test_a_token_without_delete_permission_deletes_nothing(hub: Hub) -> None:
    before = hub.tags()
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RO) as port:
        mark = hub.front.mark()
        report = await delete(port, REPO, ["v2", "v3", "multi"])
    assert hub.tags() == before
    assert all(r.verdict is Status.NOT_DELETED for r in report.results), report.to_json()
    words = " ".join(r.reason for r in report.results)
    assert "Read, Write, Delete" in words and "nothing was deleted" in words
    # the first refusal stops the run: one DELETE answered 403, no other
    assert len(hub.front.mutations(mark)) == 1


@pytest.fixture
def hub_with_scoped_jwt(registry: LocalRegistry) -> Iterator[Hub]:
    yield from _hub(registry, scopes_in_jwt=True)


async def test_a_token_naming_its_scopes_is_refused_before_anything_is_sent(
    hub_with_scoped_jwt: Hub,
) -> None:
    hub = hub_with_scoped_jwt
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RO) as port:
        mark = hub.front.mark()
        report = await delete(port, REPO, ["v2"])
    assert "Read, Write, Delete" in report.refusal and "Nothing was deleted" in report.refusal
    assert hub.front.mutations(mark) == []


@pytest.fixture
def hub_legacy(registry: LocalRegistry) -> Iterator[Hub]:
    yield from _hub(registry, legacy_delete=True)


async def test_a_hub_without_the_namespaced_delete_uses_the_older_route(hub_legacy: Hub) -> None:
    hub = hub_legacy
    before = hub.tags()
    async with connected(hub.url, RegistryKind.DOCKER_HUB, RWD) as port:
        mark = hub.front.mark()
        report = await delete(port, REPO, ["v1"])
    assert [r.verdict for r in report.results] == [Status.DELETED], report.to_json()
    assert hub.front.mutations(mark) == [
        ("DELETE", "/v2/namespaces/alice/repositories/app/tags/v1"),  # answered 405
        ("DELETE", "/v2/repositories/alice/app/tags/v1/"),
    ]
    assert hub.tags() == {t: d for t, d in before.items() if t != "v1"}
