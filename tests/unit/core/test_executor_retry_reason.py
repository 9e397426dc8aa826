"""A DELETE whose answer is lost and whose retry finds the tag gone counts as deleted, and its
reason says so — through the real client (`ClientPort` over `RegistryClient`) on an
`httpx.MockTransport` that applies the first DELETE, then drops its answer."""

from __future__ import annotations

import re

import httpx
from delete_fakes import FakeRegistry

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import ExecutionReport, Executor, Outcome
from regview.core.deletion.items import ALREADY_GONE, LOST_REPLY
from regview.core.deletion.plan import (
    Capabilities,
    DeletePlan,
    DeleteSupport,
    Method,
    Selection,
    make_plan,
)
from regview.core.deletion.port import ClientPort
from regview.core.model import Endpoint

REPO = "team/app"
MANIFEST = re.compile(rf"^/v2/{REPO}/manifests/(?P<ref>[^/]+)$")


class LossyRegistry:
    """Serves a `FakeRegistry`'s manifests over HTTP; `lose` says which DELETEs (by reference)
    the registry carries out and then never answers."""

    def __init__(self, state: FakeRegistry, lose: set[str]) -> None:
        self.state = state
        self.lose = set(lose)
        self.deletes: list[tuple[str, str]] = []  # (reference, what the client saw)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200, json={})
        m = MANIFEST.match(request.url.path)
        if m is None:
            return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})
        ref = m["ref"]
        digest = self.state.tags.get(ref, ref)
        if digest not in self.state.manifests or (
            not ref.startswith("sha256:") and ref not in self.state.tags
        ):
            if request.method == "DELETE":
                self.deletes.append((ref, "404"))
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        media, data = self.state.manifests[digest]
        if request.method == "GET":
            return httpx.Response(
                200,
                content=data,
                headers={"Content-Type": media, "Docker-Content-Digest": digest},
            )
        if request.method == "DELETE":
            if ref.startswith("sha256:"):
                del self.state.manifests[ref]
                for t in [t for t, d in self.state.tags.items() if d == ref]:
                    del self.state.tags[t]
            else:
                del self.state.tags[ref]
            if ref in self.lose:
                self.lose.discard(ref)
                self.deletes.append((ref, "lost"))
                raise httpx.RemoteProtocolError("Server disconnected without sending a response")
            self.deletes.append((ref, "202"))
            return httpx.Response(202)
        return httpx.Response(405)


async def _run(
    state: FakeRegistry, lossy: LossyRegistry, caps: Capabilities | None, tags: list[str]
) -> tuple[DeletePlan, ExecutionReport]:
    plan = make_plan(state.facts(caps), Selection.of_tags(tags))
    async with RegistryClient(
        Endpoint("https://registry.test"), transport=httpx.MockTransport(lossy)
    ) as client:
        return plan, await Executor(ClientPort(client), backoff=0.0).run(plan)


async def test_lost_reply_then_404_is_deleted_and_says_the_reply_was_lost() -> None:
    state = FakeRegistry(repository=REPO, tag_delete=True)
    state.tag("lost", state.image("a"))
    state.tag("plain", state.image("b"))
    lossy = LossyRegistry(state, lose={"lost"})
    plan, report = await _run(state, lossy, None, ["lost", "plain"])
    assert {str(a.method) for a in plan.tag_actions} == {str(Method.TAG_DELETE)}
    assert sorted(lossy.deletes) == [("lost", "404"), ("lost", "lost"), ("plain", "202")]
    by_tag = {r.name: r for r in report.results}
    assert by_tag["lost"].outcome is Outcome.DELETED
    assert LOST_REPLY in by_tag["lost"].reason
    assert "reply was lost" in by_tag["lost"].reason
    assert by_tag["plain"].outcome is Outcome.DELETED
    assert by_tag["plain"].reason == Method.TAG_DELETE.description  # no note when confirmed
    assert report.ok and state.tags == {}
    assert sorted(report.to_json()["deleted"]) == ["lost", "plain"]


async def test_lost_reply_on_a_delete_by_digest_says_so_for_every_tag_on_it() -> None:
    state = FakeRegistry(repository=REPO, tag_delete=False)
    shared = state.image("shared")
    state.tag("a", shared)
    state.tag("b", shared)
    lossy = LossyRegistry(state, lose={shared})
    caps = Capabilities(DeleteSupport.ALLOWED, tag_delete=False, can_push=False)
    plan, report = await _run(state, lossy, caps, ["a", "b"])
    assert {str(a.method) for a in plan.tag_actions} == {str(Method.DIGEST)}
    assert [r.outcome for r in report.results] == [Outcome.DELETED, Outcome.DELETED]
    assert all(LOST_REPLY in r.reason for r in report.results), report.results


async def test_404_on_the_first_delete_says_it_was_already_gone() -> None:
    """The tag was there when re-checked but gone at the DELETE: not a lost reply."""
    state = FakeRegistry(repository=REPO, tag_delete=True)
    state.tag("t", state.image("a"))
    lossy = LossyRegistry(state, lose=set())
    original = lossy.__call__

    def vanish_before_delete(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            state.tags.pop("t", None)  # someone else deleted it in between
        return original(request)

    plan = make_plan(state.facts(), Selection.of_tags(["t"]))
    async with RegistryClient(
        Endpoint("https://registry.test"), transport=httpx.MockTransport(vanish_before_delete)
    ) as client:
        report = await Executor(ClientPort(client), backoff=0.0).run(plan)
    [result] = report.results
    assert result.outcome is Outcome.DELETED
    assert ALREADY_GONE in result.reason and LOST_REPLY not in result.reason
