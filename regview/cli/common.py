"""Plumbing shared by the network commands: credentials, endpoints, output, errors, exit codes.

Exit codes (documented in `regview --help` epilog and the README):

    0  success
    1  error: the registry or the network failed, a file could not be written, a bug
    2  usage: bad arguments, a malformed image reference, a password needed but no terminal
    3  authentication or permission: login refused, token expired, right missing, catalog refused
    4  not found: the repository, tag, manifest or GitLab project does not exist
    5  refused: a destructive command without --yes and no terminal, or the user said no
    130 interrupted (Ctrl-C)

Credential resolution (`resolve_credentials`), first match wins:
  1. `-u/--username` with `--password-stdin` (or `-u` alone: that user's keyring entry, else a
     password prompt when stdin is a terminal);
  2. `REGVIEW_USERNAME` + `REGVIEW_PASSWORD`;
  3. GitLab CI variables when `CI_REGISTRY` names this registry;
  4. the keyring entry of the saved profile (`regview login`);
  5. Docker / podman credential files and their credential helpers;
  otherwise anonymous.

Errors are printed to stderr as one line `regview: <message>`, never a traceback, never a
secret. A bug (anything that is not a RegistryError/SettingsError/SpecError) still shows a
traceback: that is for a bug report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.client.transport import build_ssl_context
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.paths import default_paths
from regview.settings.errors import SettingsError
from regview.settings.profiles import Profile, Settings, SettingsStore, registry_host, registry_url
from regview.spec.errors import SpecError

if TYPE_CHECKING:  # keyring and its dependencies: ~15 ms of every command's start-up, imported
    from regview.settings.secrets import KeyringStore  # when a login is looked up

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_REFUSED = 5
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = (
    "exit codes: 0 success, 1 error, 2 usage, 3 authentication/permission, 4 not found, "
    "5 refused (destructive command without --yes and no terminal), 130 interrupted"
)


class CliError(Exception):
    """A failure to report in words with an exit code (usage mistakes, missing input)."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- output -------------------------------------------------------------------------------------


def error(message: str, *, stream: TextIO | None = None) -> None:
    print(f"regview: {message}", file=stream if stream is not None else sys.stderr)


def note(message: str) -> None:
    """Progress and hints for people: stderr, so stdout stays clean for pipes and --json."""
    print(message, file=sys.stderr)


def note_throttling(client: RegistryClient) -> None:
    """Say on stderr when the registry slowed the command down (429/503) or counts pulls."""
    words = client.limiter.status_words(client.registry)
    if words:
        note(f"note: {words}")


def throttled_json(exc: E.TooManyRequests) -> dict[str, Any]:
    """The `--json` error object of a 429 the command gave up on: words and pull allowance."""
    allowance = exc.allowance.as_json() if exc.allowance is not None else None
    return {"error": exc.message, "pull_allowance": allowance}


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def print_json(obj: Any, *, stream: TextIO | None = None) -> None:
    out = stream if stream is not None else sys.stdout
    json.dump(obj, out, indent=2, default=_json_default)
    out.write("\n")


def print_json_rows(rows: list[Any], *, stream: TextIO | None = None) -> None:
    """A JSON list with one compact object per line: what `jq` and `grep` like, and ~4× faster
    than `print_json` for 10,000 tags (the C encoder only runs without `indent`)."""
    out = stream if stream is not None else sys.stdout
    out.write("[\n" + ",\n".join(map(_row_encoder(), rows)) + ("\n]\n" if rows else "]\n"))


def _row_encoder() -> Callable[[Any], str]:
    """`json.JSONEncoder(default=_json_default).encode`, with the C encoder it builds for each
    call built once: 2,000 rows took 8.0 ms, 5.6 ms so (a part of `regview tags --json`'s
    end). The same arguments `JSONEncoder.iterencode` passes it, so the same text."""
    encoder = json.JSONEncoder(default=_json_default)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return encoder.encode
    one = make(
        {},  # check_circular, as JSONEncoder's default; each container leaves it when done
        encoder.default,
        json.encoder.encode_basestring_ascii,  # ensure_ascii, as JSONEncoder's default
        None,  # indent
        encoder.key_separator,
        encoder.item_separator,
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    return lambda row: "".join(one(row, 0))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def table(rows: list[list[str]], headers: list[str], *, stream: TextIO | None = None) -> None:
    out = stream if stream is not None else sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for row in [headers, *rows]:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


# -- arguments ----------------------------------------------------------------------------------


def add_credential_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-u", "--username", help="user name (else REGVIEW_USERNAME, saved login…)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password or token from standard input (never pass it as an argument)",
    )


def add_connection_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow plain http to a non-loopback registry and skip TLS certificate checks",
    )
    p.add_argument("--ca-file", metavar="FILE", help="trust this CA certificate (PEM) as well")


def add_json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def add_network_options(p: argparse.ArgumentParser) -> None:
    add_credential_options(p)
    add_connection_options(p)


