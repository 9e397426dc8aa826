"""Properties over one real keep-alive connection to `LocalRegistry` (issue 12, "done means"): any
REST body and any manifest JSON shape gets an answer that is not a 500, and the next request on
the same connection is answered too (after a 500 uvicorn used to reset it)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oci_pusher import LAYER, OCI_CONFIG, OCI_MANIFEST, sha
from server_support import host_of

from regview.server.runner import LocalRegistry
from regview.spec import mediatypes as mt

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=16,
)
#: bracket soup nested far past any parser's comfort (as text: building it as a value would
#: take the test's own json module down)
deep = st.integers(min_value=60, max_value=3000).map(lambda n: "[" * n + "]" * n)


def nested_in(templates: list[str]) -> st.SearchStrategy[bytes]:
    """A JSON document with `deep` in the place `@` marks."""
    return st.builds(lambda t, d: t.replace("@", d).encode(), st.sampled_from(templates), deep)


class Connection:
    """One HTTP/1.1 connection that must stay usable."""

    def __init__(self, url: str) -> None:
        host, port = host_of(url).split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        response.read()
        return response.status

    def still_answers(self, path: str = "/v2/") -> int:
        return self.request("GET", path, b"", {})

    def close(self) -> None:
        self.conn.close()


# -- REST bodies --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gitlab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("gitlab-props")
    with LocalRegistry(data, auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        yield reg.url, reg.demo_credentials[1]


rest_fields = st.sampled_from(
    [
        "container_registry_access_level",
        "visibility",
        "container_expiration_policy_attributes",
        "name_regex_delete",
        "name_regex",
        "name_regex_keep",
        "keep_n",
        "older_than",
        "cadence",
        "enabled",
    ]
)
policy_values = st.dictionaries(rest_fields, json_values, max_size=5)
deep_rest = nested_in(
    [
        "@",
        '{"visibility": @}',
        '{"container_expiration_policy_attributes": {"cadence": @}}',
        '{"name_regex_delete": ".*", "keep_n": @}',
    ]
)
rest_json = (
    json_values
    | st.dictionaries(rest_fields, json_values, max_size=4)
    | st.builds(lambda p: {"container_expiration_policy_attributes": p}, policy_values)
)


@st.composite
def rest_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["json", "raw-json", "form", "other"]))
    if kind == "json":
        return "application/json", json.dumps(draw(rest_json)).encode()
    if kind == "raw-json":
        return "application/json", draw(st.binary(max_size=64) | deep_rest)
    if kind == "form":
        return "application/x-www-form-urlencoded", draw(st.binary(max_size=64))
    return draw(st.text(max_size=20)), draw(st.binary(max_size=64))


@SETTINGS
@given(
    body=rest_bodies(),
    where=st.sampled_from(
        [
            ("PUT", "/api/v4/projects/1"),
            ("PUT", "/api/v4/projects/acme%2Fwebshop"),
            ("DELETE", "/api/v4/projects/1/registry/repositories/1/tags"),
            ("POST", "/api/v4/projects"),
            ("DELETE", "/api/v4/projects/1/registry/repositories/1"),
        ]
    ),
    authenticated=st.booleans(),
)
def test_any_rest_body_is_answered_without_500_and_the_connection_lives(
    gitlab_server: tuple[str, str],
    body: tuple[str, bytes],
    where: tuple[str, str],
    authenticated: bool,
) -> None:
    url, token = gitlab_server
    ctype, content = body
    headers = {"Content-Type": ctype} if ctype.isascii() and "\n" not in ctype else {}
    if authenticated:
        headers["PRIVATE-TOKEN"] = token
    conn = Connection(url)
    try:
        status = conn.request(where[0], where[1], content, headers)
        assert status < 500, (status, where, content[:80])
        assert conn.still_answers("/api/v4/version") in (200, 401)
    finally:
        conn.close()


# -- manifest JSON shapes -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    data = tmp_path_factory.mktemp("manifest-props")
    with LocalRegistry(data) as reg:
        blobs = [b'{"created": "0001-01-01T00:00:00+14:00"}', b"layer bytes"]
        with httpx.Client(base_url=reg.url, trust_env=False) as client:
            for blob in blobs:
                r = client.post(
                    "/v2/props/img/blobs/uploads/", params={"digest": sha(blob)}, content=blob
                )
                assert r.status_code == 201
        yield reg.url, [sha(b) for b in blobs]


def descriptors(digests: list[str]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "mediaType": st.sampled_from([LAYER, OCI_CONFIG, OCI_MANIFEST, ""]) | json_values,
            "digest": st.sampled_from([*digests, "sha256:" + "0" * 64, "md5:x"]) | json_values,
            "size": st.integers(min_value=-1, max_value=2**64) | json_values,
        },
        optional={
            "urls": json_values,
            "annotations": json_values,
            "platform": json_values,
            "artifactType": json_values,
        },
    )


def manifests(digests: list[str]) -> st.SearchStrategy[Any]:
    desc = descriptors(digests)
    created = st.sampled_from(
        ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-01-01T00:00:00Z", "x"]
    )
    return st.fixed_dictionaries(
        {
            "schemaVersion": st.sampled_from([2, 1, "2", None, 2.0]),
            "mediaType": st.sampled_from(
                [OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST, mt.DOCKER_LIST]
            )
            | json_values,
        },
        optional={
            "config": desc | json_values,
            "layers": st.lists(desc | json_values, max_size=3) | json_values,
            "manifests": st.lists(desc | json_values, max_size=3) | json_values,
            "subject": desc | json_values,
            "annotations": st.dictionaries(
                st.just(mt.ANNOTATION_CREATED) | st.text(max_size=6), created | json_values
            ),
            "artifactType": json_values,
        },
    )


@SETTINGS
@given(data=st.data(), content_type=st.sampled_from([OCI_MANIFEST, mt.OCI_INDEX, "", "x/y"]))
def test_any_manifest_shape_is_answered_without_500_and_the_connection_lives(
    plain_server: tuple[str, list[str]], data: st.DataObject, content_type: str
) -> None:
    url, digests = plain_server
    raw = data.draw(
        manifests(digests).map(lambda m: json.dumps(m).encode())
        | nested_in(
            [
                "@",
                '{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST + '", "config": @}',
                '{"schemaVersion": 2, "layers": [], "annotations": {"a": @}}',
                '{"schemaVersion": 2, "manifests": [@]}',
            ]
        )
        | st.binary(max_size=64)
    )
    conn = Connection(url)
    try:
        status = conn.request(
            "PUT", "/v2/props/img/manifests/v1", raw, {"Content-Type": content_type}
        )
        assert status < 500, (status, raw[:120])
        assert conn.still_answers() == 200
        # whatever was accepted, listing it works
        assert conn.still_answers("/v2/props/img/tags/list") in (200, 404)
    finally:
        conn.close()
