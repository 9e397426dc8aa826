"""Logins people already have: Docker and containers credential files, GitLab CI variables.

Sources, in the order `find_login` consults them for one registry:

- GitLab CI variables (`CI_REGISTRY`, `CI_REGISTRY_USER`/`CI_REGISTRY_PASSWORD`, `CI_JOB_TOKEN`)
  when `CI_REGISTRY` names the registry (see `import_gitlab_ci`; the CLI puts them before the
  keyring, so `find_login` skips them unless asked);
- containers `auth.json`: `$REGISTRY_AUTH_FILE`, `${XDG_RUNTIME_DIR}/containers/auth.json`,
  `~/.config/containers/auth.json` — keys may be `host/ns/repo`, the most specific key that
  contains the repository wins;
- Docker `config.json` (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): `auths` with a
  base64 `auth` (`user:password`) or an `identitytoken`; `credHelpers` (per host) and
  `credsStore` (default) through `docker-credential-<name> get` with a timeout.

Everything returns `ImportedLogin` objects; their `secret` never appears in a repr or message.
Helper programs are run with a timeout and their stderr is not echoed (it may hold secrets).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regview.core.model import CredentialKind
from regview.log import get_logger
from regview.settings.errors import CredentialImportError
from regview.settings.profiles import DOCKER_HUB, registry_host

log = get_logger("settings.importers")

HELPER_TIMEOUT = 10.0
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
JOB_TOKEN_USER = "gitlab-ci-token"
IDENTITY_TOKEN_USER = "<token>"


@dataclass(frozen=True, slots=True)
class ImportedLogin:
    """A login found outside regview. `registry` is `host[:port]` (`docker.io` for the Hub).

    `scope` is the path prefix of the credential-file key (`ns/repo` for a key
    `host/ns/repo`), "" for the whole registry. `source` names where it came from, in words
    ("Docker config /home/me/.docker/config.json", "credential helper docker-credential-pass").
    """

    registry: str
    username: str
    secret: str = field(repr=False)
    kind: CredentialKind
    source: str
    scope: str = ""


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def split_key(key: str) -> tuple[str, str]:
    """`host[/path]` (or a URL) → (`registry_host`, path). Docker Hub's v1 URL has no path."""
    value = key.strip()
    if "://" in value:
        value = value.split("://", 1)[1]
    host, _, path = value.partition("/")
    registry = registry_host(host)
    if registry == DOCKER_HUB and path.rstrip("/") in ("v1", "v2", ""):
        path = ""
    return registry, path.strip("/")


def docker_config_path(env: Mapping[str, str] | None = None) -> Path:
    e = _environ(env)
    base = e.get("DOCKER_CONFIG")
    return (Path(base) if base else _home(e) / ".docker") / "config.json"


