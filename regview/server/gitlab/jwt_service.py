"""Registry tokens as GitLab issues them: RS256 JWTs for service `container_registry`.

The signing key is generated once and kept in the data directory (`gitlab-jwt.key`, mode 0600),
with a self-signed X.509 certificate of it (`gitlab-jwt.crt`) that a CNCF registry accepts as
`auth.token.rootcertbundle`. The JWT header carries `kid` in libtrust form, which is how
distribution 2.8 finds the key in that bundle: base32 of the first 30 bytes of SHA-256 over the
DER SubjectPublicKeyInfo, `=` stripped, in groups of four joined by `:`.

Claims (Docker token spec): `iss`, `sub` (empty for anonymous), `aud` = service, `iat`, `nbf`,
`exp`, `jti`, `access: [{"type", "name", "actions"}]`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from regview.log import get_logger
from regview.server.auth import parse_basic
from regview.server.errors import StoreError
from regview.server.gitlab import perms
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import TokenKind
from regview.server.gitlab.records import JOB_USERNAME, Identity
from regview.spec.reference import is_valid_repository

log = get_logger("server.gitlab.jwt")

ISSUER = "gitlab-issuer"
SERVICE = "container_registry"
DEFAULT_TTL = 300
KEY_FILE = "gitlab-jwt.key"
CERT_FILE = "gitlab-jwt.crt"


@dataclass(frozen=True, slots=True)
class Scope:
    """One `type:name:actions` item of a token request or grant."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"

    def claim(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "actions": list(self.actions)}


def parse_scope(text: str) -> Scope | None:
    """`repository:acme/app:pull,push` → Scope; the name may hold `host:port`, so split from
    both ends. None for something that is not a scope."""
    kind, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    acts = tuple(a for a in actions.split(",") if a)
    return Scope(kind, name, acts)


def parse_scopes(values: Sequence[str]) -> list[Scope]:
    """Every `scope` query value; one value may hold several scopes separated by spaces."""
    found: list[Scope] = []
    for value in values:
        for item in value.split():
            scope = parse_scope(item)
            if scope is not None:
                found.append(scope)
    return found


