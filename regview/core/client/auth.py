"""Registry authentication as an `httpx.Auth` flow: anonymous, Basic, and Bearer token realms.

challenge → token → retry, with
- the scope of each request derived from its path and method (`repository:<name>:pull`,
  `pull,push` for writes, `delete` for DELETE, `registry:catalog:*`), merged per resource
  with every action asked for before, so one token serves reads and deletes alike;
- a token cache per resource; a cached token is attached up front (no 401 round trip);
- refresh before expiry (lifetime from `expires_in`, else the JWT `exp` read without
  verification, else 60 s) and once more on a 401;
- GET token requests, or OAuth2 POST (`grant_type=refresh_token` for identity tokens, or
  `password` when asked) falling back to GET on 404/405;
- realm validation (section 7 of the protocol reference): http(s) only, no userinfo, https
  unless the registry itself is plain http on loopback (or marked insecure);
- Authorization is only ever attached to the registry's own origin: redirects, upload
  Locations and Link URLs to other hosts go without it.

RegistryAuth(endpoint, credentials, send=...)   `send` posts token requests (no auth)
parse_www_authenticate(header) -> list[Challenge]
scope_for(method, url) -> dict[(type, name), frozenset[actions]]
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, field

import httpx

from regview.core.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ProtocolError,
    RealmRejected,
    error_for_status,
)
from regview.core.model import CredentialKind, Credentials, Endpoint
from regview.log import get_logger
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json
from regview.util.netaddr import is_loopback

log = get_logger("core.auth")

Resource = tuple[str, str]  # ("repository", "foo/bar") or ("registry", "catalog")
Scopes = dict[Resource, frozenset[str]]
DEFAULT_LIFETIME = 60.0
CLIENT_ID = "regview"

_PATH = re.compile(r"^/v2/(.+)/(?:manifests|blobs|tags|referrers)/(?:uploads/)?[^/]*$")
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what a bearer token may be


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic"
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")

    @property
    def scopes(self) -> list[str]:
        return self.params.get("scope", "").split()


_TOKEN68 = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def token_refused(response: httpx.Response) -> bool:
    """A 401 saying the bearer token itself is no good (`error="invalid_token"`: expired,
    revoked, signed with a key the registry no longer trusts) — not a missing scope."""
    if response.status_code != 401:
        return False
    return any(
        c.scheme == "bearer" and c.params.get("error") == "invalid_token"
        for c in parse_www_authenticate(response.headers.get("WWW-Authenticate", ""))
    )


def parse_www_authenticate(header: str) -> list[Challenge]:
    """RFC 7235 challenges; quoted strings may contain commas (`scope="repo:x:pull,push"`)."""
    out: list[Challenge] = []
    i, n = 0, len(header)
    current: Challenge | None = None
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        m = _TOKEN68.match(header, i)
        if not m:
            break
        word, j = m.group(0), m.end()
        k = j
        while k < n and header[k] in " \t":
            k += 1
        if k < n and header[k] == "=" and current is not None:
            # auth-param name=value
            k += 1
            while k < n and header[k] in " \t":
                k += 1
            if k < n and header[k] == '"':
                k += 1
                buf = []
                while k < n and header[k] != '"':
                    if header[k] == "\\" and k + 1 < n:
                        k += 1
                    buf.append(header[k])
                    k += 1
                value = "".join(buf)
                k += 1
            else:
                vm = _TOKEN68.match(header, k)
                value = vm.group(0) if vm else ""
                k = vm.end() if vm else k
            current.params[word.lower()] = value
            i = k
        else:
            current = Challenge(word.lower(), {})
            out.append(current)
            i = j
    return out


def scope_for(method: str, url: httpx.URL) -> Scopes:
    """The token scopes a request needs, from its path and method."""
    path = url.path
    if path.rstrip("/") == "/v2":
        return {}
    if path.startswith("/v2/_catalog"):
        return {("registry", "catalog"): frozenset({"*"})}
    m = _PATH.match(path)
    if not m:
        return {}
    if method in ("GET", "HEAD", "OPTIONS"):
        actions = _PULL
    elif method == "DELETE":
        actions = _DELETE
    else:
        actions = _PULL_PUSH
    scopes: Scopes = {("repository", m.group(1)): actions}
    if url.query:  # only a blob mount (?mount=&from=) names a second repository; parsing an
        # absent query string cost ~3 µs on each of a listing's thousands of requests
        source = url.params.get("from")
        if source and url.params.get("mount"):
            scopes[("repository", source)] = _PULL
    return scopes


_PULL = frozenset({"pull"})
_DELETE = frozenset({"delete"})
_PULL_PUSH = frozenset({"pull", "push"})


def parse_scope(text: str) -> tuple[Resource, frozenset[str]] | None:
    # the name may hold host:port, so split type from the left and actions from the right
    if text.count(":") < 2:
        return None
    kind, rest = text.split(":", 1)
    name, actions = rest.rsplit(":", 1)
    return (kind, name), frozenset(a for a in actions.split(",") if a)


def format_scope(resource: Resource, actions: frozenset[str]) -> str:
    return f"{resource[0]}:{resource[1]}:{','.join(sorted(actions))}"


def jwt_claims(token: str) -> dict[str, object]:
    """Claims of a JWT read without verification (for `exp` and `access`); {} if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        obj = parse_json(base64.urlsafe_b64decode(payload), what="token")
    except (ValueError, SpecError):  # not base64, not JSON, absurdly nested
        return {}
    return obj if isinstance(obj, dict) else {}


