"""RegistryClient over MockTransport: conditional manifest GETs only when there is something to
revalidate against, digests of either algorithm recognised by the spec's parser, and aclose()
closing every client it made."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from regview.core import errors as E
from regview.core.client import http as client_http
from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint
from regview.spec import jsondoc
from regview.spec import mediatypes as mt
from regview.spec.digest import Digest

REG = "https://registry.example"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "c" * 64,
            "size": 2,
        },
        "layers": [],
    }
).encode()
SHA256 = str(Digest.of(MANIFEST))
SHA512 = "sha512:" + hashlib.sha512(MANIFEST).hexdigest()


class Conditional:
    """A registry that answers 304 to any If-None-Match, else the manifest; counts requests."""

    def __init__(self, *, always_304: bool = False, announce: str = SHA256) -> None:
        self.requests: list[httpx.Request] = []
        self.always_304 = always_304
        self.announce = announce

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.always_304 or "if-none-match" in request.headers:
            return httpx.Response(304)
        headers = {"Content-Type": mt.OCI_MANIFEST, "Docker-Content-Digest": self.announce}
        return httpx.Response(200, headers=headers, content=MANIFEST)


def make(handler: Conditional, cache_dir: Path | None = None) -> RegistryClient:
    return RegistryClient(
        Endpoint(REG), transport=httpx.MockTransport(handler), cache_dir=cache_dir
    )


async def test_etag_without_a_cache_sends_one_unconditional_get() -> None:
    registry = Conditional()
    async with make(registry) as c:
        result = await c.get_manifest("acme/app", "latest", etag=SHA256)
    assert result.digest == SHA256 and result.data == MANIFEST
    assert len(registry.requests) == 1
    assert "if-none-match" not in registry.requests[0].headers


async def test_etag_missing_from_the_cache_sends_one_unconditional_get(tmp_path: Path) -> None:
    registry = Conditional()
    async with make(registry, tmp_path / "cache") as c:
        result = await c.get_manifest("acme/app", "latest", etag=SHA256)
    assert result.data == MANIFEST
    assert len(registry.requests) == 1
    assert "if-none-match" not in registry.requests[0].headers


async def test_etag_in_the_cache_revalidates_with_one_conditional_get(tmp_path: Path) -> None:
    registry = Conditional()
    async with make(registry, tmp_path / "cache") as c:
        assert c.content is not None
        c.content.put(SHA256, MANIFEST)
        result = await c.get_manifest("acme/app", "latest", etag=SHA256)
    assert result.digest == SHA256 and result.data == MANIFEST
    assert len(registry.requests) == 1
    assert registry.requests[0].headers["if-none-match"] == f'"{SHA256}"'


async def test_304_to_an_unconditional_get_is_a_protocol_error() -> None:
    registry = Conditional(always_304=True)
    async with make(registry) as c:
        with pytest.raises(E.ProtocolError, match=r"registry\.example: .*not conditional"):
            await c.get_manifest("acme/app", "latest", etag=SHA256)
    assert len(registry.requests) == 1


async def test_head_by_sha512_digest_without_a_digest_header() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": mt.OCI_MANIFEST})

    async with RegistryClient(Endpoint(REG), transport=httpx.MockTransport(handler)) as c:
        head = await c.head_manifest("acme/app", SHA512)
    assert head.digest == SHA512


async def test_get_by_sha512_digest_is_verified_with_sha512() -> None:
    registry = Conditional(announce=SHA512)
    async with make(registry) as c:
        assert (await c.get_manifest("acme/app", SHA512)).digest == SHA512
        with pytest.raises(E.ProtocolError, match="does not match"):
            await c.get_manifest("acme/app", "sha512:" + "0" * 128)


async def test_get_by_sha256_digest_is_verified_against_the_reference() -> None:
    # the registry announces a sha512 digest; what we asked for (sha256) is what must match
    registry = Conditional(announce=SHA512)
    async with make(registry) as c:
        assert (await c.get_manifest("acme/app", SHA256)).digest == SHA256


async def test_aclose_closes_both_clients_and_is_idempotent(tmp_path: Path) -> None:
    c = make(Conditional(), tmp_path / "cache")
    await c.get_manifest("acme/app", "latest")
    await c.aclose()
    assert c.http.is_closed
    assert c._token_http.is_closed
    await c.aclose()  # a second close is harmless


def test_json_is_imported_at_module_level() -> None:
    # answers are decoded by the depth-capped spec.jsondoc.parse_json, imported once
    assert client_http.parse_json is jsondoc.parse_json


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000/v2/team/app/manifests/v1",
        "https://registry.example/v2/a/b/blobs/sha256:00?x=1",  # default port: not in Host
        "https://registry.example:8443/v2/_catalog?n=100",
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"User-Agent": "regview/t", "Accept": "a, b", "If-None-Match": '"sha256:ab"'}],
)
def test_the_lean_bodiless_request_is_the_request_httpx_builds(
    method: str, url: str, headers: dict[str, str]
) -> None:
    # The hot path builds GETs and HEADs without httpx.Request's generic preparation; what the
    # auth flow and every transport read must be the same (a newer httpx that adds state to a
    # request shows up here as a new attribute).
    u = httpx.URL(url)
    want = httpx.Request(method, u, headers=headers)
    got = client_http.bodiless_request(method, u, dict(headers))
    assert set(vars(got)) == set(vars(want))
    assert (got.method, got.url, got.headers.raw) == (want.method, want.url, want.headers.raw)
    assert got.headers == want.headers and got.extensions == want.extensions
    assert got.content == want.content == b"" and list(got.stream) == list(want.stream)  # type: ignore[arg-type]
    # the headers' inner state too (built without httpx's normalisation)
    assert got.headers._list == want.headers._list
    assert got.headers.encoding == want.headers.encoding


def test_the_lean_bodiless_request_refuses_what_httpx_refuses() -> None:
    u = httpx.URL("http://127.0.0.1:5000/v2/a/manifests/v1")
    for bad in ({"X-Name": "caf\u00e9"}, {"X-Caf\u00e9": "1"}):
        with pytest.raises(UnicodeEncodeError):
            httpx.Request("GET", u, headers=bad)
        with pytest.raises(UnicodeEncodeError):
            client_http.bodiless_request("GET", u, dict(bad))
