"""Debian's `docker-registry` (CNCF distribution 2.8) on a free loopback port, for tests and bench.

    with run_distribution(tmp, flavour="anonymous" | "basic" | "token", token_lifetime=300) as reg:
        reg.url, reg.host ("127.0.0.1:PORT"), reg.creds (("alice", "secret") or None)
        reg.realm  (token flavour: the TokenRealm issuing RS256 JWTs; .issued counts them)

Storage is a temp directory with deletion enabled. The token flavour runs a tiny realm server
in a thread: it checks Basic credentials, grants every action asked for (or only `pull` for
anonymous requests), and signs JWTs whose `kid` is the libtrust fingerprint of the key, which
is how distribution 2.8 finds the key in `rootcertbundle` (section 3 of the protocol reference).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import bcrypt
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from testkit import free_port, v2_status

USER, PASSWORD = "alice", "s3cret-pass"
SERVICE = "regview-test-registry"
ISSUER = "regview-test-issuer"


def libtrust_kid(public_der: bytes) -> str:
    raw = base64.b32encode(hashlib.sha256(public_der).digest()[:30]).decode().rstrip("=")
    return ":".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@dataclass
class TokenRealm:
    """A token service in a thread: GET ?service=&scope=… with optional Basic credentials."""

    lifetime: float = 300.0
    send_expires_in: bool = True
    issued: int = 0
    scopes_seen: list[list[str]] = field(default_factory=list)
    port: int = 0
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def cert_pem(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regview test token signer")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, user: str, scopes: list[str]) -> dict[str, object]:
        access = []
        for scope in scopes:
            kind, rest = scope.split(":", 1)
            name, actions = rest.rsplit(":", 1)
            granted = actions.split(",") if user else [a for a in actions.split(",") if a == "pull"]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "exp": now + int(self.lifetime),
            "nbf": now - 1,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": libtrust_kid(der)})
        self.issued += 1
        self.scopes_seen.append(scopes)
        out: dict[str, object] = {"token": token}
        if self.send_expires_in:
            out["expires_in"] = int(self.lifetime)
        return out

    def start(self) -> None:
        realm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                user = ""
                header = self.headers.get("Authorization", "")
                if header.startswith("Basic "):
                    given = base64.b64decode(header[6:]).decode()
                    if given != f"{USER}:{PASSWORD}":
                        self.send_response(401)
                        self.end_headers()
                        return
                    user = USER
                body = json.dumps(realm.issue(user, query.get("scope", []))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Distribution:
    url: str
    host: str
    flavour: str
    storage: Path
    config: Path
    creds: tuple[str, str] | None = None
    realm: TokenRealm | None = None


@dataclass(frozen=True)
class TokenAuth:
    """A token service run elsewhere (e.g. regview's GitLab realm) for `auth: token`."""

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


def _config(
    root: Path,
    port: int,
    flavour: str,
    realm: TokenRealm | None,
    token_auth: TokenAuth | None = None,
) -> str:
    lines = [
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
        "  cache:",
        "    blobdescriptor: inmemory",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if flavour == "basic":
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{USER}:{hashed}\n")
        lines += [
            "auth:",
            "  htpasswd:",
            "    realm: regview-test",
            f"    path: {root / 'htpasswd'}",
        ]
    elif flavour == "token":
        assert realm is not None
        (root / "token.pem").write_bytes(realm.cert_pem())
        lines += [
            "auth:",
            "  token:",
            f"    realm: {realm.url}",
            f"    service: {SERVICE}",
            f"    issuer: {ISSUER}",
            f"    rootcertbundle: {root / 'token.pem'}",
        ]
    elif token_auth is not None:
        lines += [
            "auth:",
            "  token:",
            f"    realm: {token_auth.realm}",
            f"    service: {token_auth.service}",
            f"    issuer: {token_auth.issuer}",
            f"    rootcertbundle: {token_auth.rootcertbundle}",
        ]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def run_distribution(
    root: Path,
    *,
    flavour: str = "anonymous",
    token_lifetime: float = 300.0,
    token_auth: TokenAuth | None = None,
) -> Iterator[Distribution]:
    """`token_auth` (with the anonymous flavour) trusts an external token service instead."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed")
    root.mkdir(parents=True, exist_ok=True)
    realm = None
    if flavour == "token":
        realm = TokenRealm(lifetime=token_lifetime)
        realm.start()
    port = free_port()
    config = root / "config.yml"
    config.write_text(_config(root, port, flavour, realm, token_auth))
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            status = v2_status(url)
            if status in (200, 401):
                break
            if status is not None:
                raise RuntimeError(f"docker-registry answered /v2/ with HTTP {status}")
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "docker-registry did not start: "
                    + (root / "registry.log").read_text(errors="replace")[-2000:]
                )
            time.sleep(0.05)
        yield Distribution(
            url=url,
            host=f"127.0.0.1:{port}",
            flavour=flavour,
            storage=root / "storage",
            config=config,
            creds=(USER, PASSWORD) if flavour != "anonymous" else None,
            realm=realm,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if realm is not None:
            realm.stop()