@dataclass(slots=True)
class Token:
    value: str
    expires_at: float  # on the auth's clock
    lifetime: float
    granted: Scopes
    refresh_token: str = ""

    def fresh(self, now: float) -> bool:
        # refresh a little before expiry so a request never leaves with a dying token
        margin = min(30.0, self.lifetime * 0.2)
        return now < self.expires_at - margin

    def covers(self, needed: Scopes) -> bool:
        return all(
            r in self.granted and actions <= self.granted[r] for r, actions in needed.items()
        )


SendFn = Callable[[httpx.Request], Awaitable[httpx.Response]]


class RegistryAuth(httpx.Auth):
    requires_request_body = True

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | None,
        *,
        send: SendFn | None = None,
        clock: Callable[[], float] = time.monotonic,
        prefer_oauth: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.credentials = (
            credentials
            if credentials is not None and credentials.kind != CredentialKind.ANONYMOUS
            else None
        )
        self.send = send
        self.clock = clock
        self.prefer_oauth = prefer_oauth
        base = httpx.URL(endpoint.url)
        self.origin = (base.scheme, base.host, base.port)
        self.registry = base.netloc.decode("ascii")
        self.challenge: Challenge | None = None
        self._wanted: Scopes = {}
        self._tokens: dict[Resource, Token] = {}
        self._bare_token: Token | None = None  # a token asked with no scope (the /v2/ check)
        self._refresh_token = (
            self.credentials.secret
            if self.credentials and self.credentials.kind == CredentialKind.IDENTITY
            else ""
        )
        self._lock = asyncio.Lock()
        self.token_requests = 0  # for tests and the benchmark

    # -- httpx.Auth ---------------------------------------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("regview's registry client is asynchronous only")

    def same_origin(self, url: httpx.URL) -> bool:
        return (url.scheme, url.host, url.port) == self.origin

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        needed = await self.prepare(request)
        response = yield request
        if needed is not None and await self.retry(request, response, needed):
            yield request

    # The flow's two steps, also called directly by the client's hot path (`RegistryHttp`):
    # an async generator per request cost ~5 µs there (its creation, the event loop's
    # bookkeeping of live generators, StopAsyncIteration at its end).

    async def prepare(self, request: httpx.Request) -> Scopes | None:
        """Before sending: the credentials `request` needs attached. None for a request to
        another origin (any Authorization removed): its 401 is not answered with ours."""
        if not self.same_origin(request.url):
            request.headers.pop("Authorization", None)
            return None
        needed = scope_for(request.method, request.url)
        await self._apply(request, needed)
        return needed

    async def retry(self, request: httpx.Request, response: httpx.Response, needed: Scopes) -> bool:
        """After `response` to `request` (prepared with `needed`): True when the request now
        carries the credentials a 401's challenge asks for and is to be sent once more."""
        if response.status_code != 401:
            return False
        challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate", ""))
        chosen = next((c for c in challenges if c.scheme == "bearer"), None) or next(
            (c for c in challenges if c.scheme == "basic"), None
        )
        if chosen is None:
            return False
        if chosen.scheme == "bearer":
            self._validate_realm(chosen.realm)
            for text in chosen.scopes:
                parsed = parse_scope(text)
                if parsed:
                    r, actions = parsed
                    needed[r] = needed.get(r, frozenset()) | actions
        elif self.credentials is None:
            return False
        sent = request.headers.get("Authorization", "")
        if chosen.scheme == "basic" and sent.startswith("Basic "):
            return False  # Basic credentials were sent and refused: retrying cannot help
        self.challenge = chosen
        refused = sent[7:] if sent.startswith("Bearer ") else ""
        await self._apply(request, needed, refused=refused)
        await response.aread()
        return True

    # -- tokens ---------------------------------------------------------------------------------

    async def _apply(self, request: httpx.Request, needed: Scopes, *, refused: str = "") -> None:
        ch = self.challenge
        if ch is None:
            return
        if ch.scheme == "basic":
            if self.credentials is not None:
                request.headers["Authorization"] = _basic(self.credentials)
            return
        if ch.scheme == "bearer":
            token = await self.token(needed, refused=refused)
            request.headers["Authorization"] = f"Bearer {token.value}"

    def _cached(self, needed: Scopes) -> Token | None:
        now = self.clock()
        if not needed:
            t = self._bare_token or next(iter(self._tokens.values()), None)
            return t if t is not None and t.fresh(now) else None
        tokens = {id(self._tokens.get(r)): self._tokens.get(r) for r in needed}
        if len(tokens) != 1:
            return None
        t = next(iter(tokens.values()))
        return t if t is not None and t.fresh(now) and t.covers(needed) else None

    async def token(self, needed: Scopes, *, refused: str = "") -> Token:
        """A fresh token covering `needed`: from the cache unless it is the `refused` one."""
        cached = self._cached(needed)
        if cached is not None and cached.value != refused:
            return cached
        async with self._lock:
            # another request may have fetched one while we waited for the lock
            cached = self._cached(needed)
            if cached is not None and cached.value != refused:
                return cached
            for r, actions in needed.items():
                self._wanted[r] = self._wanted.get(r, frozenset()) | actions
            ask: Scopes = {r: self._wanted[r] for r in needed}
            token = await self._fetch(ask)
            if not ask:
                self._bare_token = token
            for r in ask:
                self._tokens[r] = token
            return token

    async def _fetch(self, scopes: Scopes) -> Token:
        ch = self.challenge
        assert ch is not None and self.send is not None
        self.token_requests += 1
        scope_list = [format_scope(r, a) for r, a in scopes.items()]
        creds = self.credentials
        response: httpx.Response | None = None
        if self._refresh_token or (self.prefer_oauth and creds is not None):
            form = {"service": ch.service, "client_id": CLIENT_ID, "scope": " ".join(scope_list)}
            if self._refresh_token:
                form |= {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
            elif creds is not None:
                form |= {
                    "grant_type": "password",
                    "username": creds.username,
                    "password": creds.secret,
                }
            response = await self._send(httpx.Request("POST", ch.realm, data=form))
            if response.status_code in (404, 405):
                response = None  # no OAuth2 endpoint: the classic GET below
        if response is None:
            params: list[tuple[str, str | int | float | bool | None]] = (
                [("service", ch.service)] if ch.service else []
            )
            params += [("scope", s) for s in scope_list]
            headers = {"Authorization": _basic(creds)} if creds is not None else {}
            url = httpx.URL(ch.realm).copy_merge_params(params)
            response = await self._send(httpx.Request("GET", url, headers=headers))
        return self._parse_token(response, scopes)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        assert self.send is not None
        try:
            response = await self.send(request)
        except httpx.HTTPError as exc:
            # temporary, like any connection failure: a reset or timeout at the realm mid-batch
            # is retried, not turned into a failed item
            raise ConnectionFailed(
                f"{self.registry}: the token service at {request.url.host} could not be "
                f"reached ({exc.__class__.__name__}: {exc})",
                registry=self.registry,
            ) from exc
        if 300 <= response.status_code < 400:
            raise RealmRejected(
                f"{self.registry}: the token service redirected the login to another address; "
                "regview does not send credentials along redirects",
                registry=self.registry,
            )
        return response

    def _parse_token(self, response: httpx.Response, scopes: Scopes) -> Token:
        body = response.content[: 1024 * 1024]
        if response.status_code in (401, 403):
            who = "anonymous access" if self.credentials is None else "the username and token"
            raise AuthenticationFailed(
                f"{self.registry}: the token service refused {who} (HTTP "
                f"{response.status_code}); check the credentials in the registry's settings "
                "(for GitLab: a token with the read_registry scope)",
                registry=self.registry,
                status=response.status_code,
            )
        if response.status_code != 200:
            raise error_for_status(
                response.status_code,
                body,
                response.headers.get("Content-Type", ""),
                registry=self.registry,
                what="the token request",
            )
        try:
            obj = parse_json(body, what="token answer")
        except SpecError as exc:
            raise ProtocolError(
                f"{self.registry}: the token service answered something that is not JSON",
                registry=self.registry,
            ) from exc
        value = obj.get("token") or obj.get("access_token") if isinstance(obj, dict) else None
        if not isinstance(value, str) or not value:
            raise ProtocolError(
                f"{self.registry}: the token service answered without a token",
                registry=self.registry,
            )
        if not _TOKEN_CHARS.fullmatch(value):
            # a bearer token is visible ASCII (RFC 6750); anything else cannot go in a header
            raise ProtocolError(
                f"{self.registry}: the token service answered a token that cannot be sent "
                "(characters a header cannot carry)",
                registry=self.registry,
            )
        now = self.clock()
        lifetime = obj.get("expires_in")
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            exp = jwt_claims(value).get("exp")
            if isinstance(exp, (int, float)) and not isinstance(exp, bool):
                lifetime = max(1.0, float(exp) - time.time())
            else:
                lifetime = DEFAULT_LIFETIME
        refresh = obj.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self._refresh_token = refresh
        return Token(value, now + float(lifetime), float(lifetime), dict(scopes))

    def _validate_realm(self, realm: str) -> None:
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL as exc:
            raise RealmRejected(
                f"{self.registry}: the token realm {realm!r} is not a valid URL",
                registry=self.registry,
            ) from exc
        problem = ""
        if url.scheme not in ("http", "https") or not url.host:
            problem = "is not an http(s) address"
        elif url.userinfo:
            problem = "carries a username or password in the address"
        elif url.scheme == "http":
            reg_scheme, reg_host, _ = self.origin
            local = reg_scheme == "http" and is_loopback(reg_host) and is_loopback(url.host)
            if not (local or (reg_scheme == "http" and self.endpoint.insecure)):
                problem = "uses plain http (credentials would travel unencrypted)"
        if problem:
            raise RealmRejected(
                f"{self.registry}: refusing the token service {url.scheme}://{url.host}: it "
                f"{problem}. Check the registry address.",
                registry=self.registry,
            )


def _basic(creds: Credentials | None) -> str:
    assert creds is not None
    raw = f"{creds.username}:{creds.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")
