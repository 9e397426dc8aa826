"""Registry profiles and free-form UI state in a versioned `settings.json`. Never secrets.

The file lives at `regview.paths.default_paths().settings_file`. Its shape::

    {"version": 1,
     "profiles": [{"name": "registry.example.com", "url": "https://registry.example.com", ...}],
     "ui": {"window": {...}, "columns": {...}, "last_view": "..."}}

Writes are atomic (temporary file in the same folder, fsync, rename), so a crash leaves the old
file or the new one, never half of each. A file written by a newer regview (higher `version`) is
refused instead of being rewritten without the fields this version does not know. Secrets live
in the keyring (`regview.settings.secrets`); `save` refuses UI keys that look like secrets.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.paths import default_paths
from regview.settings.errors import NewerSettingsVersion, SettingsFileError
from regview.util.atomic import write_atomic
from regview.util.netaddr import is_loopback

SETTINGS_VERSION = 1

_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
DOCKER_HUB = "docker.io"
DOCKER_HUB_URL = "https://registry-1.docker.io"
_SECRETISH_KEY = re.compile(r"(?i)(password|passwd|secret|token|credential|auth)")


def registry_host(text: str) -> str:
    """The registry key for a URL, host or credential-file key: `host[:port]`, lowercase.

    `https://index.docker.io/v1/`, `registry-1.docker.io` and friends all become `docker.io`.
    A path after the host (as in containers' `host/ns/repo` keys) is dropped.
    """
    value = text.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    value = value.split("/", 1)[0].lower()
    if value.endswith(":443") and not value.startswith("["):
        value = value[: -len(":443")]
    return DOCKER_HUB if value in _HUB_ALIASES else value


def address_problem(text: str) -> str:
    """Why `text` is not a usable registry address, in words; '' when it is.

    Checks what a person can get wrong while typing — the scheme, spaces, a path, the port
    (digits, 1-65535), IPv6 brackets, characters a host name cannot have — so the dialogs can
    say so inline before anything is sent, instead of the HTTP library failing later.
    """
    value = text.strip()
    if not value:
        return "Type the registry's address, e.g. registry.example.com or http://127.0.0.1:5000."
    if any(c.isspace() for c in value):
        return "The address contains a space: remove it."
    rest = value
    if "://" in value:
        scheme, rest = value.split("://", 1)
        if scheme.lower() not in ("http", "https"):
            return f"The address must start with http:// or https://, not {scheme}://."
    host_port, _, path = rest.partition("/")
    if path.strip("/") and registry_host(host_port) != DOCKER_HUB:
        return (
            f"Leave out the path /{path.strip('/')}: type only the registry's host (and port); "
            "repositories are chosen later."
        )
    if "@" in host_port:
        return "Leave the username out of the address: it has its own field."
    if not host_port:
        return "The address has no host name."
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0:
            return "An IPv6 address needs a closing bracket: [::1]:5000."
        literal, after = host_port[1:end], host_port[end + 1 :]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return f"{literal} is not an IPv6 address."
        if after and not after.startswith(":"):
            return "After an IPv6 address in brackets only :port may follow."
        port = after[1:] if after else None
    else:
        if host_port.count(":") > 1:
            return "An IPv6 address goes in brackets: [::1]:5000."
        host, sep, port_text = host_port.partition(":")
        port = port_text if sep else None
        if not host:
            return "The address has no host name."
        if not re.fullmatch(r"[A-Za-z0-9._-]+", host) or host.startswith(("-", ".")):
            return (
                f"{host} is not a host name: use letters, digits, dots and hyphens "
                "(registry.example.com)."
            )
    if port is not None:
        if not port:
            return "Type the port after the colon, or remove the colon."
        bad = next((c for c in port if not (c.isascii() and c.isdigit())), "")
        if bad:
            zero = " (the letter O instead of a zero?)" if bad in "oO" else ""
            return f"The port must be a number: {port} has {bad!r} in it{zero}."
        if not 1 <= int(port) <= 65535:
            return f"The port must be between 1 and 65535, not {int(port)}."
    return ""


def registry_url(text: str) -> str:
    """Base URL (`scheme://host[:port]`) for what the user typed.

    An explicit `http://` or `https://` is kept. Without one, loopback hosts get plain http
    (Docker also treats 127.0.0.0/8 as insecure) and every other host https. Whether plain
    http to a non-loopback host is allowed is the `insecure` flag's business, not this
    function's. Docker Hub maps to its API host. A path is dropped (credential files key logins
    by `host/namespace`); anything else `address_problem` finds raises ValueError in its words.
    """
    head, sep, _path = text.strip().partition("://")
    problem = address_problem(f"{head}{sep}{_path.split('/', 1)[0]}" if sep else head.split("/")[0])
    if problem:
        raise ValueError(problem)
    value = text.strip().rstrip("/")
    scheme = ""
    if "://" in value:
        scheme, value = value.split("://", 1)
        scheme = scheme.lower()
    host = value.split("/", 1)[0].lower()
    if registry_host(host) == DOCKER_HUB:
        return DOCKER_HUB_URL
    if not scheme:
        scheme = "http" if is_loopback(host) else "https"
    return f"{scheme}://{host}"


def _dt_to_json(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt_from_json(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _count(value: Any) -> int:
    """A non-negative int from settings.json; anything else is 0 (the default)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(frozen=True, slots=True)
