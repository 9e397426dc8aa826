"""Hypothesis over what a registry may answer, against the CLI's commands: never a traceback.

One small aiohttp registry on loopback answers whatever the example says for the catalog, the tag
list, the manifest and the config blob: arbitrary JSON (nested, wrong types, manifest-shaped with
fields swapped for anything), deep nesting and raw bytes. `repos`, `tags`, `inspect` and
`rm --dry-run` run in-process through `regview.cli.main.run` (a subprocess per example would take
minutes): an exception escaping `run` is what a user sees as a traceback, so the property is
simply that `run` returns a documented exit code. The listings also have an oracle: a list of
names is listed exactly, anything else is exit 1 with nothing on stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from fault_servers import OCI_CONFIG, OCI_MANIFEST, serve, sha256
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from regview.cli import main as cli_main
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json

pytestmark = [pytest.mark.integration]

REPO = "team/app"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
KEYS = [
    *("schemaVersion", "mediaType", "config", "layers", "manifests", "digest", "size"),
    *("platform", "annotations", "subject", "artifactType", "tags", "repositories", "created"),
    *("architecture", "os", "variant", "rootfs", "history", "urls", "name"),
]
DOCUMENTED = {0, 1, 2, 3, 4, 5}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([OCI_MANIFEST, OCI_INDEX, OCI_CONFIG, "sha256:" + "a" * 64, "", "-1"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=24,
)


def descriptor(media_type: str, body: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(body), "size": len(body)}


CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-05-01T10:00:00Z"})


@st.composite
def manifest_like(draw: st.DrawFn) -> Any:
    """A well-formed image manifest or index with some fields replaced by anything."""
    good: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": draw(st.sampled_from([OCI_MANIFEST, OCI_INDEX])),
        "config": descriptor(OCI_CONFIG, CONFIG.encode()),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", b"x")],
        "manifests": [{**descriptor(OCI_MANIFEST, b"{}"), "platform": {"os": "linux"}}],
    }
    for key in draw(st.lists(st.sampled_from([*sorted(good), "subject", "annotations"]))):
        good[key] = draw(values)
    return good


def deep(depth: int) -> bytes:
    return b'{"tags": ' + b"[" * depth + b"]" * depth + b"}"


bodies = st.one_of(
    values.map(lambda v: json.dumps(v).encode()),
    manifest_like().map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    (st.sampled_from([65, 1200, 5000]) | st.integers(min_value=60, max_value=3000)).map(deep),
)


@dataclass
class Answers:
    catalog: bytes = b"{}"
    tags: bytes = b"{}"
    manifest: bytes = b"{}"
    config: bytes = CONFIG.encode()
    tags_status: int = 200
    #: with a token answer, every /v2/ request without a Bearer token gets a 401 challenge
    #: naming /token, which answers these bytes
    token: bytes | None = None
    seen: list[str] = field(default_factory=list, repr=False)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            path = request.path
            self.seen.append(f"{request.method} {path}")
            if path == "/token":
                return web.Response(body=self.token or b"", content_type="application/json")
            if self.token is not None and "Bearer" not in request.headers.get("Authorization", ""):
                realm = f"http://{request.host}/token"
                return web.json_response(
                    {"errors": [{"code": "UNAUTHORIZED", "message": "token needed"}]},
                    status=401,
                    headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="odd"'},
                )
            if path == "/v2/":
                return web.json_response({})
            if path == "/v2/_catalog":
                return web.Response(body=self.catalog, content_type="application/json")
            if path == f"/v2/{REPO}/tags/list":
                return web.Response(
                    body=self.tags, status=self.tags_status, content_type="application/json"
                )
            if path.startswith(f"/v2/{REPO}/manifests/"):
                body = self.manifest
                return web.Response(
                    body=b"" if request.method == "HEAD" else body,
                    headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": sha256(body)},
                )
            if path.startswith(f"/v2/{REPO}/blobs/"):
                return web.Response(body=self.config, content_type="application/octet-stream")
            return web.json_response(
                {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]}, status=404
            )

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Answers]]:
    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("HOME", "REGVIEW_BASEDIR", "PYTHON_KEYRING_BACKEND")}
    os.environ.update(
        HOME=str(home),
        REGVIEW_BASEDIR=str(home / "regview"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    answers = Answers()
    try:
        with serve(answers.app) as url:
            yield url.split("://", 1)[1], answers
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main.run(list(argv))
    assert code in DOCUMENTED, (argv, code, err.getvalue())
    if code:
        assert err.getvalue().startswith("regview: ") or "\nregview: " in err.getvalue()
    return code, out.getvalue(), err.getvalue()


def names_in(body: bytes, key: str) -> list[str] | None:
    """The oracle: the names a listing page holds, None when it is not a listing (or nests
    deeper than regview reads any document)."""
    try:
        obj = parse_json(body)
    except SpecError:
        return None
    if not isinstance(obj, dict):
        return None
    names = obj.get(key)
    if names is None:
        return []
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return names
    return None


SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SLOW
@given(body=bodies)
def test_repos_lists_exactly_the_names_or_fails(registry: tuple[str, Answers], body: bytes) -> None:
    address, answers = registry
    answers.catalog = body
    code, out, _ = run("repos", address, "--json")
    want = names_in(body, "repositories")
    if want is None:
        assert code == 1 and out == ""
    else:
        assert code == 0
        assert {r["path"] for r in json.loads(out)} == set(want)


@SLOW
@given(body=bodies, status=st.sampled_from([200, 200, 400, 403, 404]))
def test_tags_lists_exactly_the_names_or_fails(
    registry: tuple[str, Answers], body: bytes, status: int
) -> None:
    address, answers = registry
    answers.tags, answers.tags_status = body, status
    answers.manifest = json.dumps({"schemaVersion": 2}).encode()
    code, out, _ = run("tags", f"{address}/{REPO}", "--json")
    want = names_in(body, "tags")
    if status != 200:  # an error answer, whatever its body: the status decides
        assert code == {400: 1, 403: 3, 404: 4}[status] and out == ""
    elif want is None:
        assert code == 1 and out == ""
    else:
        assert code == 0
        assert sorted(row["tag"] for row in json.loads(out)) == sorted(want)


@SLOW
@given(manifest=bodies, config=bodies)
def test_manifest_and_config_answers(
    registry: tuple[str, Answers], manifest: bytes, config: bytes
) -> None:
    address, answers = registry
    answers.tags, answers.tags_status = b'{"tags": ["t"]}', 200
    answers.manifest, answers.config = manifest, config
    answers.seen.clear()
    code, out, _ = run("tags", f"{address}/{REPO}", "--json")
    assert code == 0 and [row["tag"] for row in json.loads(out)] == ["t"]
    code, out, _ = run("inspect", f"{address}/{REPO}:t", "--json")
    assert code in (0, 1)
    if code == 0 or out:  # refused outright (an HTML page) prints nothing on stdout
        assert json.loads(out)["digest"] == sha256(manifest)
    code, _, _ = run("rm", f"{address}/{REPO}:t", "--dry-run")
    assert code in (0, 1)
    writes = [s for s in answers.seen if s.split()[0] in ("PUT", "POST", "PATCH", "DELETE")]
    # (the delete-support probe DELETEs a digest that does not exist: issue 18's business)
    assert not [
        s for s in writes if not s.startswith("DELETE") or s.endswith((sha256(manifest), "/t"))
    ]


@SLOW
@given(token=bodies | values.map(lambda v: json.dumps({"token": v, "expires_in": v}).encode()))
# a token no header can carry: a UnicodeEncodeError traceback once request headers were ASCII
@example(token=b'{"token":"\\u0080","":""}')
def test_token_service_answers(registry: tuple[str, Answers], token: bytes) -> None:
    address, answers = registry
    answers.tags, answers.tags_status, answers.token = b'{"tags": []}', 200, token
    try:
        code, out, _ = run("tags", f"{address}/{REPO}", "--json")
    finally:
        answers.token = None
    assert code in (0, 1, 3)
    if code == 0:
        assert json.loads(out) == []
