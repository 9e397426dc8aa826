"""The embedded GitLab instance through real clients: skopeo against `regview serve --auth token`
over loopback. Every row of the seed's visibility table, every token kind pushing and pulling,
scopes enforced, expired and revoked tokens refused, a token refreshed in the middle of a push."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from gitlab_support import gitlab_registry, host_of, refused, try_delete, try_pull, try_push
from support_images import Layout, build_image

from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import RegistryAccess, Role, TokenKind, Visibility
from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]

VIS = ("public", "internal", "private")
ACCESS = ("enabled", "private", "disabled")
# the seed's table: (visibility, access) → pull allowed for (anonymous, guest, reporter)
TABLE = {
    ("public", "enabled"): (True, True, True),
    ("public", "private"): (False, False, True),
    ("internal", "enabled"): (False, True, True),
    ("internal", "private"): (False, False, True),
    ("private", "enabled"): (False, False, True),
    ("private", "private"): (False, False, True),
    ("public", "disabled"): (False, False, False),
    ("internal", "disabled"): (False, False, False),
    ("private", "disabled"): (False, False, False),
}


@dataclass
class Env:
    reg: LocalRegistry
    store: GitLabStore
    host: str
    layout: Layout
    creds: dict[str, tuple[str, str]]
    tmp: Path

    def pat(self, user: str, scopes: set[str], **kw: object) -> tuple[str, str]:
        token, secret = self.store.add_token(TokenKind.PERSONAL, username=user, scopes=scopes, **kw)  # type: ignore[arg-type]
        return token.username, secret


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("gitlab")
    data = tmp / "data"
    store = GitLabStore(data)
    store.add_user("root", admin=True)
    for user in ("guest", "reporter", "dev"):
        store.add_user(user)
    store.add_group("t")
    store.add_group("k")
    for user, role in (("guest", Role.GUEST), ("reporter", Role.REPORTER), ("dev", Role.DEVELOPER)):
        store.add_member("t", user, role)
        store.add_member("k", user, role)
    for vis in VIS:
        for access in ACCESS:
            store.add_project(f"t/{vis}-{access}", Visibility(vis), RegistryAccess.ENABLED)
    store.add_project("k/app", Visibility.PRIVATE)
    store.add_project("k/other", Visibility.PRIVATE)
    store.close()
    layout = build_image(tmp / "img", layer_sizes=[1024], seed=7)
    with gitlab_registry(data) as (reg, admin):
        creds = {
            "root": admin.add_token(TokenKind.PERSONAL, username="root", scopes={"api"})[1],
        }
        e = Env(reg, admin, host_of(reg.url), layout, {}, tmp)
        e.creds["root"] = ("root", creds["root"])
        for user in ("guest", "reporter"):
            e.creds[user] = e.pat(user, {"read_registry"})
        for vis in VIS:
            for access in ACCESS:
                result = try_push(
                    layout.oci_ref, e.host, f"t/{vis}-{access}/img:v1", e.creds["root"]
                )
                assert result.returncode == 0, result.stderr
                if access != "enabled":
                    p = admin.project(f"t/{vis}-{access}")
                    admin.update_project(p.id, registry_access=RegistryAccess(access))
        yield e


@pytest.mark.parametrize(("vis", "access"), list(TABLE))
def test_visibility_table_row(env: Env, vis: str, access: str, tmp_path: Path) -> None:
    anonymous, guest, reporter = TABLE[(vis, access)]
    image = f"t/{vis}-{access}/img:v1"
    for who, expected in (("anonymous", anonymous), ("guest", guest), ("reporter", reporter)):
        creds = None if who == "anonymous" else env.creds[who]
        result = try_pull(env.host, image, tmp_path / who, creds)
        if expected:
            assert result.returncode == 0, f"{who} should pull {image}: {result.stderr}"
        else:
            assert refused(result), f"{who} should be refused {image}: {result.stderr}"


def test_admin_cannot_push_to_a_disabled_registry(env: Env) -> None:
    result = try_push(env.layout.oci_ref, env.host, "t/public-disabled/img:v2", env.creds["root"])
    assert refused(result), result.stderr


def _tokens(env: Env) -> dict[str, tuple[tuple[str, str], bool]]:
    """name → (credentials, may write) for every token kind on project k/app."""
    s = env.store
    out: dict[str, tuple[tuple[str, str], bool]] = {}
    out["personal-rw"] = (env.pat("dev", {"read_registry", "write_registry"}), True)
    out["personal-ro"] = (env.pat("dev", {"read_registry"}), False)
    out["personal-api"] = (env.pat("dev", {"api"}), True)
    for scopes, name in (
        ({"read_registry", "write_registry"}, "deploy-rw"),
        ({"read_registry"}, "deploy-ro"),
    ):
        tok, secret = s.add_token(TokenKind.DEPLOY, scopes=scopes, project="k/app")
        out[name] = ((tok.username, secret), "write_registry" in scopes)
    tok, secret = s.add_token(
        TokenKind.PROJECT,
        username="k-app-bot",
        scopes={"read_registry", "write_registry"},
        project="k/app",
    )
    out["project-rw"] = (("any-name", secret), True)
    tok, secret = s.add_token(
        TokenKind.GROUP, username="k-bot", scopes={"read_registry"}, group="k", role=Role.DEVELOPER
    )
    out["group-ro"] = (("k-bot", secret), False)
    tok, secret = s.add_token(
        TokenKind.GROUP,
        username="k-bot-rw",
        scopes={"read_registry", "write_registry"},
        group="k",
        role=Role.DEVELOPER,
    )
    out["group-rw"] = (("k-bot-rw", secret), True)
    tok, secret = s.add_token(TokenKind.JOB, username="dev", project="k/app")
    out["job"] = (("gitlab-ci-token", secret), True)
    return out


def test_every_token_kind_pushes_pulls_and_deletes_as_its_scopes_allow(
    env: Env, tmp_path: Path
) -> None:
    for name, (creds, writable) in _tokens(env).items():
        image = f"k/app/{name}:v1"
        pushed = try_push(env.layout.oci_ref, env.host, image, creds)
        if writable:
            assert pushed.returncode == 0, f"{name} should push: {pushed.stderr}"
        else:
            assert refused(pushed), f"{name} must not push: {pushed.stderr}"
            assert "denied" in pushed.stderr.lower(), pushed.stderr
            # put something there to pull and (fail to) delete
            assert try_push(env.layout.oci_ref, env.host, image, env.creds["root"]).returncode == 0
        pulled = try_pull(env.host, image, tmp_path / name, creds)
        assert pulled.returncode == 0, f"{name} should pull: {pulled.stderr}"
        deleted = try_delete(env.host, image, creds)
        if writable:
            assert deleted.returncode == 0, f"{name} should delete: {deleted.stderr}"
        else:
            assert refused(deleted), f"{name} must not delete: {deleted.stderr}"


def test_project_bound_tokens_do_not_reach_other_projects(env: Env, tmp_path: Path) -> None:
    s = env.store
    dep, dsecret = s.add_token(
        TokenKind.DEPLOY, scopes={"read_registry", "write_registry"}, project="k/other"
    )
    _, jsecret = s.add_token(TokenKind.JOB, username="dev", project="k/other")
    _, psecret = s.add_token(
        TokenKind.PROJECT, username="other-bot", scopes={"api"}, project="k/other"
    )
    for creds in ((dep.username, dsecret), ("gitlab-ci-token", jsecret), ("bot", psecret)):
        assert refused(try_push(env.layout.oci_ref, env.host, "k/app/stray:v1", creds))
        assert try_push(env.layout.oci_ref, env.host, "k/other/fine:v1", creds).returncode == 0


def test_wrong_user_name_for_deploy_and_job_tokens(env: Env, tmp_path: Path) -> None:
    _, dsecret = env.store.add_token(TokenKind.DEPLOY, scopes={"read_registry"}, project="k/app")
    _, jsecret = env.store.add_token(TokenKind.JOB, username="dev", project="k/app")
    assert refused(
        try_pull(env.host, "t/private-enabled/img:v1", tmp_path / "a", ("someone", dsecret))
    )
    assert refused(try_pull(env.host, "t/private-enabled/img:v1", tmp_path / "b", ("dev", jsecret)))


def test_expired_and_revoked_tokens_are_refused(env: Env, tmp_path: Path) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    expired = env.pat("reporter", {"read_registry"}, expires_at=yesterday)
    tok, secret = env.store.add_token(
        TokenKind.PERSONAL, username="reporter", scopes={"read_registry"}
    )
    image = "t/private-enabled/img:v1"
    assert try_pull(env.host, image, tmp_path / "ok", ("reporter", secret)).returncode == 0
    env.store.revoke_token(tok.id)
    for creds in (expired, ("reporter", secret)):
        result = try_pull(env.host, image, tmp_path / "no", creds)
        assert refused(result), result.stderr
        r = httpx.get(
            f"{env.reg.url}/jwt/auth",
            params={
                "service": "container_registry",
                "scope": "repository:t/private-enabled/img:pull",
            },
            auth=creds,
        )
        assert r.status_code == 401
        assert r.json()["errors"][0]["message"].startswith("HTTP Basic: Access denied")
    # a registry token minted before the revocation stops at its expiry, not before (as GitLab)
    ch = httpx.get(f"{env.reg.url}/v2/{image.split(':')[0]}/tags/list")
    assert ch.status_code == 401
    assert ch.headers["www-authenticate"] == (
        f'Bearer realm="{env.reg.url}/jwt/auth",service="container_registry",'
        'scope="repository:t/private-enabled/img:pull"'
    )


def test_deploy_tokens_cannot_call_the_rest_api(env: Env) -> None:
    _, secret = env.store.add_token(TokenKind.DEPLOY, scopes={"read_registry"}, project="k/app")
    r = httpx.get(f"{env.reg.url}/api/v4/projects/k%2Fapp", headers={"PRIVATE-TOKEN": secret})
    assert r.status_code == 401 and r.json() == {"message": "401 Unauthorized"}
    _, pat = env.pat("dev", {"api"})
    r = httpx.get(f"{env.reg.url}/api/v4/projects/k%2Fapp", headers={"PRIVATE-TOKEN": pat})
    assert r.status_code == 200 and r.json()["path_with_namespace"] == "k/app"


# --- a token that expires in the middle of a push -----------------------------------------------


class SpecClient:
    """A minimal registry client that follows the token spec: on a 401 it asks the realm named
    in the challenge for the challenged scope, and retries the request once."""

    def __init__(self, base: str, creds: tuple[str, str]) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.creds = creds
        self.token: str | None = None
        self.tokens_fetched = 0
        self.refused: list[str] = []

    def _fetch(self, challenge: str) -> None:
        params = dict(
            part.split("=", 1)
            for part in challenge.removeprefix("Bearer ").split('",')
            if "=" in part
        )
        params = {k: v.strip('"') for k, v in params.items()}
        self.refused.append(params.get("error", ""))
        r = httpx.get(
            params["realm"],
            params={"service": params["service"], "scope": params.get("scope", "")},
            auth=self.creds,
        )
        r.raise_for_status()
        self.token = r.json()["token"]
        self.tokens_fetched += 1

    def request(self, method: str, url: str, **kw: object) -> httpx.Response:
        for _ in range(2):
            headers = dict(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            r = self.http.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]
            kw["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if r.status_code != 401:
                return r
            self._fetch(r.headers["www-authenticate"])
        return r


@pytest.mark.slow
def test_a_token_expiring_mid_push_is_refreshed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with gitlab_registry(data, token_ttl=2) as (reg, store):
        store.add_user("dev")
        store.add_project("k/app")
        store.add_member("k/app", "dev", Role.DEVELOPER)
        _, secret = store.add_token(
            TokenKind.PERSONAL, username="dev", scopes={"read_registry", "write_registry"}
        )
        client = SpecClient(reg.url, ("dev", secret))
        try:
            _push_slowly(client)
        finally:
            client.http.close()
        # the push needed fresh tokens after expiry, and the server said why
        assert client.tokens_fetched >= 4
        assert "invalid_token" in client.refused
        assert [t.name for t in reg.registry.list_tags("k/app/big")] == ["v1"]  # type: ignore[union-attr]


def _push_slowly(client: SpecClient) -> None:
    chunks = [bytes([i]) * 100_000 for i in range(3)]
    blob = b"".join(chunks)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    r = client.request("POST", "/v2/k/app/big/blobs/uploads/")
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    offset = 0
    for chunk in chunks:
        r = client.request(
            "PATCH",
            location,
            content=chunk,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            },
        )
        assert r.status_code == 202, r.text
        location = r.headers["Location"]
        offset += len(chunk)
        time.sleep(2.2)  # the token (2 s) expires between chunks
    sep = "&" if "?" in location else "?"
    r = client.request(
        "PUT",
        f"{location}{sep}digest={digest}",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    cdigest = "sha256:" + hashlib.sha256(config).hexdigest()
    r = client.request(
        "POST",
        f"/v2/k/app/big/blobs/uploads/?digest={cdigest}",
        content=config,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": cdigest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest,
                    "size": len(blob),
                }
            ],
        }
    ).encode()
    r = client.request(
        "PUT",
        "/v2/k/app/big/manifests/v1",
        content=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert r.status_code == 201, r.text
