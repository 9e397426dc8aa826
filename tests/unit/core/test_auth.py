"""The auth flow over MockTransport: challenges, token requests, caching, refresh, host rules."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from regview.core import errors as E
from regview.core.client.auth import parse_www_authenticate, scope_for
from regview.core.client.client import RegistryClient
from regview.core.model import CredentialKind, Credentials, Endpoint

REG = "https://registry.example"
REALM = "https://auth.example/token"
CHALLENGE = f'Bearer realm="{REALM}",service="registry.example"'


def test_challenge_with_commas_inside_quoted_scope() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="reg",'
        'scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"'
    )
    [c] = parse_www_authenticate(header)
    assert c.scheme == "bearer"
    assert c.realm == "https://auth.example/token"
    assert c.scopes == ["repository:a/b:pull,push", "repository:c:pull"]
    assert c.params["error"] == "insufficient_scope"


def test_two_challenges_and_escapes() -> None:
    out = parse_www_authenticate('Basic realm="a \\"q\\" b", Bearer realm="https://x/t",service=s')
    assert [c.scheme for c in out] == ["basic", "bearer"]
    assert out[0].realm == 'a "q" b'
    assert out[1].service == "s"


def test_scope_from_path_and_method() -> None:
    url = httpx.URL(f"{REG}/v2/group/app/manifests/v1")
    assert scope_for("GET", url) == {("repository", "group/app"): frozenset({"pull"})}
    assert scope_for("DELETE", url) == {("repository", "group/app"): frozenset({"delete"})}
    assert scope_for("PUT", url) == {("repository", "group/app"): frozenset({"pull", "push"})}
    up = httpx.URL(f"{REG}/v2/a/b/blobs/uploads/?mount=sha256:x&from=other/repo")
    assert scope_for("POST", up)[("repository", "other/repo")] == frozenset({"pull"})
    assert scope_for("GET", httpx.URL(f"{REG}/v2/_catalog?n=10")) == {
        ("registry", "catalog"): frozenset({"*"})
    }


class TokenServer:
    """A registry that wants Bearer tokens and a realm that issues them."""

    def __init__(self, lifetime: float | None = 300, post: str = "404") -> None:
        self.lifetime = lifetime
        self.post = post
        self.issued: list[httpx.Request] = []
        self.valid: set[str] = set()
        self.registry_requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            if request.method == "POST" and self.post == "404":
                return httpx.Response(404)
            self.issued.append(request)
            token = f"tok{len(self.issued)}"
            self.valid.add(token)
            body: dict[str, object] = {"token": token}
            if self.lifetime is not None:
                body["expires_in"] = self.lifetime
            return httpx.Response(200, json=body)
        self.registry_requests.append(request)
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": CHALLENGE + ',scope="repository:acme/app:pull"'},
                json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            )
        return httpx.Response(200, json={"name": "acme/app", "tags": ["v1"]})


def client(server: TokenServer, creds: Credentials | None = None, **kw: object) -> RegistryClient:
    return RegistryClient(
        Endpoint(REG),
        creds,
        transport=httpx.MockTransport(server.handler),
        **kw,  # type: ignore[arg-type]
    )


async def test_bearer_get_with_basic_credentials_then_cached() -> None:
    server = TokenServer()
    async with client(server, Credentials("alice", "pw")) as c:
        for _ in range(5):
            assert await c.list_tags("acme/app") == ["v1"]
    assert len(server.issued) == 1  # one token for all five
    req = server.issued[0]
    assert req.method == "GET"
    assert req.url.params.get_list("scope") == ["repository:acme/app:pull"]
    assert req.url.params["service"] == "registry.example"
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"alice:pw").decode()
    # first request challenged, the other four carried the cached token up front
    assert len(server.registry_requests) == 6


async def test_oauth_post_falls_back_to_get_on_404() -> None:
    server = TokenServer(post="404")
    creds = Credentials("<token>", "refresh-me", CredentialKind.IDENTITY)
    async with client(server, creds) as c:
        await c.list_tags("acme/app")
    assert [r.method for r in server.issued] == ["GET"]


async def test_oauth_post_refresh_token_grant() -> None:
    server = TokenServer(post="ok")
    creds = Credentials("<token>", "refresh-me", CredentialKind.IDENTITY)
    async with client(server, creds) as c:
        await c.list_tags("acme/app")
    [req] = server.issued
    assert req.method == "POST"
    form = dict(x.split("=", 1) for x in req.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "refresh-me"
    assert form["scope"] == "repository%3Aacme%2Fapp%3Apull"


async def test_scopes_merge_per_repository() -> None:
    server = TokenServer()
    async with client(server, Credentials("alice", "pw")) as c:
        await c.list_tags("acme/app")
        await c.auth.token({("repository", "acme/app"): frozenset({"delete"})})
    scopes = [r.url.params.get_list("scope") for r in server.issued]
    assert scopes[-1] == ["repository:acme/app:delete,pull"]


async def test_refresh_before_expiry_with_a_fake_clock() -> None:
    server = TokenServer(lifetime=10)
    now = [1000.0]
    async with client(server, Credentials("alice", "pw")) as c:
        c.auth.clock = lambda: now[0]
        await c.list_tags("acme/app")
        now[0] += 5  # well inside the lifetime
        await c.list_tags("acme/app")
        assert len(server.issued) == 1
        now[0] += 4.5  # within the refresh margin (20 % of 10 s): fetched anew, no 401
        before = len(server.registry_requests)
        await c.list_tags("acme/app")
        assert len(server.issued) == 2
        assert len(server.registry_requests) == before + 1


async def test_refresh_on_401_when_the_registry_revokes_a_token() -> None:
    server = TokenServer()
    async with client(server, Credentials("alice", "pw")) as c:
        await c.list_tags("acme/app")
        server.valid.clear()  # the registry forgets every token
        assert await c.list_tags("acme/app") == ["v1"]
    assert len(server.issued) == 2


async def test_lifetime_from_jwt_exp_when_expires_in_is_missing() -> None:
    exp = int(time.time()) + 120
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    jwt_like = f"eyJhbGciOiJub25lIn0.{payload}.sig"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            return httpx.Response(200, json={"token": jwt_like})
        if request.headers.get("Authorization") == f"Bearer {jwt_like}":
            return httpx.Response(200, json={"tags": []})
        return httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE})

    async with RegistryClient(Endpoint(REG), transport=httpx.MockTransport(handler)) as c:
        await c.list_tags("acme/app")
        token = next(iter(c.auth._tokens.values()))
    assert 110 < token.lifetime <= 121


async def test_missing_lifetime_means_60_seconds() -> None:
    server = TokenServer(lifetime=None)
    async with client(server) as c:
        await c.list_tags("acme/app")
        token = next(iter(c.auth._tokens.values()))
    assert token.lifetime == 60


@pytest.mark.parametrize(
    ("realm", "reason"),
    [
        ("http://auth.example/token", "plain http"),
        ("https://user:pw@auth.example/token", "username or password"),
        ("ftp://auth.example/token", "not an http"),
    ],
)
async def test_realm_validation(realm: str, reason: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "registry.example", "never contact a rejected realm"
        return httpx.Response(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})

    async with RegistryClient(
        Endpoint(REG), Credentials("alice", "pw"), transport=httpx.MockTransport(handler)
    ) as c:
        with pytest.raises(E.RealmRejected, match=reason):
            await c.list_tags("acme/app")


async def test_http_realm_allowed_for_a_loopback_http_registry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"token": "t"})
        if request.headers.get("Authorization") == "Bearer t":
            return httpx.Response(200, json={"tags": ["a"]})
        return httpx.Response(
            401, headers={"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:9/token"'}
        )

    async with RegistryClient(
        Endpoint("http://127.0.0.1:5000"), transport=httpx.MockTransport(handler)
    ) as c:
        assert await c.list_tags("x") == ["a"]


async def test_no_authorization_to_another_host_on_redirect() -> None:
    seen: list[tuple[str, str | None]] = []
    blob = b"config-bytes"
    digest = "sha256:" + __import__("hashlib").sha256(blob).hexdigest()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("Authorization")))
        if request.url.host == "auth.example":
            return httpx.Response(200, json={"token": "secret-token"})
        if request.url.host == "storage.example":
            return httpx.Response(200, content=blob)
        if request.headers.get("Authorization") != "Bearer secret-token":
            return httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE})
        return httpx.Response(307, headers={"Location": "https://storage.example/b?sig=1"})

    async with RegistryClient(
        Endpoint(REG), Credentials("a", "b"), transport=httpx.MockTransport(handler)
    ) as c:
        assert await c.get_blob_bytes("acme/app", digest) == blob
    assert ("storage.example", None) in seen
    assert all(auth is None for host, auth in seen if host == "storage.example")


async def test_basic_challenge_sends_basic_and_stops_on_refusal() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("Authorization"))
        return httpx.Response(
            401,
            headers={"WWW-Authenticate": 'Basic realm="reg"'},
            json={"errors": [{"code": "UNAUTHORIZED", "message": "HTTP Basic: Access denied"}]},
        )

    async with RegistryClient(
        Endpoint(REG), Credentials("alice", "wrong"), transport=httpx.MockTransport(handler)
    ) as c:
        with pytest.raises(E.AuthenticationFailed) as info:
            await c.list_tags("acme/app")
    assert calls == [None, "Basic " + base64.b64encode(b"alice:wrong").decode()]
    assert "registry.example" in info.value.message
    assert "wrong" not in info.value.message


async def test_token_service_refusing_credentials_is_explained() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            return httpx.Response(401, json={"details": "denied"})
        return httpx.Response(401, headers={"WWW-Authenticate": CHALLENGE})

    async with RegistryClient(
        Endpoint(REG), Credentials("alice", "pw"), transport=httpx.MockTransport(handler)
    ) as c:
        with pytest.raises(E.AuthenticationFailed, match="read_registry"):
            await c.ping()


def test_plain_http_refused_for_remote_hosts() -> None:
    with pytest.raises(E.InsecureRefused, match="mark the registry insecure"):
        RegistryClient(Endpoint("http://registry.example"))
    RegistryClient(Endpoint("http://registry.example", insecure=True))


class RefusingServer(TokenServer):
    """Refuses the tokens numbered in `dead` (401 invalid_token, as a registry does with a
    revoked or expired token); `scope_error` refuses with insufficient_scope instead."""

    def __init__(self, dead: set[int], scope_error: bool = False) -> None:
        super().__init__()
        self.dead = dead
        self.scope_error = scope_error

    def handler(self, request: httpx.Request) -> httpx.Response:
        answer = super().handler(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if request.url.host == "auth.example" or not token.startswith("tok"):
            return answer
        if int(token[3:]) in self.dead:
            error = "insufficient_scope" if self.scope_error else "invalid_token"
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": CHALLENGE + f',error="{error}"'},
                json={"errors": [{"code": "UNAUTHORIZED", "message": "token expired"}]},
            )
        return answer


async def test_a_token_refused_as_soon_as_it_is_issued_is_replaced_once_more() -> None:
    # A 500-tag delete under token faults (test_delete_faults_auth) lost items this way: the
    # cached token was revoked (401), and the one fetched for the retry was declared dead by
    # another request's 401 before this one used it.
    server = RefusingServer(dead=set())
    async with client(server, Credentials("alice", "pw")) as c:
        await c.list_tags("acme/app")  # tok1
        server.dead |= {1, 2}
        before = len(server.registry_requests)
        assert await c.list_tags("acme/app") == ["v1"]
    assert len(server.issued) == 3
    assert len(server.registry_requests) - before == 3  # tok1 refused, tok2 refused, tok3


async def test_tokens_refused_every_time_give_up_after_two_fresh_ones() -> None:
    server = RefusingServer(dead=set(range(1, 1000)))
    async with client(server, Credentials("alice", "pw")) as c:
        with pytest.raises(E.AuthenticationFailed):
            await c.list_tags("acme/app")
    assert len(server.issued) == 2  # bounded: no loop of token requests
    assert len(server.registry_requests) == 3  # unauthenticated, tok1, tok2


async def test_a_missing_scope_is_not_asked_for_again() -> None:
    server = RefusingServer(dead=set(range(1, 1000)), scope_error=True)
    async with client(server, Credentials("alice", "pw")) as c:
        with pytest.raises(E.AccessDenied):
            await c.list_tags("acme/app")
    assert len(server.issued) == 1
    assert len(server.registry_requests) == 2
