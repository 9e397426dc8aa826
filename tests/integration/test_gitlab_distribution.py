"""Debian's docker-registry (CNCF distribution 2.8) with `auth: token` against regview's GitLab
realm accepts regview's tokens: the realm's certificate as `rootcertbundle`, issuer
`gitlab-issuer`, service `container_registry` — proof that the JWTs follow the token spec."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from distribution import TokenAuth, run_distribution
from gitlab_support import gitlab_registry, refused, try_delete, try_pull, try_push
from support_images import Layout, build_image

from regview.server.gitlab.jwt_service import CERT_FILE
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import Role, TokenKind, Visibility
from regview.server.runner import LocalRegistry

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs_tool("skopeo"),
    pytest.mark.needs_tool("docker-registry"),
]


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
        token_auth = TokenAuth(
            realm=f"{realm.url}/jwt/auth",
            service="container_registry",
            issuer="gitlab-issuer",
            rootcertbundle=data / CERT_FILE,
        )
        with run_distribution(tmp_path / "distribution", token_auth=token_auth) as dist:
            with httpx.Client(timeout=5, trust_env=False) as http:
                refused_v2 = http.get(f"{dist.url}/v2/")
            assert refused_v2.status_code == 401
            challenge = refused_v2.headers["WWW-Authenticate"]
            assert challenge.startswith(f'Bearer realm="{realm.url}/jwt/auth"')
            layout = build_image(tmp_path / "img", layer_sizes=[4096, 2048], seed=3)
            yield Pair(realm, store, dist.host, layout)


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
