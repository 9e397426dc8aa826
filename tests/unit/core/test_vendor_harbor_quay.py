"""Harbor's and Quay's API modules, one layer alone (httpx.MockTransport): the words for
Harbor's rules, Quay's choice of which deleted tags its time machine puts back, and a
refusal turned into VendorScopeMissing. The integration tests (tests/vendors) run the same
code over sockets against the imitations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from regview.core import errors as E
from regview.core.model import Credentials, Endpoint, RegistryKind
from regview.core.vendors import VendorContext
from regview.core.vendors.harbor import HarborAPI, immutable_rule_words, retention_words
from regview.core.vendors.quay import QuayAPI

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _ctx(
    kind: RegistryKind, handler: Callable[[httpx.Request], httpx.Response], **kw: Any
) -> VendorContext:
    base = "https://reg.example"
    api = base + ("/api/v2.0" if kind is RegistryKind.HARBOR else "/api/v1")
    return VendorContext(
        Endpoint(base, kind=kind),
        api,
        kw.pop("credentials", None),
        transport=httpx.MockTransport(handler),
        **kw,
    )


def test_harbor_rules_in_words() -> None:
    rule = {
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}],
        "scope_selectors": {
            "repository": [
                {"kind": "doublestar", "decoration": "repoExcludes", "pattern": "tmp/**"}
            ]
        },
    }
    assert immutable_rule_words(rule) == "tags matching v* in repositories not matching tmp/**"
    policy = {
        "rules": [
            {**rule, "template": "nDaysSinceLastPull", "params": {"nDaysSinceLastPull": 7}},
            {**rule, "template": "always", "disabled": True},
        ]
    }
    (line,) = retention_words(policy)
    assert line.startswith("retain those pulled within the last 7 days of the tags matching v*")


async def test_quay_restores_only_tags_whose_last_row_ended_on_the_digest() -> None:
    history = [  # newest first, as Quay lists it
        {"name": "moved", "manifest_digest": D2, "start_ts": 50},  # live now, elsewhere
        {"name": "gone", "manifest_digest": D1, "start_ts": 40, "end_ts": 45},
        {"name": "moved", "manifest_digest": D1, "start_ts": 30, "end_ts": 50},
        {"name": "later", "manifest_digest": D2, "start_ts": 20, "end_ts": 25},
        {"name": "later", "manifest_digest": D1, "start_ts": 10, "end_ts": 20},
    ]
    posts: list[tuple[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert "onlyActiveTags" not in request.url.params
            return httpx.Response(200, json={"tags": history, "page": 1, "has_additional": False})
        posts.append((request.url.path, json.loads(request.content)))
        return httpx.Response(200, json={})

    creds = Credentials("$oauthtoken", "tok")
    async with QuayAPI(_ctx(RegistryKind.QUAY, handler, credentials=creds)) as quay:
        assert await quay.restore("org/app", D1) == ""
    # "moved" points elsewhere now, "later" last pointed at D2: only "gone" comes back
    assert posts == [("/api/v1/repository/org/app/tag/gone/restore", {"manifest_digest": D1})]


async def test_quay_without_an_oauth_token_says_so_and_sends_nothing() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    async with QuayAPI(
        _ctx(RegistryKind.QUAY, handler, credentials=Credentials("org+ci", "x"))
    ) as quay:
        access = await quay.access("org/app")
        assert await quay.list_tags("org/app") is None
        assert await quay.protected_tags("org/app") == {}
    assert access.can_delete is False and "OAuth access token" in access.words
    assert sent == []


async def test_harbor_403_on_delete_is_a_missing_permission() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"errors": [{"code": "FORBIDDEN", "message": "forbidden"}]})

    creds = Credentials("robot$team+ro", "s")
    async with HarborAPI(_ctx(RegistryKind.HARBOR, handler, credentials=creds)) as harbor:
        with pytest.raises(E.VendorScopeMissing) as caught:
            await harbor.delete_tag("team/app", "v1", D1, sole=False)
    message = caught.value.message
    assert "HTTP 403" in message and "Harbor API said: forbidden" in message
    assert "Tag: Delete" in message  # what the robot account needs, in Harbor's words


def test_the_registrys_own_rules_are_shown_with_the_plan() -> None:
    """`Capabilities.vendor_notes` (Harbor's retention policy, Quay's time-machine window) reach
    the plan's warnings, which the confirmation and `--dry-run` print."""
    from delete_fakes import FakeRegistry

    from regview.core.deletion.plan import Capabilities, DeleteSupport, Selection, make_plan

    r = FakeRegistry()
    r.tag("a", r.image("base", "a"))
    note = "Harbor's tag retention policy of project team keeps only the 3 most recently pushed"
    caps = Capabilities(DeleteSupport.ALLOWED, vendor_api="Harbor API", vendor_notes=(note,))
    plan = make_plan(r.facts(caps), Selection.of_tags(["a"]))
    assert note in plan.warnings