class Profile:
    """One registry the user works with: where it is, who they are there, what was verified.

    `name` is the key users and the CLI refer to; by default the registry host (`host[:port]`).
    `repositories` holds paths typed in by hand (deploy tokens cannot list them through the
    GitLab API). `verified` says in words what the credential was shown to do at `verified_at`
    (e.g. "pull; catalog refused"); `expires_at` is the credential's expiry when known.
    `secret_id` names this profile's own keyring entry (`regview.settings.secrets.entry_name`):
    empty only for profiles saved before secrets were per profile. `aliases` are earlier
    addresses (`host:port`) of the same registry — the local test registry when its port had to
    change — so recycle-bin entries, links and the last view made there still find it.
    `cannot_delete` says why the credential cannot delete anywhere (its scopes), and
    `delete_refused_in` the repository where the registry did not grant delete, as its last Test
    showed ('' = not known): the delete plan says so before the confirmation. `never_expires`:
    GitLab said the token has no expiry date (else an unknown `expires_at` is just unknown).
    """

    name: str
    url: str
    kind: RegistryKind = RegistryKind.GENERIC
    insecure: bool = False
    ca_file: str = ""
    api_url: str = ""
    username: str = ""
    credential_kind: CredentialKind = CredentialKind.ANONYMOUS
    repositories: tuple[str, ...] = ()
    verified: str = ""
    verified_at: datetime | None = None
    expires_at: datetime | None = None
    secret_id: str = ""
    aliases: tuple[str, ...] = ()
    cannot_delete: str = ""
    delete_refused_in: str = ""
    never_expires: bool = False
    # requests in flight at most (0: regview's adaptive default, up to 64); for a registry that
    # should see fewer, or a link that bears more
    max_concurrency: int = 0
    # the registry's management API when not the vendor's usual one (regview.core.vendors)
    vendor_api: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def host(self) -> str:
        return registry_host(self.url)

    def answers_to(self, host: str) -> bool:
        """True when `host` (`host[:port]`) is this profile's registry, now or at an alias."""
        wanted = registry_host(host)
        return wanted == self.host or wanted in self.aliases

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(
            url=self.url,
            insecure=self.insecure,
            ca_file=self.ca_file,
            api_url=self.api_url,
            kind=self.kind,
            max_concurrency=self.max_concurrency,
            vendor_api=self.vendor_api,
        )

    @classmethod
    def for_endpoint(cls, endpoint: Endpoint, *, name: str = "", **fields: Any) -> Profile:
        return cls(
            name=name or registry_host(endpoint.url),
            url=endpoint.url,
            kind=endpoint.kind,
            insecure=endpoint.insecure,
            ca_file=endpoint.ca_file,
            api_url=endpoint.api_url,
            max_concurrency=endpoint.max_concurrency,
            vendor_api=endpoint.vendor_api,
            **fields,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update(
            {
                "name": self.name,
                "url": self.url,
                "kind": self.kind.value,
                "insecure": self.insecure,
                "ca_file": self.ca_file,
                "api_url": self.api_url,
                "username": self.username,
                "credential_kind": self.credential_kind.value,
                "repositories": list(self.repositories),
                "verified": self.verified,
                "verified_at": _dt_to_json(self.verified_at),
                "expires_at": _dt_to_json(self.expires_at),
                "secret_id": self.secret_id,
                "aliases": list(self.aliases),
                "cannot_delete": self.cannot_delete,
                "delete_refused_in": self.delete_refused_in,
                "never_expires": self.never_expires,
                "max_concurrency": self.max_concurrency,
                "vendor_api": self.vendor_api,
            }
        )
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        name, url = data.get("name"), data.get("url")
        if not isinstance(name, str) or not name or not isinstance(url, str) or not url:
            raise ValueError("a profile needs a non-empty 'name' and 'url'")
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        try:
            kind = RegistryKind(data.get("kind") or RegistryKind.GENERIC)
        except ValueError:
            kind = RegistryKind.GENERIC
        try:
            cred = CredentialKind(data.get("credential_kind") or CredentialKind.ANONYMOUS)
        except ValueError:
            cred = CredentialKind.ANONYMOUS
        repos = data.get("repositories") or []
        return cls(
            name=name,
            url=url,
            kind=kind,
            insecure=bool(data.get("insecure", False)),
            ca_file=str(data.get("ca_file") or ""),
            api_url=str(data.get("api_url") or ""),
            username=str(data.get("username") or ""),
            credential_kind=cred,
            repositories=tuple(str(r) for r in repos if isinstance(r, str)),
            verified=str(data.get("verified") or ""),
            verified_at=_dt_from_json(data.get("verified_at")),
            expires_at=_dt_from_json(data.get("expires_at")),
            secret_id=str(data.get("secret_id") or ""),
            aliases=tuple(str(a) for a in data.get("aliases") or [] if isinstance(a, str)),
            cannot_delete=str(data.get("cannot_delete") or ""),
            delete_refused_in=str(data.get("delete_refused_in") or ""),
            never_expires=bool(data.get("never_expires", False)),
            max_concurrency=_count(data.get("max_concurrency")),
            vendor_api=str(data.get("vendor_api") or ""),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(slots=True)
class Settings:
    """Everything in settings.json. Mutable: load, change, `SettingsStore.save`."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    version: int = SETTINGS_VERSION

    def find(self, registry: str) -> Profile | None:
        """The profile named `registry`, else the first whose host matches it."""
        if registry in self.profiles:
            return self.profiles[registry]
        host = registry_host(registry)
        if host in self.profiles:
            return self.profiles[host]
        for profile in self.profiles.values():
            if profile.host == host:
                return profile
        for profile in self.profiles.values():
            if host in profile.aliases:
                return profile
        return None

    def put(self, profile: Profile) -> None:
        self.profiles[profile.name] = profile

    def remove(self, name: str) -> Profile | None:
        return self.profiles.pop(name, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SETTINGS_VERSION,
            "profiles": [p.to_json() for p in self.profiles.values()],
            "ui": self.ui,
        }

    @classmethod
    def from_json(cls, data: Any, *, source: str = "settings") -> Settings:
        if not isinstance(data, dict):
            raise SettingsFileError(f"{source} is not a JSON object")
        version = data.get("version", SETTINGS_VERSION)
        if not isinstance(version, int) or version < 1:
            raise SettingsFileError(f"{source} has an invalid version {version!r}")
        if version > SETTINGS_VERSION:
            raise NewerSettingsVersion(
                f"{source} was written by a newer regview (settings version {version}; this "
                f"regview understands up to {SETTINGS_VERSION}). Upgrade regview, or use "
                "--basedir to keep separate settings; the file was left untouched."
            )
        profiles: dict[str, Profile] = {}
        for index, raw in enumerate(data.get("profiles") or []):
            if not isinstance(raw, dict):
                raise SettingsFileError(f"{source}: profile #{index + 1} is not an object")
            try:
                profile = Profile.from_json(raw)
            except ValueError as exc:
                raise SettingsFileError(f"{source}: profile #{index + 1}: {exc}") from exc
            profiles[profile.name] = profile
        ui = data.get("ui") or {}
        if not isinstance(ui, dict):
            raise SettingsFileError(f"{source}: 'ui' is not an object")
        return cls(profiles=profiles, ui=ui, version=version)


def _find_secretish_keys(value: Any, path: str = "ui") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}"
            if isinstance(key, str) and _SECRETISH_KEY.search(key):
                found.append(here)
            found.extend(_find_secretish_keys(inner, here))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found.extend(_find_secretish_keys(inner, f"{path}[{i}]"))
    return found


class SettingsStore:
    """Reads and writes settings.json. Blocking file I/O: cheap, but keep it off hot loops."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_paths().settings_file

    def load(self) -> Settings:
        """The saved settings, or empty ones when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings()
        except OSError as exc:
            raise SettingsFileError(f"cannot read settings file {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsFileError(
                f"settings file {self.path} is not valid JSON (line {exc.lineno}): fix or "
                "remove it; regview will start with empty settings"
            ) from exc
        return Settings.from_json(data, source=f"settings file {self.path}")

    def save(self, settings: Settings) -> None:
        bad = _find_secretish_keys(settings.ui)
        if bad:
            raise ValueError(
                f"refusing to write {', '.join(bad)} to settings.json: secrets belong in the "
                "keyring (regview.settings.secrets)"
            )
        text = json.dumps(settings.to_json(), indent=2, sort_keys=False) + "\n"
        try:
            write_atomic(self.path, text, mode=0o600)
        except OSError as exc:
            raise SettingsFileError(f"cannot write settings file {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def editing(self) -> Iterator[Settings]:
        """Load, let the caller change, save — under an advisory lock against other regviews."""
        with self._locked():
            settings = self.load()
            yield settings
            self.save(settings)

    def update(self, change: Callable[[Settings], None]) -> Settings:
        with self.editing() as settings:
            change(settings)
        return settings

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def new_secret_id() -> str:
    """A fresh `Profile.secret_id`: random, so no two profiles ever name the same entry."""
    return secrets.token_hex(6)


def with_updates(profile: Profile, **changes: Any) -> Profile:
    """A copy of `profile` with `changes` (dataclasses.replace, typed for callers)."""
    return replace(profile, **changes)
