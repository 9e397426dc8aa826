"""Debian's docker-registry (CNCF distribution 2.8) with `auth: token` against regview's GitLab
realm accepts regview's tokens: the realm's certificate as `rootcertbundle`, issuer
`gitlab-issuer`, service `container_registry` — proof that the JWTs follow the token spec."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitlab_support import gitlab_registry, refused, try_delete, try_pull, try_push
from support_images import Layout, build_image

from regview.server.gitlab_jwt import CERT_FILE
from regview.server.gitlab_model import GitLabStore
from regview.server.gitlab_perms import Role, TokenKind, Visibility
from regview.server.runner import LocalRegistry

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs_tool("skopeo"),
    pytest.mark.needs_tool("docker-registry"),
]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pair:
    realm: LocalRegistry
    store: GitLabStore
    host: str  # docker-registry's host:port
    layout: Layout


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    data = tmp_path / "gitlab"
    with gitlab_registry(data) as (realm, store):
        root = tmp_path / "distribution"
        root.mkdir()
        port = _free_port()
        config = root / "config.yml"
        config.write_text(
            "\n".join(
                [
                    "version: 0.1",
                    "log:",
                    "  level: error",
                    "  accesslog:",
                    "    disabled: true",
                    "storage:",
                    "  filesystem:",
                    f"    rootdirectory: {root / 'storage'}",
                    "  delete:",
                    "    enabled: true",
                    "http:",
                    f"  addr: 127.0.0.1:{port}",
                    "auth:",
                    "  token:",
                    f"    realm: {realm.url}/jwt/auth",
                    "    service: container_registry",
                    "    issuer: gitlab-issuer",
                    f"    rootcertbundle: {data / CERT_FILE}",
                    "",
                ]
            )
        )
        binary = shutil.which("docker-registry")
        assert binary is not None
        log = (root / "registry.log").open("wb")
        proc = subprocess.Popen(
            [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                    break
                except urllib.error.HTTPError as exc:
                    assert exc.code == 401
                    challenge = exc.headers["WWW-Authenticate"]
                    assert challenge.startswith(f'Bearer realm="{realm.url}/jwt/auth"')
                    break
                except OSError:
                    assert proc.poll() is None, (root / "registry.log").read_text()
                    assert time.monotonic() < deadline, "docker-registry did not start"
                    time.sleep(0.05)
            layout = build_image(tmp_path / "img", layer_sizes=[4096, 2048], seed=3)
            yield Pair(realm, store, f"127.0.0.1:{port}", layout)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def test_docker_registry_accepts_regview_tokens(pair: Pair, tmp_path: Path) -> None:
    s = pair.store
    s.add_user("dev")
    s.add_user("reader")
    s.add_project("acme/app", Visibility.PRIVATE)
    s.add_project("acme/pub", Visibility.PUBLIC)
    s.add_member("acme", "dev", Role.DEVELOPER)
    s.add_member("acme", "reader", Role.REPORTER)
    _, rw = s.add_token(
        TokenKind.PERSONAL, username="dev", scopes={"read_registry", "write_registry"}
    )
    _, ro = s.add_token(TokenKind.PERSONAL, username="reader", scopes={"read_registry"})
    dep, dsecret = s.add_token(
        TokenKind.DEPLOY, scopes={"read_registry", "write_registry"}, project="acme/app"
    )
    dev, reader, deploy = ("dev", rw), ("reader", ro), (dep.username, dsecret)
    layout, host = pair.layout, pair.host

    for image, creds in (("acme/app/web:v1", dev), ("acme/pub:v1", dev), ("acme/app:v1", deploy)):
        result = try_push(layout.oci_ref, host, image, creds)
        assert result.returncode == 0, result.stderr
    assert try_pull(host, "acme/app/web:v1", tmp_path / "r", reader).returncode == 0
    assert try_pull(host, "acme/app:v1", tmp_path / "d", deploy).returncode == 0
    assert try_pull(host, "acme/pub:v1", tmp_path / "a", None).returncode == 0
    assert refused(try_pull(host, "acme/app/web:v1", tmp_path / "x", None))
    assert refused(try_push(layout.oci_ref, host, "acme/app/web:v2", reader))
    assert refused(try_push(layout.oci_ref, host, "other/thing:v1", dev))  # no such project
    assert refused(try_delete(host, "acme/app/web:v1", reader))
    result = try_delete(host, "acme/app/web:v1", dev)
    assert result.returncode == 0, result.stderr
    gone = try_pull(host, "acme/app/web:v1", tmp_path / "gone", dev)
    assert gone.returncode != 0 and "manifest unknown" in gone.stderr.lower(), gone.stderr