def read_password_stdin(stream: TextIO | None = None) -> str:
    """The whole of stdin minus the trailing newline (as `docker login --password-stdin`)."""
    data = (stream if stream is not None else sys.stdin).read()
    secret = data.rstrip("\r\n")
    if not secret:
        raise CliError("--password-stdin was given but standard input was empty", EXIT_USAGE)
    return secret


def confirm_destructive(args: argparse.Namespace, question: str) -> bool:
    """`--yes`, or a person at a terminal who answers yes. Without a terminal: refuse.

    Callers return EXIT_REFUSED when this is False.
    """
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        error(
            "refusing to change anything without --yes when standard input is not a terminal "
            "(nothing was changed)"
        )
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# -- credentials and endpoints ------------------------------------------------------------------


def guess_kind(username: str, secret: str = "") -> CredentialKind:
    """The credential kind a username/token suggests (the user may override it)."""
    if username == "gitlab-ci-token":
        return CredentialKind.JOB
    if username.startswith("gitlab+deploy-token-") or secret.startswith("gldt-"):
        return CredentialKind.DEPLOY
    if secret.startswith("glpat-"):
        return CredentialKind.PERSONAL
    if username == "<token>":
        return CredentialKind.IDENTITY
    return CredentialKind.PASSWORD


@dataclass(frozen=True, slots=True)
class Resolved:
    """Credentials for one registry and where they came from, in words (never the secret)."""

    credentials: Credentials | None
    source: str


def load_settings() -> Settings:
    return SettingsStore().load()


def resolve_credentials(
    registry: str,
    repository: str = "",
    *,
    username: str | None = None,
    password_stdin: bool = False,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    store: KeyringStore | None = None,
    stdin: TextIO | None = None,
) -> Resolved:
    """Credentials for `registry` in the documented order (see the module docstring).

    Blocking: may call the keyring and credential helpers.
    """
    e = os.environ if env is None else env
    host = registry_host(registry)
    profile = settings.find(host) if settings is not None else None

    def from_keyring(user: str) -> str | None:
        # the profile's own entry when it is the profile's login, else the shared legacy one
        slot = profile.secret_id if profile is not None and profile.username == user else ""
        from regview.settings.secrets import KeyringStore

        try:
            return (store or KeyringStore()).get(host, user, slot)
        except SettingsError:
            return None  # no keyring / locked: fall through to the next source

    if password_stdin:
        if not username:
            raise CliError("--password-stdin needs -u/--username", EXIT_USAGE)
        secret = read_password_stdin(stdin)
        kind = _profile_kind(profile, username) or guess_kind(username, secret)
        return Resolved(Credentials(username, secret, kind), "--password-stdin")
    if username:
        saved = from_keyring(username)
        if saved is not None:
            kind = _profile_kind(profile, username) or guess_kind(username, saved)
            return Resolved(Credentials(username, saved, kind), "the keyring")
        if sys.stdin.isatty():
            import getpass  # only here: with termios, ~1 ms of every command's start-up

            secret = getpass.getpass(f"Password or token for {username}@{host}: ")
            return Resolved(Credentials(username, secret, guess_kind(username, secret)), "prompt")
        raise CliError(
            f"no saved password for {username}@{host} and no terminal to ask: pass "
            "--password-stdin, or run `regview login` first",
            EXIT_USAGE,
        )
    user, password = e.get("REGVIEW_USERNAME", ""), e.get("REGVIEW_PASSWORD", "")
    if user and password:
        kind = _profile_kind(profile, user) or guess_kind(user, password)
        return Resolved(Credentials(user, password, kind), "REGVIEW_USERNAME/REGVIEW_PASSWORD")

    from regview.settings import importers

    ci = importers.best_match(importers.import_gitlab_ci(e), host, repository)
    if ci is not None:
        return Resolved(Credentials(ci.username, ci.secret, ci.kind), ci.source)
    if profile is not None and profile.username:
        saved = from_keyring(profile.username)
        if saved is not None:
            return Resolved(
                Credentials(profile.username, saved, profile.credential_kind), "the keyring"
            )
    found = importers.find_login(host, repository, env=e)
    if found is not None:
        return Resolved(Credentials(found.username, found.secret, found.kind), found.source)
    return Resolved(None, "anonymous")


def _profile_kind(profile: Profile | None, username: str) -> CredentialKind | None:
    if (
        profile is not None
        and profile.username == username
        and profile.credential_kind != CredentialKind.ANONYMOUS
    ):
        return profile.credential_kind
    return None