def containers_auth_paths(env: Mapping[str, str] | None = None) -> list[Path]:
    """containers' auth files in the order containers-auth.json(5) reads them."""
    e = _environ(env)
    paths: list[Path] = []
    if e.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(e["REGISTRY_AUTH_FILE"]))
    if e.get("XDG_RUNTIME_DIR"):
        paths.append(Path(e["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    config_home = e.get("XDG_CONFIG_HOME")
    base = Path(config_home) if config_home else _home(e) / ".config"
    paths.append(base / "containers" / "auth.json")
    return paths


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialImportError(f"cannot read credential file {path}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialImportError(
            f"credential file {path} is not valid JSON (line {exc.lineno})"
        ) from exc
    if not isinstance(data, dict):
        raise CredentialImportError(f"credential file {path} is not a JSON object")
    return data


def _decode_auth(value: str, key: str, path: Path) -> tuple[str, str]:
    try:
        raw = base64.b64decode(value.strip(), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise CredentialImportError(
            f"the 'auth' entry for {key!r} in {path} is not base64 of 'user:password'"
        ) from exc
    user, sep, password = raw.partition(":")
    if not sep:
        raise CredentialImportError(
            f"the 'auth' entry for {key!r} in {path} has no ':' between user and password"
        )
    return user, password


def _logins_from_auths(data: dict[str, Any], path: Path, source: str) -> list[ImportedLogin]:
    out: list[ImportedLogin] = []
    auths = data.get("auths") or {}
    if not isinstance(auths, dict):
        return out
    for key, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        registry, scope = split_key(str(key))
        identity = entry.get("identitytoken")
        user = str(entry.get("username") or "")
        password = str(entry.get("password") or "")
        if isinstance(entry.get("auth"), str) and entry["auth"]:
            try:
                user, password = _decode_auth(entry["auth"], str(key), path)
            except CredentialImportError as exc:
                log.warning("%s", exc)
                continue
        if isinstance(identity, str) and identity:
            out.append(
                ImportedLogin(
                    registry,
                    user or IDENTITY_TOKEN_USER,
                    identity,
                    CredentialKind.IDENTITY,
                    source,
                    scope,
                )
            )
        elif user and password:
            out.append(ImportedLogin(registry, user, password, _kind_for(user), source, scope))
    return out


def _kind_for(username: str) -> CredentialKind:
    if username == JOB_TOKEN_USER:
        return CredentialKind.JOB
    if username.startswith("gitlab+deploy-token-"):
        return CredentialKind.DEPLOY
    return CredentialKind.PASSWORD


def helper_server_url(registry: str) -> str:
    """What Docker passes to a credential helper for this registry."""
    return DOCKER_HUB_KEY if registry_host(registry) == DOCKER_HUB else registry_host(registry)


def run_credential_helper(
    helper: str,
    server_url: str,
    *,
    timeout: float = HELPER_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> ImportedLogin | None:
    """`docker-credential-<helper> get` for `server_url`; None when it has no login for it.

    Raises CredentialImportError when the helper is missing, times out or answers garbage.
    Blocking (a helper may wait for a GPG or keychain prompt): run off the UI thread.
    """
    program = f"docker-credential-{helper}"
    try:
        result = subprocess.run(
            [program, "get"],
            input=server_url.encode(),
            capture_output=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CredentialImportError(
            f"credential helper {program} is configured but not installed"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CredentialImportError(
            f"credential helper {program} did not answer within {timeout:g} s "
            f"for {server_url} (is it waiting for a password prompt?)"
        ) from exc
    except OSError as exc:
        raise CredentialImportError(f"cannot run credential helper {program}: {exc}") from exc
    if result.returncode != 0:
        text = result.stdout.decode(errors="replace").strip().lower()
        # The protocol's "not found" answer ("credentials not found in native keychain").
        if "not found" in text or not text:
            return None
        raise CredentialImportError(
            f"credential helper {program} failed for {server_url} (exit {result.returncode})"
        )
    try:
        data = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise CredentialImportError(
            f"credential helper {program} answered something that is not JSON"
        ) from exc
    if not isinstance(data, dict):
        raise CredentialImportError(f"credential helper {program} answered a non-object")
    user, secret = str(data.get("Username") or ""), str(data.get("Secret") or "")
    if not secret:
        return None
    registry, scope = split_key(str(data.get("ServerURL") or server_url))
    source = f"credential helper {program}"
    if user == IDENTITY_TOKEN_USER:
        return ImportedLogin(registry, user, secret, CredentialKind.IDENTITY, source, scope)
    return ImportedLogin(registry, user, secret, _kind_for(user), source, scope)


def list_credential_helper(
    helper: str, *, timeout: float = HELPER_TIMEOUT, env: Mapping[str, str] | None = None
) -> list[str]:
    """Server URLs a helper holds logins for (`docker-credential-<helper> list`)."""
    program = f"docker-credential-{helper}"
    try:
        result = subprocess.run(
            [program, "list"],
            input=b"",
            capture_output=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CredentialImportError(f"credential helper {program} could not list logins") from exc
    if result.returncode != 0:
        return []
    try:
        data = json.loads(result.stdout or b"{}")
    except json.JSONDecodeError:
        return []
    return [str(k) for k in data] if isinstance(data, dict) else []


def _helpers_for(data: dict[str, Any], registry: str) -> list[str]:
    helpers = data.get("credHelpers") or {}
    out: list[str] = []
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if isinstance(name, str) and name and split_key(str(key))[0] == registry:
                out.append(name)
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        out.append(store)
    return out


def import_credential_file(
    path: Path,
    *,
    source_label: str,
    env: Mapping[str, str] | None = None,
    timeout: float = HELPER_TIMEOUT,
) -> list[ImportedLogin]:
    """Every login in one Docker/containers credential file, helpers included.

    Inline `auths` come first, then the per-host `credHelpers`, then everything `credsStore`
    lists. A failing helper is logged and skipped so that one broken helper cannot hide the
    other logins.
    """
    data = _read_json(path)
    if data is None:
        return []
    source = f"{source_label} {path}"
    logins = _logins_from_auths(data, path, source)
    seen = {(lg.registry, lg.scope) for lg in logins}
    targets: list[tuple[str, str]] = []
    helpers = data.get("credHelpers") or {}
    if isinstance(helpers, dict):
        targets.extend(
            (str(name), str(key)) for key, name in helpers.items() if isinstance(name, str)
        )
    store = data.get("credsStore")
    if isinstance(store, str) and store:
        try:
            urls = list_credential_helper(store, timeout=timeout, env=env)
        except CredentialImportError as exc:
            log.warning("%s", exc)
            urls = []
        auths = data.get("auths") or {}
        urls.extend(str(k) for k in auths if isinstance(auths, dict))
        targets.extend((store, url) for url in urls)
    for helper, key in targets:
        registry, scope = split_key(key)
        if (registry, scope) in seen:
            continue
        try:
            found = run_credential_helper(helper, key, timeout=timeout, env=env)
        except CredentialImportError as exc:
            log.warning("%s", exc)
            continue
        if found is not None:
            seen.add((registry, scope))
            logins.append(found)
    return logins


def import_docker_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = HELPER_TIMEOUT,
) -> list[ImportedLogin]:
    return import_credential_file(
        path or docker_config_path(env), source_label="Docker config", env=env, timeout=timeout
    )


def import_containers_auth(
    paths: Iterable[Path] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = HELPER_TIMEOUT,
) -> list[ImportedLogin]:
    """Logins of every containers auth file; the first file to name a key wins."""
    out: list[ImportedLogin] = []
    seen: set[tuple[str, str]] = set()
    for path in paths if paths is not None else containers_auth_paths(env):
        for login in import_credential_file(
            path, source_label="containers auth file", env=env, timeout=timeout
        ):
            if (login.registry, login.scope) not in seen:
                seen.add((login.registry, login.scope))
                out.append(login)
    return out


def import_gitlab_ci(env: Mapping[str, str] | None = None) -> list[ImportedLogin]:
    """The registry login of a GitLab CI job, from its predefined variables."""
    e = _environ(env)
    registry = e.get("CI_REGISTRY", "").strip()
    if not registry:
        return []
    host = registry_host(registry)
    user = e.get("CI_REGISTRY_USER", "")
    password = e.get("CI_REGISTRY_PASSWORD", "")
    if user and password:
        kind = CredentialKind.JOB if user == JOB_TOKEN_USER else _kind_for(user)
        return [ImportedLogin(host, user, password, kind, "GitLab CI variables")]
    job_token = e.get("CI_JOB_TOKEN", "")
    if job_token:
        return [
            ImportedLogin(
                host,
                JOB_TOKEN_USER,
                job_token,
                CredentialKind.JOB,
                "GitLab CI variable CI_JOB_TOKEN",
            )
        ]
    return []


def import_all(
    env: Mapping[str, str] | None = None, *, timeout: float = HELPER_TIMEOUT
) -> list[ImportedLogin]:
    """Every login found anywhere, for an "import logins" dialog. Blocking (helpers)."""
    return [
        *import_gitlab_ci(env),
        *import_containers_auth(env=env, timeout=timeout),
        *import_docker_config(env=env, timeout=timeout),
    ]


def _covers(scope: str, repository: str) -> bool:
    return not scope or repository == scope or repository.startswith(scope + "/")


def best_match(
    logins: Iterable[ImportedLogin], registry: str, repository: str = ""
) -> ImportedLogin | None:
    """The login for `registry` whose key covers `repository` most specifically.

    A key `host/ns` covers `ns/app`; with no repository only whole-registry keys qualify.
    Earlier logins win ties.
    """
    host = registry_host(registry)
    candidates = [lg for lg in logins if lg.registry == host]
    if repository:
        covering = [lg for lg in candidates if _covers(lg.scope, repository)]
        if not covering:
            return None
        return max(covering, key=lambda lg: (len(lg.scope), -candidates.index(lg)))
    whole = [lg for lg in candidates if not lg.scope]
    return whole[0] if whole else None


def find_login(
    registry: str,
    repository: str = "",
    *,
    env: Mapping[str, str] | None = None,
    include_ci: bool = False,
    timeout: float = HELPER_TIMEOUT,
) -> ImportedLogin | None:
    """The login for one registry from the files people already have (CI vars if asked).

    Only the helpers configured for this registry are run (not every login a `credsStore`
    holds), so a lookup costs at most one or two subprocesses.
    """
    host = registry_host(registry)
    if include_ci:
        found = best_match(import_gitlab_ci(env), host, repository)
        if found:
            return found
    files = [(p, "containers auth file") for p in containers_auth_paths(env)]
    files.append((docker_config_path(env), "Docker config"))
    for path, label in files:
        try:
            data = _read_json(path)
        except CredentialImportError as exc:
            log.warning("%s", exc)
            continue
        if data is None:
            continue
        found = best_match(_logins_from_auths(data, path, f"{label} {path}"), host, repository)
        if found:
            return found
        for helper in _helpers_for(data, host):
            try:
                found = run_credential_helper(
                    helper, helper_server_url(host), timeout=timeout, env=env
                )
            except CredentialImportError as exc:
                log.warning("%s", exc)
                continue
            if found is not None:
                return found
    return None
