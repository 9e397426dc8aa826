"""Issue 12 item 9: careless input and registries answering nonsense, against the real `regview`
CLI run as a subprocess. Every case gets one line on stderr that says what went wrong and what to
do, the documented exit code, and no traceback; wrong results (a listing made of a string's
letters, exit 0 for a tag that does not exist) are errors now.

The misbehaving registry is a small aiohttp server on loopback answering exactly the bytes the
test gives it; TLS cases use `regview serve` with a private CA and Debian's docker-registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from cli_support import Cli, Result
from fault_servers import OCI_MANIFEST, FakeRegistry, TlsFiles, image, make_tls, serve, sha256
from testkit import free_port, v2_status

from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration]

REPO = "team/app"
DEEP = "[" * 3000 + "]" * 3000  # 6 KB of JSON nested 3000 deep


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def host(url: str) -> str:
    return url.split("://", 1)[1]


def one_line(r: Result, code: int, *words: str) -> str:
    """Exit `code`, no traceback, and a `regview:` line on stderr holding every one of `words`."""
    assert r.code == code, (r.code, r.err, r.out)
    assert "Traceback" not in r.err + r.out, r.err
    lines = [ln for ln in r.err.splitlines() if ln.startswith("regview: ")]
    hits = [ln for ln in lines if all(w.lower() in ln.lower() for w in words)]
    assert hits, f"no one line on stderr with {words}: {r.err}"
    return hits[0]


@dataclass
class OddRegistry:
    """/v2/ fine; the catalog, the tag list and the manifest answer the bytes given here."""

    catalog: bytes = b'{"repositories": ["team/app"]}'
    tags: bytes = b'{"name": "team/app", "tags": ["v1"]}'
    manifests: dict[str, bytes] = field(default_factory=dict)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            path = request.path
            if path == "/v2/":
                return web.json_response({})
            if path == "/v2/_catalog":
                return web.Response(body=self.catalog, content_type="application/json")
            if path == f"/v2/{REPO}/tags/list":
                return web.Response(body=self.tags, content_type="application/json")
            ref = path.rsplit("/manifests/", 1)[-1]
            body = self.manifests.get(ref) or next(
                (b for b in self.manifests.values() if sha256(b) == ref), None
            )
            if "/manifests/" not in path or body is None:
                return web.json_response(
                    {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}, status=404
                )
            return web.Response(
                body=b"" if request.method == "HEAD" else body,
                headers={"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": sha256(body)},
            )

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app


@pytest.fixture
def odd() -> Callable[..., Iterator[str]]:
    def start(**answers: object) -> Iterator[str]:
        return serve(OddRegistry(**answers).app)  # type: ignore[arg-type]

    return start


# -- careless arguments -------------------------------------------------------------------------


def test_port_out_of_range_is_a_usage_error(cli: Cli) -> None:
    for args in (("tags", "127.0.0.1:99999/foo"), ("repos", "127.0.0.1:99999")):
        r = cli(*args)
        one_line(r, 2, "127.0.0.1:99999", "port", "65535")
    r = cli("repos", "http://[::1")
    one_line(r, 2, "[::1", "closing bracket")


def test_older_than_beyond_the_calendar(cli: Cli) -> None:
    reg = FakeRegistry()
    reg.add_image("v1")
    with serve(reg.app) as url:
        r = cli(
            "prune",
            f"{host(url)}/{REPO}",
            "--delete-regex",
            ".*",
            "--older-than",
            "99999999999999d",
            "--dry-run",
        )
    one_line(r, 2, "older-than", "99999999999999d", "30d")
    assert not [s for s in reg.seen if s.method == "DELETE"]


def test_keep_file_that_is_binary(cli: Cli, tmp_path: Path) -> None:
    binary = tmp_path / "keep.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(128, 256)))
    zeros = tmp_path / "zeros.bin"
    zeros.write_bytes(bytes(64))
    reg = FakeRegistry()
    reg.add_image("v1")
    with serve(reg.app) as url:
        for source in (str(binary), str(zeros), "-"):
            prune = ["prune", f"{host(url)}/{REPO}", "--delete-regex", ".*", "--dry-run"]
            r = subprocess.run(
                [sys.executable, "-m", "regview", *prune, "--keep-file", source],
                input=binary.read_bytes(),
                capture_output=True,
                env=cli.env,
                timeout=120,
                check=False,
            )
            res = Result(r.returncode, r.stdout.decode(), r.stderr.decode())
            one_line(res, 2, "keep file", "not text")


def test_ca_file_that_is_not_pem(cli: Cli, tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(bytes(range(256)) * 4)
    text = tmp_path / "notes.txt"
    text.write_text("just some notes\n")
    reg = FakeRegistry()
    reg.add_image("v1")
    with serve(reg.app) as url:
        for bad in (not_pem, text):
            r = cli("tags", f"{host(url)}/{REPO}", "--ca-file", str(bad))
            one_line(r, 2, str(bad), "PEM")
        r = cli("tags", f"{host(url)}/{REPO}", "--ca-file", str(tmp_path))
        one_line(r, 2, str(tmp_path), "is not a file")
    assert not reg.seen  # refused before a request was sent


# -- registries answering nonsense ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"tags": 5}', b'{"tags": "nope"}', b'{"tags": {"a": 1}}', b'{"tags": ["v1", 7]}', b"[1]"],
)
def test_tag_list_of_the_wrong_shape(
    cli: Cli, odd: Callable[..., Iterator[str]], body: bytes
) -> None:
    with odd(tags=body) as url:
        r = cli("tags", f"{host(url)}/{REPO}")
    one_line(r, 1, host(url), "tag list", "not a registry listing")
    assert r.out == ""


@pytest.mark.parametrize("body", [b'{"repositories": "nope"}', b'{"repositories": 5}'])
def test_catalog_of_the_wrong_shape(
    cli: Cli, odd: Callable[..., Iterator[str]], body: bytes
) -> None:
    with odd(catalog=body) as url:
        r = cli("repos", host(url))
    one_line(r, 1, host(url), "catalog", '"repositories"')
    assert r.out == ""  # not n, o, p, e


def test_catalog_and_tag_list_nested_deep(cli: Cli, odd: Callable[..., Iterator[str]]) -> None:
    deep = f'{{"repositories": {DEEP}, "tags": {DEEP}}}'.encode()
    with odd(catalog=deep, tags=deep) as url:
        r = cli("repos", host(url))
        one_line(r, 1, host(url), "catalog", "nests deeper")
        r = cli("tags", f"{host(url)}/{REPO}")
        one_line(r, 1, host(url), "tag list", "nests deeper")


def test_manifest_nested_deep(cli: Cli, odd: Callable[..., Iterator[str]]) -> None:
    good, _ = image()
    deep = b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", "x": '
    deep += DEEP.encode() + b"}"
    tags = json.dumps({"name": REPO, "tags": ["good", "deep"]}).encode()
    with odd(tags=tags, manifests={"good": good, "deep": deep}) as url:
        r = cli("tags", f"{host(url)}/{REPO}", "--json")
        assert r.code == 0 and "Traceback" not in r.err, r.err
        assert {row["tag"] for row in r.json()} == {"good", "deep"}
        assert "nests deeper" in r.err
        r = cli("inspect", f"{host(url)}/{REPO}:deep")
        one_line(r, 1, f"{REPO}:deep", "cannot be read", "nests deeper")
        r = cli("rm", f"{host(url)}/{REPO}:deep", "--dry-run")
        assert r.code == 0 and "Traceback" not in r.err, r.err


def test_inspect_of_an_unparseable_manifest_fails(cli: Cli) -> None:
    reg = FakeRegistry()
    reg.add_image("good")
    reg.add_malformed()
    with serve(reg.app) as url:
        r = cli("inspect", f"{host(url)}/{REPO}:broken-json")
        one_line(r, 1, f"{REPO}:broken-json", "cannot be read", "JSON")
        assert "problem" in r.out  # what could be read is still shown
        r = cli("inspect", f"{host(url)}/{REPO}:broken-json", "--json")
        one_line(r, 1, "cannot be read")
        assert r.json()["problem"]
        r = cli("inspect", f"{host(url)}/{REPO}:good")
        assert r.code == 0, r.err


def test_rm_of_a_tag_that_does_not_exist_is_not_found(cli: Cli) -> None:
    reg = FakeRegistry()
    digest = reg.add_image("v1")
    with serve(reg.app) as url:
        for extra in (("--yes",), ("--yes", "--json"), ("--dry-run",)):
            r = cli("rm", f"{host(url)}/{REPO}:nonexistent", *extra)
            one_line(r, 4, "no such tag", "nonexistent")
    # nothing was written, and v1 (the one tag there is) was never touched
    writes = [s for s in reg.seen if s.method in ("PUT", "POST", "PATCH", "DELETE")]
    assert not [s for s in writes if s.method != "DELETE" or s.path.endswith(("/v1", digest))]


# -- a TLS registry on loopback given without https:// -----------------------------------------


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls(tmp_path / "tls")


def test_tls_port_without_https_regview_serve(cli: Cli, tmp_path: Path, tls: TlsFiles) -> None:
    with LocalRegistry(tmp_path / "data", demo=True, tls_cert=tls.cert, tls_key=tls.key) as reg:
        address = f"127.0.0.1:{reg.port}"
        for extra in ((), ("--insecure",)):
            r = cli("repos", address, *extra)
            one_line(r, 1, address, "speaks TLS", f"https://{address}")
        # a CA file means TLS: the same address just works with it
        r = cli("repos", address, "--ca-file", str(tls.ca))
        assert r.code == 0 and "Traceback" not in r.err, r.err
        assert r.out.split()
        r = cli("repos", f"https://{address}", "--ca-file", str(tls.ca))
        assert r.code == 0, r.err


@pytest.mark.needs_tool("docker-registry")
def test_tls_port_without_https_docker_registry(cli: Cli, tmp_path: Path, tls: TlsFiles) -> None:
    port = free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'storage'}}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}, tls: {{certificate: {tls.cert}, key: {tls.key}}}}}\n"
    )
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_tls(port)
        address = f"127.0.0.1:{port}"
        r = cli("tags", f"{address}/{REPO}")  # Go answers 400 "HTTP request to an HTTPS server"
        one_line(r, 1, address, "speaks TLS", f"https://{address}")
        r = cli("tags", f"{address}/{REPO}", "--ca-file", str(tls.ca))
        one_line(r, 4, address, "not found")  # through TLS now: the repository is just empty
    finally:
        proc.terminate()
        proc.wait(10)


def wait_tls(port: int) -> None:
    deadline = time.monotonic() + 20
    while v2_status(f"http://127.0.0.1:{port}") is None:
        assert time.monotonic() < deadline, "docker-registry did not start"
        time.sleep(0.05)