async def test_quay_restore_refused_says_why_for_the_recycle_bin_to_go_on() -> None:
    history = [{"name": "gone", "manifest_digest": D1, "start_ts": 40, "end_ts": 45}]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"tags": history, "has_additional": False})
        body = {"detail": "Unauthorized", "error_type": "insufficient_scope", "status": 403}
        return httpx.Response(403, json=body)

    creds = Credentials("$oauthtoken", "read-only")
    async with QuayAPI(_ctx(RegistryKind.QUAY, handler, credentials=creds)) as quay:
        why = await quay.restore("org/app", D1)
    assert "did not restore it" in why and "HTTP 403" in why and "repo:write" in why


async def test_harbor_never_deletes_a_signed_image_whole() -> None:
    """Harbor deletes an artifact's accessories (cosign signatures) with it: a sole tag on a
    signed image is deleted alone, the artifact and its signature stay."""
    artifact = {
        "digest": D1,
        "size": 10,
        "push_time": "2024-05-01T10:00:00.000Z",
        "tags": [{"name": "v1", "push_time": "2024-05-01T10:00:00.000Z", "immutable": False}],
        "references": None,
        "accessories": [{"digest": D2, "type": "signature.cosign", "subject_artifact_digest": D1}],
    }
    deletes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.url.params["with_accessory"] == "true"
            if request.url.path.endswith("/artifacts"):
                return httpx.Response(200, json=[artifact], headers={"X-Total-Count": "1"})
            return httpx.Response(200, json=artifact)  # as Harbor holds it just before
        deletes.append(request.url.path)
        return httpx.Response(200)

    creds = Credentials("robot$team+ci", "s")
    async with HarborAPI(_ctx(RegistryKind.HARBOR, handler, credentials=creds)) as harbor:
        await harbor.list_tags("team/app")
        await harbor.delete_tag("team/app", "v1", D1, sole=True)
    assert deletes == [f"/api/v2.0/projects/team/repositories/app/artifacts/{D1}/tags/v1"]


async def test_harbor_refuses_a_manifest_delete_that_would_take_signatures() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        signed = {"digest": D1, "accessories": [{"digest": D2, "type": "signature.cosign"}]}
        return httpx.Response(200, json=signed)

    creds = Credentials("robot$team+ci", "s")
    async with HarborAPI(_ctx(RegistryKind.HARBOR, handler, credentials=creds)) as harbor:
        with pytest.raises(E.VendorAPIError) as caught:
            await harbor.delete_manifest("team/app", D1)
    assert "signature" in caught.value.message and "not deleted" in caught.value.message
    assert sent == [f"GET /api/v2.0/projects/team/repositories/app/artifacts/{D1}"]


async def test_quay_manifest_delete_never_takes_a_tag_pushed_since() -> None:
    live = [{"name": "new", "manifest_digest": D1, "start_ts": 99}]
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        return httpx.Response(200, json={"tags": live, "has_additional": False})

    creds = Credentials("$oauthtoken", "tok")
    async with QuayAPI(_ctx(RegistryKind.QUAY, handler, credentials=creds)) as quay:
        with pytest.raises(E.VendorAPIError) as caught:
            await quay.delete_manifest("org/app", D1)
        live.clear()
        await quay.delete_manifest("org/app", D1)  # no live tag: nothing to send
    assert "new" in caught.value.message and "not deleted" in caught.value.message
    assert sent == ["GET", "GET"]


async def test_harbor_a_tag_pushed_since_the_plan_keeps_the_artifact() -> None:
    """The plan saw v1 alone on its image; by the time it runs, v2 was pushed on the same
    digest: deleting the artifact would delete v2 too, so only v1 goes."""
    listed = {
        "digest": D1,
        "tags": [{"name": "v1", "push_time": "2024-05-01T10:00:00.000Z"}],
        "references": None,
        "accessories": None,
    }
    now = {**listed, "tags": [{"name": "v1"}, {"name": "v2"}]}
    deletes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            deletes.append(request.url.path)
            return httpx.Response(200)
        if request.url.path.endswith("/artifacts"):
            return httpx.Response(200, json=[listed])
        return httpx.Response(200, json=now)

    creds = Credentials("robot$team+ci", "s")
    async with HarborAPI(_ctx(RegistryKind.HARBOR, handler, credentials=creds)) as harbor:
        await harbor.list_tags("team/app")
        await harbor.delete_tag("team/app", "v1", D1, sole=True)
        with pytest.raises(E.VendorAPIError) as caught:
            await harbor.delete_manifest("team/app", D1)
    assert deletes == [f"/api/v2.0/projects/team/repositories/app/artifacts/{D1}/tags/v1"]
    assert "v1, v2 point at it now" in caught.value.message
