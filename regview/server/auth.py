"""Who may do what: the `Authorizer` protocol every /v2 route calls, and two implementations.

Every /v2 route calls `await authorizer.authorize(request, access)` before doing anything, with
the access it needs in the Docker token-scope vocabulary:

    GET/HEAD on a repository        [Access("repository", name, ("pull",))]
    POST/PUT/PATCH (push)           [Access("repository", name, ("pull", "push"))]
    cross-repo mount                + Access("repository", from_name, ("pull",))
    DELETE                          [Access("repository", name, ("delete",))]
    GET /v2/_catalog                [Access("registry", "catalog", ("*",))]
    GET /v2/ (base check)           []  — only "are you authenticated?"

It returns a `Principal`, or raises `AuthenticationRequired(challenge)` (→ 401 UNAUTHORIZED with
that `WWW-Authenticate`) or `AccessDenied` (→ 403 DENIED). `Access` is a NamedTuple, so it also
compares equal to plain tuples `("repository", "a/b", ("pull",))`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from base64 import b64decode
from binascii import Error as BinasciiError
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import anyio.to_thread
import bcrypt
from starlette.requests import Request

from regview.server.errors import AuthenticationRequired, StoreError


class Access(NamedTuple):
    type: str  # "repository" | "registry"
    name: str  # repository path, or "catalog"
    actions: tuple[str, ...]  # "pull", "push", "delete", "*"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. `extra` carries what an authorizer wants routes to know (e.g. user id)."""

    name: str
    anonymous: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


ANONYMOUS = Principal("", anonymous=True)


@runtime_checkable
class Authorizer(Protocol):
    async def authorize(self, request: Request, access: Sequence[Access]) -> Principal:
        """Return the principal allowed `access`, or raise AuthenticationRequired/AccessDenied."""
        ...


class AllowAll:
    """No authentication: everyone may do everything (the default for the local registry)."""

    async def authorize(self, request: Request, access: Sequence[Access]) -> Principal:
        return ANONYMOUS


def parse_basic(header: str) -> tuple[str, str] | None:
    """`Basic base64(user:password)` → (user, password); None when absent or malformed."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = b64decode(value.strip(), validate=True).decode("utf-8")
    except (BinasciiError, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def load_htpasswd(path: Path) -> dict[str, bytes]:
    """`user:$2y$...` lines (bcrypt only, as Apache's `htpasswd -B` and distribution use)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot read the htpasswd file {path}: {exc.strerror}") from exc
    users: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not hashed.startswith(("$2y$", "$2b$", "$2a$")):
            raise StoreError(
                f"{path} line {number} is not 'user:<bcrypt hash>'; create entries with "
                "'htpasswd -nbB user password'"
            )
        users[user] = hashed.encode()
    return users


#: bcrypt uses only the first 72 bytes of a password.
BCRYPT_MAX_BYTES = 72


def hash_password(password: str, rounds: int = 10) -> str:
    """A bcrypt hash for an htpasswd line (`$2y$`, as distribution's docs show); of the first
    72 bytes of a longer password, as `htpasswd -B` hashes it."""
    secret = password.encode()[:BCRYPT_MAX_BYTES]
    hashed = bcrypt.hashpw(secret, bcrypt.gensalt(rounds)).decode()
    return "$2y$" + hashed[4:]


def _dummy_hash(users: dict[str, bytes]) -> bytes:
    """A hash no password matches, at the cost the file's hashes use, so checking an unknown
    user takes as long as checking a known one."""
    rounds = 10
    for hashed in users.values():
        parts = hashed.split(b"$")
        if len(parts) > 2 and parts[2].isdigit() and 4 <= int(parts[2]) <= 31:
            rounds = int(parts[2])
            break
    return bcrypt.hashpw(os.urandom(16), bcrypt.gensalt(rounds))


class HtpasswdAuthorizer:
    """HTTP Basic against an htpasswd file with bcrypt hashes; any valid user may do anything.

    bcrypt costs tens of milliseconds, and clients send the header on every request, so good
    checks are remembered (keyed by a salted digest of user and password, never the password).
    """

    def __init__(self, path: Path, realm: str = "regview") -> None:
        self.users = load_htpasswd(path)
        self.realm = realm
        self._ok: set[bytes] = set()
        self._salt = hashlib.sha256(str(id(self)).encode() + path.read_bytes()).digest()
        self._lock = threading.Lock()
        self._dummy = _dummy_hash(self.users)

    @property
    def challenge(self) -> str:
        return f'Basic realm="{self.realm}"'

    def _key(self, user: str, password: str) -> bytes:
        return hmac.new(self._salt, f"{user}\0{password}".encode(), "sha256").digest()

    def _check(self, user: str, password: str) -> bool:
        key = self._key(user, password)
        hashed = self.users.get(user)
        known = hashed is not None
        # An unknown user costs one bcrypt check too (against a hash of no password), as in
        # distribution: answering at once told which user names exist (1 ms vs 87 ms).
        hashed = hashed if hashed is not None else self._dummy
        if hashed.startswith(b"$2y$"):
            hashed = b"$2b$" + hashed[4:]
        try:
            # bcrypt covers 72 bytes; htpasswd -B (and distribution) hash and compare only
            # those, while bcrypt 5 refuses a longer password instead of truncating it.
            good = bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], hashed) and known
        except ValueError:
            return False
        if good:
            with self._lock:
                self._ok.add(key)
        return good

    async def authorize(self, request: Request, access: Sequence[Access]) -> Principal:
        creds = parse_basic(request.headers.get("authorization", ""))
        if creds is None:
            raise AuthenticationRequired(self.challenge)
        user, password = creds
        if self._key(user, password) in self._ok:  # fast path, no thread hop
            return Principal(user)
        if not await anyio.to_thread.run_sync(self._check, user, password):
            raise AuthenticationRequired(self.challenge, "invalid username or password")
        return Principal(user)
