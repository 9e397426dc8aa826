"""Property tests: any name, reference, digest, range or upload sequence gets an answer that is
not a 500, and the store never holds a blob whose bytes disagree with its digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_helpers import push_blob, sha

from regview.server.config import ServerConfig
from regview.server.registry.registry import Registry
from regview.server.v2.app import create_app

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
path_text = st.text(alphabet=st.sampled_from("abcAZ09-_.:/%@+ ~!?#\\"), min_size=0, max_size=40)


def assert_store_consistent(registry: Registry) -> None:
    for digest, _size in registry.store.all_blobs():
        data = registry.store.path(digest).read_bytes()
        assert hashlib.new(digest.algorithm, data).hexdigest() == digest.encoded


def make_client(registry: Registry) -> httpx.AsyncClient:
    app = create_app(ServerConfig(registry.data_dir), registry=registry, online_gc=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")


@SETTINGS
@given(
    name=path_text,
    ref=path_text,
    method=st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"]),
)
async def test_no_500_for_any_path(tmp_path: Path, name: str, ref: str, method: str) -> None:
    registry = Registry(tmp_path / "d")
    try:
        async with make_client(registry) as c:
            for kind in ("manifests", "blobs", "tags", "referrers", "blobs/uploads"):
                r = await c.request(method, f"/v2/{name}/{kind}/{ref}", content=b"{}")
                assert r.status_code < 500, (method, name, kind, ref, r.text)
    finally:
        registry.close()


@SETTINGS
@given(
    data=st.binary(max_size=300),
    header=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
        st.builds(
            lambda a, b: f"bytes={a}-{b}",
            st.one_of(st.just(""), st.integers(0, 400).map(str)),
            st.one_of(st.just(""), st.integers(0, 400).map(str)),
        ),
    ),
)
async def test_ranges_never_500_and_bytes_are_right(
    tmp_path: Path, data: bytes, header: str
) -> None:
    registry = Registry(tmp_path / "d")
    try:
        async with make_client(registry) as c:
            digest = await push_blob(c, "r/x", data)
            r = await c.get(f"/v2/r/x/blobs/{digest}", headers={"Range": header})
            assert r.status_code in (200, 206, 416)
            if r.status_code == 200:
                assert r.content == data
            elif r.status_code == 206:
                span = r.headers["Content-Range"].split(" ")[1].split("/")[0]
                start, end = (int(x) for x in span.split("-"))
                assert r.content == data[start : end + 1]
    finally:
        registry.close()


upload_step = st.one_of(
    st.tuples(st.just("patch"), st.binary(max_size=50), st.integers(-5, 200), st.booleans()),
    st.tuples(st.just("get"), st.just(b""), st.just(0), st.just(False)),
    st.tuples(st.just("put"), st.binary(max_size=20), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("delete"), st.just(b""), st.just(0), st.just(False)),
)


@SETTINGS
@given(steps=st.lists(upload_step, max_size=8))
async def test_upload_sequences(tmp_path: Path, steps: list[tuple[str, bytes, int, bool]]) -> None:
    registry = Registry(tmp_path / "d")
    try:
        async with make_client(registry) as c:
            location = (await c.post("/v2/u/p/blobs/uploads/")).headers["Location"]
            sent = b""
            for op, body, number, flag in steps:
                if op == "patch":
                    headers = (
                        {"Content-Range": f"{number}-{number + len(body) - 1}"} if flag else {}
                    )
                    r = await c.patch(location, content=body, headers=headers)
                    if r.status_code == 202:
                        sent += body
                elif op == "get":
                    r = await c.get(location)
                elif op == "delete":
                    r = await c.delete(location)
                else:
                    # number 0: the right digest, else a wrong one
                    whole = sent + body
                    digest = sha(whole) if number == 0 else sha(whole + b"x")
                    r = await c.put(f"{location}?digest={digest}", content=body)
                    if r.status_code == 201:
                        got = await c.get(f"/v2/u/p/blobs/{digest}")
                        assert got.content == whole
                assert r.status_code < 500, (op, r.text)
            assert_store_consistent(registry)
    finally:
        registry.close()


@SETTINGS
@given(raw=st.text(max_size=80))
async def test_digest_parameters_never_500(tmp_path: Path, raw: str) -> None:
    registry = Registry(tmp_path / "d")
    try:
        async with make_client(registry) as c:
            r = await c.post("/v2/a/b/blobs/uploads/", params={"digest": raw}, content=b"x")
            assert r.status_code < 500
            r = await c.post("/v2/a/b/blobs/uploads/", params={"mount": raw, "from": raw})
            assert r.status_code < 500
            r = await c.put(
                "/v2/a/b/manifests/t",
                content=raw.encode(),
                headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
            )
            assert r.status_code < 500
            assert_store_consistent(registry)
    finally:
        registry.close()
