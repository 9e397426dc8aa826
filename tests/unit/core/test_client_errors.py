"""Error translation, retries and paging of RegistryClient over MockTransport."""

from __future__ import annotations

import ssl

import httpx
import pytest
from registry_fakes import FakeRegistry, Sleeps

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint, RegistryKind

REG = "https://registry.example"


def make(handler: object, sleeps: Sleeps | None = None, **kw: object) -> RegistryClient:
    return RegistryClient(
        Endpoint(REG, **kw),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        sleep=sleeps or Sleeps(),
    )


async def test_error_body_becomes_typed_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404, json={"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}
        )

    async with make(handler) as c:
        with pytest.raises(E.NotFound) as info:
            await c.list_tags("nope")
    assert info.value.codes[0].value == "NAME_UNKNOWN"
    assert "registry.example" in info.value.message
    assert "repository name not known" in info.value.message


async def test_html_answer_is_explained() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, headers={"Content-Type": "text/html"}, content=b"<!DOCTYPE html><html>login</html>"
        )

    async with make(handler) as c:
        with pytest.raises(E.NotARegistry, match="HTML page"):
            await c.list_tags("x")


async def test_delete_refused_with_405_says_deletion_is_disabled() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            405,
            json={"errors": [{"code": "UNSUPPORTED", "message": "The operation is unsupported."}]},
        )

    async with make(handler) as c:
        with pytest.raises(E.Unsupported, match="deletion is disabled"):
            await c.delete_manifest("acme/app", "sha256:" + "a" * 64)


async def test_error_bodies_are_capped() -> None:
    huge = b'{"errors":[{"code":"DENIED","message":"' + b"x" * 200_000 + b'"}]}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=huge)

    async with make(handler) as c:
        with pytest.raises(E.AccessDenied) as info:
            await c.list_tags("x")
    assert len(info.value.message) < 70_000


async def test_429_honours_retry_after_then_succeeds(sleeps: Sleeps) -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "7"}, json={"errors": []}),
        httpx.Response(200, json={"tags": ["a"]}),
    ]

    async with make(lambda r: answers.pop(0), sleeps) as c:
        assert await c.list_tags("x") == ["a"]
    assert sleeps.calls == [7.0]


async def test_5xx_is_retried_a_bounded_number_of_times(sleeps: Sleeps) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"errors": [{"code": "UNAVAILABLE", "message": "busy"}]})

    async with make(handler, sleeps) as c:
        with pytest.raises(E.ServerError, match="try again later"):
            await c.list_tags("x")
    assert len(calls) == 4
    assert len(sleeps.calls) == 3
    assert sleeps.calls[0] < sleeps.calls[1] < sleeps.calls[2]  # backoff grows


async def test_client_errors_raise_at_once(sleeps: Sleeps) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"errors": [{"code": "TAG_INVALID", "message": "bad"}]})

    async with make(handler, sleeps) as c:
        with pytest.raises(E.ResponseError):
            await c.list_tags("x")
    assert len(calls) == 1 and sleeps.calls == []


async def test_5xx_on_delete_is_not_retried(sleeps: Sleeps) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    async with make(handler, sleeps) as c:
        with pytest.raises(E.ServerError):
            await c.delete_manifest("x", "sha256:" + "b" * 64)
    assert len(calls) == 1


async def test_connection_errors_retried_then_explained(sleeps: Sleeps) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with make(handler, sleeps) as c:
        with pytest.raises(E.ConnectionFailed, match="cannot reach"):
            await c.list_tags("x")
    assert len(sleeps.calls) == 3


async def test_untrusted_certificate_says_what_to_do(sleeps: Sleeps) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except ssl.SSLError as exc:
            raise httpx.ConnectError("tls") from exc

    async with make(handler, sleeps) as c:
        with pytest.raises(E.CertificateNotTrusted, match="trust a CA file"):
            await c.ping()
    assert sleeps.calls == []  # not temporary


async def test_link_paging_relative_and_tags_null() -> None:
    pages = {
        "/v2/x/tags/list": (["a", "b"], '</v2/x/tags/list?last=b&n=2>; rel="next"'),
        "/v2/x/tags/list?last=b&n=2": (None, '<list?last=c>; rel="next"'),
        "/v2/x/tags/list?last=c": (["d"], ""),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.url.raw_path.decode()
        tags, link = pages[key]
        headers = {"Link": link} if link else {}
        return httpx.Response(200, headers=headers, json={"name": "x", "tags": tags})

    async with make(handler) as c:
        assert await c.list_tags("x") == ["a", "b", "d"]


async def test_link_loop_is_detected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Link": '</v2/x/tags/list?last=a>; rel="next"'}, json={"tags": ["a"]}
        )

    async with make(handler) as c:
        with pytest.raises(E.ProtocolError, match="loop"):
            await c.list_tags("x")


async def test_catalog_refused_on_gitlab_points_at_the_api() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"errors": [{"code": "DENIED", "message": "denied"}]})

    client = RegistryClient(
        Endpoint(REG, kind=RegistryKind.GITLAB), transport=httpx.MockTransport(handler)
    )
    async with client as c:
        with pytest.raises(E.CatalogRefused, match="GitLab API"):
            async for _ in c.iter_repositories():
                pass


async def test_catalog_pages_and_namespace_filter() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("last") == "b/x":
            return httpx.Response(200, json={"repositories": ["c/y"]})
        return httpx.Response(
            200,
            headers={"Link": '</v2/_catalog?last=b/x&n=1000>; rel="next"'},
            json={"repositories": ["a/x", "b/x"]},
        )

    async with make(handler) as c:
        pages = [p async for p in c.iter_repositories()]
        only_b = [p async for p in c.iter_repositories("b")]
    assert pages == [["a/x", "b/x"], ["c/y"]]
    assert only_b == [["b/x"]]


async def test_manifest_digest_mismatch_is_refused(fake: FakeRegistry) -> None:
    digest = fake.add_image("v1")
    data, mt = fake.manifests[digest]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Docker-Content-Digest": "sha256:" + "0" * 64, "Content-Type": mt},
            content=data,
        )

    async with make(handler) as c:
        with pytest.raises(E.ProtocolError, match="does not match"):
            await c.get_manifest("acme/app", "v1")


async def test_get_manifest_sends_the_full_accept_list(fake: FakeRegistry) -> None:
    fake.add_image("v1")
    async with RegistryClient(Endpoint(REG), transport=fake.transport()) as c:
        resp = await c.get_manifest("acme/app", "v1")
    accept = fake.log[-1].headers["Accept"]
    for t in ("oci.image.manifest", "oci.image.index", "manifest.v2", "manifest.list.v2"):
        assert t in accept
    assert resp.digest == fake.tags["v1"]
    assert resp.manifest is not None


async def test_schema1_is_reported_not_crashed() -> None:
    data = b'{"schemaVersion": 1, "name": "x", "tag": "old", "fsLayers": []}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
            content=data,
        )

    async with make(handler) as c:
        resp = await c.get_manifest("x", "old")
    assert resp.manifest is None
    assert "schema1" in resp.problem