def endpoint_for(
    registry: str,
    *,
    settings: Settings | None = None,
    insecure: bool = False,
    ca_file: str | None = None,
    api_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Endpoint:
    """The endpoint for what the user typed, merged with the saved profile and the flags.

    In a GitLab CI job whose `CI_REGISTRY` is this registry, `CI_API_V4_URL` is the API base
    (GitLab itself says where its API is; nothing to confirm).
    """
    e = os.environ if env is None else env
    try:
        url = registry_url(registry)
    except ValueError as exc:  # the words are the dialog's; a CI log also needs the address
        raise CliError(f"registry address {registry}: {exc}", EXIT_USAGE) from exc
    profile = settings.find(registry_host(registry)) if settings is not None else None
    kind = RegistryKind.GENERIC
    saved_api = ""
    max_concurrency = profile.max_concurrency if profile is not None else 0
    if profile is not None:
        if "://" not in registry:
            url = profile.url
        insecure = insecure or profile.insecure
        ca_file = ca_file or profile.ca_file
        kind, saved_api = profile.kind, profile.api_url
    ci_registry = e.get("CI_REGISTRY", "")
    if not saved_api and ci_registry and registry_host(ci_registry) == registry_host(registry):
        saved_api = e.get("CI_API_V4_URL", "")
        if saved_api:
            kind = RegistryKind.GITLAB
    if ca_file and not Path(ca_file).is_file():
        problem = "is not a file" if Path(ca_file).exists() else "does not exist"
        raise CliError(f"the CA file {ca_file} {problem}", EXIT_USAGE)
    if ca_file and "://" not in registry and profile is None and url.startswith("http://"):
        # a CA file only means something for TLS: `127.0.0.1:8443 --ca-file ca.pem` is https
        url = "https://" + url[len("http://") :]
    endpoint = Endpoint(
        url=url,
        insecure=insecure,
        ca_file=ca_file or "",
        api_url=api_url or saved_api,
        kind=RegistryKind.GITLAB if api_url else kind,
        max_concurrency=max_concurrency,
        vendor_api=profile.vendor_api if profile is not None else "",
    )
    if ca_file:
        try:
            build_ssl_context(endpoint)  # a file that is not a PEM certificate: say so now
        except E.RegistryError as exc:
            raise CliError(exc.message, EXIT_USAGE) from exc
    return endpoint


@dataclass(frozen=True, slots=True)
class Connection:
    endpoint: Endpoint
    credentials: Credentials | None
    source: str
    profile: Profile | None

    @property
    def host(self) -> str:
        return registry_host(self.endpoint.url)

    def client(self, *, concurrency: int | None = None) -> RegistryClient:
        """A RegistryClient using the shared content cache (use it with `async with`).

        `concurrency`: requests in flight, fixed; None adapts to the link (core/limiter)."""
        return RegistryClient(
            self.endpoint,
            self.credentials,
            cache_dir=default_paths().cache,
            concurrency=concurrency,
        )


def connect(args: argparse.Namespace, registry: str, repository: str = "") -> Connection:
    """Endpoint + credentials for a network command from its parsed arguments.

    Expects the options of `add_network_options`; `api` is used when the command has it.
    """
    settings = load_settings()
    endpoint = endpoint_for(
        registry,
        settings=settings,
        insecure=bool(getattr(args, "insecure", False)),
        ca_file=getattr(args, "ca_file", None),
        api_url=getattr(args, "api", None),
    )
    resolved = resolve_credentials(
        registry,
        repository,
        username=getattr(args, "username", None),
        password_stdin=bool(getattr(args, "password_stdin", False)),
        settings=settings,
    )
    return Connection(
        endpoint, resolved.credentials, resolved.source, settings.find(registry_host(registry))
    )


# -- running ------------------------------------------------------------------------------------


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, (E.AuthenticationFailed, E.AccessDenied, E.DeployTokenNoAPI)):
        return EXIT_AUTH
    if isinstance(exc, E.NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, (E.GitLabAPIError, E.VendorAPIError)):
        return {401: EXIT_AUTH, 403: EXIT_AUTH, 404: EXIT_NOT_FOUND}.get(exc.status, EXIT_ERROR)
    if isinstance(exc, SpecError):
        return EXIT_USAGE
    return EXIT_ERROR


def words_for(exc: BaseException) -> str:
    """The one line a failure prints; the core's advice, plus how to follow it here."""
    message: str = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, E.CertificateNotTrusted):
        message += (
            " (on the command line: --ca-file FILE with the CA's PEM certificate; "
            "`regview login REGISTRY --ca-file FILE` keeps it for next time)"
        )
    return message


def run(main: Callable[[], Awaitable[int]] | Callable[[], int], *, fast_loop: bool = False) -> int:
    """Run a command body (sync or async) and turn known failures into words + exit codes.

    `fast_loop`: on uvloop's event loop where installed (`process.event_loop_factory`): a
    listing's thousands of requests spend ~10 % less CPU there."""
    try:
        result = main()
        if asyncio.iscoroutine(result):
            factory = None
            if fast_loop:
                from regview.cli.process import event_loop_factory

                factory = event_loop_factory()
            with asyncio.Runner(loop_factory=factory) as runner:  # = asyncio.run(result)
                result = runner.run(result)
        return int(result)  # type: ignore[arg-type]
    except (CliError, E.RegistryError, SettingsError, SpecError) as exc:
        error(words_for(exc))
        return exit_code_for(exc)
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `regview tags … | head`: the reader left; not an error worth a traceback
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
