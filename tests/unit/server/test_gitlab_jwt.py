"""Registry JWTs: libtrust kid, signing key kept on disk, the realm cutting scopes down, and the
/v2 authorizer's challenges."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regview.server.auth import Access
from regview.server.errors import AccessDenied, AuthenticationRequired
from regview.server.gitlab.auth import GitLabAuthorizer
from regview.server.gitlab.jwt_service import (
    CERT_FILE,
    KEY_FILE,
    Scope,
    TokenInvalid,
    TokenSigner,
    libtrust_kid,
    parse_scopes,
    realm_route,
)
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import RegistryAccess, Role, TokenKind, Visibility


def test_kid_is_libtrust_form(tmp_path: Path) -> None:
    signer = TokenSigner.load_or_create(tmp_path)
    der = signer.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    assert signer.kid.replace(":", "") == b32  # 30 bytes → 48 chars, no padding
    groups = signer.kid.split(":")
    assert len(groups) == 12 and all(len(g) == 4 for g in groups)
    assert libtrust_kid(signer.public_key) == signer.kid


def test_key_and_certificate_persist(tmp_path: Path) -> None:
    first = TokenSigner.load_or_create(tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    cert = x509.load_pem_x509_certificate((tmp_path / CERT_FILE).read_bytes())
    assert cert.public_key() == first.public_key
    again = TokenSigner.load_or_create(tmp_path)
    assert again.kid == first.kid
    token = first.issue("alice", [Scope("repository", "a/b", ("pull",))])
    assert again.verify(token) == ("alice", [Scope("repository", "a/b", ("pull",))])


def test_claims_follow_the_token_spec(tmp_path: Path) -> None:
    signer = TokenSigner.load_or_create(tmp_path, ttl=300)
    now = datetime.now(UTC)
    token = signer.issue("alice", [Scope("repository", "a/b", ("pull", "push"))], now=now)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": signer.kid, "typ": "JWT"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "gitlab-issuer" and claims["aud"] == "container_registry"
    assert claims["sub"] == "alice" and claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] <= claims["iat"] and len(claims["jti"]) >= 16
    assert claims["access"] == [{"type": "repository", "name": "a/b", "actions": ["pull", "push"]}]


def test_expired_forged_and_foreign_tokens_are_refused(tmp_path: Path) -> None:
    signer = TokenSigner.load_or_create(tmp_path / "a", ttl=1)
    old = signer.issue("alice", [], now=datetime.now(UTC) - timedelta(seconds=10))
    with pytest.raises(TokenInvalid, match="expired"):
        signer.verify(old)
    other = TokenSigner.load_or_create(tmp_path / "b")
    with pytest.raises(TokenInvalid):
        signer.verify(other.issue("alice", []))
    with pytest.raises(TokenInvalid):
        signer.verify("not-a-jwt")
    wrong_aud = TokenSigner(signer.key, signer.certificate, service="other")
    with pytest.raises(TokenInvalid):
        signer.verify(wrong_aud.issue("alice", []))


def test_scope_parsing_keeps_ports_and_splits_spaces() -> None:
    got = parse_scopes(
        ["repository:localhost:5000/a/b:pull,push registry:catalog:*", "repository:x/y:*", "bad"]
    )
    assert got == [
        Scope("repository", "localhost:5000/a/b", ("pull", "push")),
        Scope("registry", "catalog", ("*",)),
        Scope("repository", "x/y", ("*",)),
    ]


# --- the realm over HTTP (in-process) --------------------------------------------------------


def _client(app: Starlette, base_url: str = "http://127.0.0.1:5999") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[GitLabStore, TokenSigner, httpx.AsyncClient]]:
    store = GitLabStore(tmp_path)
    signer = TokenSigner.load_or_create(tmp_path, ttl=300)
    store.add_user("alice")
    store.add_user("root", admin=True)
    store.add_project("acme/public", Visibility.PUBLIC)
    store.add_project("acme/secret", Visibility.PRIVATE)
    store.add_project("acme/off", Visibility.PUBLIC, RegistryAccess.DISABLED)
    store.add_member("acme/secret", "alice", Role.REPORTER)
    app = Starlette(routes=[realm_route(store, signer)])
    yield store, signer, _client(app)
    store.close()


async def _token(
    client: httpx.AsyncClient, signer: TokenSigner, scopes: list[str], auth: tuple[str, str] | None
) -> list[Scope]:
    r = await client.get(
        "/jwt/auth", params={"service": "container_registry", "scope": scopes}, auth=auth
    )
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"token"}  # GitLab answers only the token
    return signer.verify(r.json()["token"])[1]


async def test_realm_cuts_scopes_down(
    world: tuple[GitLabStore, TokenSigner, httpx.AsyncClient],
) -> None:
    store, signer, client = world
    _, secret = store.add_token(
        TokenKind.PERSONAL, username="alice", scopes={"read_registry", "write_registry"}
    )
    asked = [
        "repository:acme/public/web:pull,push",
        "repository:acme/secret:pull,push,delete",
        "repository:acme/off:pull",
        "repository:nowhere/x:pull",
        "registry:catalog:*",
    ]
    assert await _token(client, signer, asked, ("alice", secret)) == [
        Scope("repository", "acme/public/web", ("pull",)),
        Scope("repository", "acme/secret", ("pull",)),
    ]
    assert await _token(client, signer, asked, None) == [
        Scope("repository", "acme/public/web", ("pull",))
    ]
    _, root = store.add_token(TokenKind.PERSONAL, username="root", scopes={"api"})
    assert await _token(
        client, signer, ["repository:acme/secret:*", "registry:catalog:*"], ("root", root)
    ) == [
        Scope("repository", "acme/secret", ("pull", "push", "delete")),
        Scope("registry", "catalog", ("*",)),
    ]


async def test_realm_refuses_bad_logins(
    world: tuple[GitLabStore, TokenSigner, httpx.AsyncClient],
) -> None:
    store, _, client = world
    params = {"service": "container_registry", "scope": "repository:acme/public:pull"}
    r = await client.get("/jwt/auth", params=params, auth=("alice", "glpat-wrong"))
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert r.json()["errors"][0]["message"].startswith("HTTP Basic: Access denied")
    dep, dsecret = store.add_token(
        TokenKind.DEPLOY, scopes={"read_registry"}, project="acme/secret"
    )
    assert (
        await client.get("/jwt/auth", params=params, auth=("alice", dsecret))
    ).status_code == 401
    assert (
        await client.get("/jwt/auth", params=params, auth=(dep.username, dsecret))
    ).status_code == 200
    _, jsecret = store.add_token(TokenKind.JOB, username="alice", project="acme/secret")
    assert (
        await client.get("/jwt/auth", params=params, auth=("alice", jsecret))
    ).status_code == 401
    assert (
        await client.get("/jwt/auth", params=params, auth=("gitlab-ci-token", jsecret))
    ).status_code == 200
    _, nosc = store.add_token(TokenKind.PERSONAL, username="alice", scopes=set())
    r = await client.get("/jwt/auth", params=params, auth=("alice", nosc))
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
    tok, secret = store.add_token(TokenKind.PERSONAL, username="alice", scopes={"read_registry"})
    store.revoke_token(tok.id)
    assert (await client.get("/jwt/auth", params=params, auth=("alice", secret))).status_code == 401
    assert (await client.get("/jwt/auth", params={"service": "other"})).status_code == 404


# --- the /v2 authorizer ----------------------------------------------------------------------


def _authorizer_app(authz: GitLabAuthorizer, access: list[Access]) -> Starlette:
    async def endpoint(request: Request) -> Response:
        try:
            principal = await authz.authorize(request, access)
        except AuthenticationRequired as exc:
            return JSONResponse(exc.body(), 401, exc.headers)
        except AccessDenied as exc:
            return JSONResponse(exc.body(), 403)
        return JSONResponse({"name": principal.name})

    return Starlette(routes=[Route("/v2/x", endpoint)])


async def test_authorizer_challenges(tmp_path: Path) -> None:
    signer = TokenSigner.load_or_create(tmp_path, ttl=300)
    authz = GitLabAuthorizer(signer)
    push = [Access("repository", "acme/app", ("pull", "push"))]
    client = _client(_authorizer_app(authz, push))
    realm = 'Bearer realm="http://127.0.0.1:5999/jwt/auth",service="container_registry"'
    scope = ',scope="repository:acme/app:pull,push"'

    r = await client.get("/v2/x")
    assert r.status_code == 401 and r.headers["www-authenticate"] == realm + scope
    r = await client.get("/v2/x", auth=("alice", "secret"))  # Basic is not accepted on /v2
    assert r.status_code == 401 and "error=" not in r.headers["www-authenticate"]

    expired = signer.issue("alice", [], now=datetime.now(UTC) - timedelta(hours=1))
    r = await client.get("/v2/x", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == realm + scope + ',error="invalid_token"'

    other = signer.issue("alice", [Scope("repository", "acme/other", ("pull", "push"))])
    r = await client.get("/v2/x", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == realm + scope + ',error="insufficient_scope"'

    read_only = signer.issue("alice", [Scope("repository", "acme/app", ("pull",))])
    r = await client.get("/v2/x", headers={"Authorization": f"Bearer {read_only}"})
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"

    full = signer.issue("alice", [Scope("repository", "acme/app", ("pull", "push"))])
    r = await client.get("/v2/x", headers={"Authorization": f"Bearer {full}"})
    assert r.status_code == 200 and r.json() == {"name": "alice"}
    star = signer.issue("bob", [Scope("repository", "acme/app", ("*",))])
    assert (
        await client.get("/v2/x", headers={"Authorization": f"Bearer {star}"})
    ).status_code == 200


async def test_a_token_stops_working_when_it_expires(tmp_path: Path) -> None:
    # exp is whole seconds (exp - iat == ttl, as GitLab): a token issued late in a second lives
    # up to a second less than its ttl, so 3 s leave the first request 2 s even on a loaded CI
    signer = TokenSigner.load_or_create(tmp_path, ttl=3)
    base = [Access("repository", "a/b", ("pull",))]
    client = _client(_authorizer_app(GitLabAuthorizer(signer), base))
    token = signer.issue("alice", [Scope("repository", "a/b", ("pull",))])
    assert (
        await client.get("/v2/x", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.1)
    r = await client.get("/v2/x", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_realm_has_no_oauth_post(
    world: tuple[GitLabStore, TokenSigner, httpx.AsyncClient],
) -> None:
    _, _, client = world
    r = await client.post(
        "/jwt/auth", data={"grant_type": "password", "service": "container_registry"}
    )
    assert r.status_code == 404  # clients fall back to GET