def libtrust_kid(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


class TokenInvalid(Exception):
    """A registry token that is malformed, forged, expired or meant for someone else."""


class TokenSigner:
    """Issues and verifies registry JWTs with the instance's key."""

    def __init__(
        self,
        key: rsa.RSAPrivateKey,
        certificate: x509.Certificate,
        *,
        issuer: str = ISSUER,
        service: str = SERVICE,
        ttl: int = DEFAULT_TTL,
        leeway: float = 0.0,
    ) -> None:
        self.key = key
        self.certificate = certificate
        self.public_key = key.public_key()
        self.kid = libtrust_kid(self.public_key)
        self.issuer = issuer
        self.service = service
        self.ttl = ttl
        self.leeway = leeway

    @classmethod
    def load_or_create(cls, data_dir: Path, **kwargs: Any) -> TokenSigner:
        key, cert = load_or_create_key(data_dir)
        return cls(key, cert, **kwargs)

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, subject: str, access: Sequence[Scope], *, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "iat": int(now.timestamp()),
            # a little back-dating absorbs clock skew between realm and registry
            "nbf": int(now.timestamp()) - 5,
            "exp": int((now + timedelta(seconds=self.ttl)).timestamp()),
            "jti": uuid.uuid4().hex,
            "access": [s.claim() for s in access],
        }
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"}
        )

    def verify(self, token: str) -> tuple[str, list[Scope]]:
        """(subject, granted scopes) of a valid token; raises TokenInvalid otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") not in (None, self.kid):
                raise TokenInvalid("the token was signed by another key")
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                audience=self.service,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenInvalid("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid(f"the token is not valid: {exc}") from exc
        granted: list[Scope] = []
        for item in claims.get("access") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                actions = tuple(a for a in item.get("actions") or [] if isinstance(a, str))
                granted.append(Scope(str(item.get("type", "")), item["name"], actions))
        return str(claims.get("sub") or ""), granted


def _make_cert(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _generate(data_dir: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _make_cert(key)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path = data_dir / KEY_FILE
    tmp = key_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    (data_dir / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tmp.replace(key_path)
    return key, cert


def load_or_create_key(data_dir: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The instance's signing key and its certificate, created on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = data_dir / KEY_FILE, data_dir / CERT_FILE
    if not key_path.exists():
        return _generate(data_dir)
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"cannot read the token signing key {key_path}: {exc}; remove it to make a new one "
            "(tokens already issued then stop working)"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise StoreError(f"{key_path} is not an RSA key; remove it to make a new one")
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        cert = None
    if cert is None or cert.public_key() != key.public_key():
        cert = _make_cert(key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


# --- the token realm (/jwt/auth) --------------------------------------------------------------

BASIC_DENIED = (
    "HTTP Basic: Access denied. The token is unknown, expired or revoked, or the user name "
    "does not go with it (deploy tokens: their own user name; CI job tokens: gitlab-ci-token)."
)


def grant(store: GitLabStore, identity: Identity, requested: Sequence[Scope]) -> list[Scope]:
    """The requested scopes cut down to what `identity` may do; denied ones are left out."""
    granted: list[Scope] = []
    for scope in requested:
        if scope.type == "registry" and scope.name == "catalog":
            if "*" in scope.actions and perms.can_catalog(identity.caller):
                granted.append(Scope("registry", "catalog", ("*",)))
            continue
        if scope.type != "repository" or not is_valid_repository(scope.name):
            # a name the registry would refuse (`acme/app/../other`) is never signed: the token
            # would name a repository other than the one the permission check looked at
            continue
        project = store.project_for_image(scope.name)
        if project is None:
            continue
        user_id = identity.user.id if identity.user else None
        allowed = perms.registry_actions(
            identity.caller, project.facts, store.role(user_id, project)
        )
        wanted = set(scope.actions)
        if "*" in wanted:
            wanted = {perms.PULL, perms.PUSH, perms.DELETE}
        actions = tuple(a for a in (perms.PULL, perms.PUSH, perms.DELETE) if a in wanted & allowed)
        if actions:
            granted.append(Scope("repository", scope.name, actions))
    return granted


def _error(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"errors": [{"code": code, "message": message}]}, status, headers)


def realm_route(store: GitLabStore, signer: TokenSigner) -> Route:
    """`GET /jwt/auth?service=container_registry&scope=...` with Basic credentials or none."""

    def issue(authorization: str, service: str | None, scopes: list[str]) -> Response:
        if service != signer.service:
            return Response(b"", 404)
        if authorization:
            creds = parse_basic(authorization)
            identity = login(store, *creds) if creds else None
            if identity is None:
                return _error(
                    "UNAUTHORIZED", BASIC_DENIED, 401, {"WWW-Authenticate": 'Basic realm="GitLab"'}
                )
        else:
            identity = Identity(perms.ANONYMOUS_CALLER, None, None)
        if not perms.has_registry_scope(identity.caller):
            return _error("DENIED", "access forbidden", 403)
        granted = grant(store, identity, parse_scopes(scopes))
        token = signer.issue(identity.username, granted)
        log.debug(
            "issued a registry token for %r: %s", identity.username, " ".join(map(str, granted))
        )
        return JSONResponse({"token": token})

    async def endpoint(request: Request) -> Response:
        return await anyio.to_thread.run_sync(
            issue,
            request.headers.get("authorization", ""),
            request.query_params.get("service"),
            request.query_params.getlist("scope"),
        )

    async def no_oauth(request: Request) -> Response:
        # GitLab has no OAuth2 POST here; 404 tells clients to fall back to GET (token spec)
        return Response(b"", 404)

    async def dispatch(request: Request) -> Response:
        return await (endpoint(request) if request.method == "GET" else no_oauth(request))

    return Route("/jwt/auth", dispatch, methods=["GET", "POST"])


def login(store: GitLabStore, username: str, secret: str) -> Identity | None:
    """Basic credentials (user name + token) → identity, as GitLab's registry login checks them."""
    token = store.find_token(secret)
    if token is None or not token.active():
        return None
    if token.kind is TokenKind.JOB and username != JOB_USERNAME:
        return None
    if token.kind is TokenKind.DEPLOY and username != token.username:
        return None
    if not username.strip():
        return None
    return store.identify(token)
