"""`regview login REGISTRY`: verify a login against the registry, then save it.

The profile (address, kind, user name, API base, what was verified) goes to settings.json,
the secret to the keyring. Nothing is saved when the registry refuses the login. A GitLab API
base is only used when given with `--api URL` (or confirmed at the terminal): an API token is
never sent to an address the user did not approve.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime

from regview.cli import common as C
from regview.cli.help import with_examples
from regview.core import errors as E
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.core.vendors import API_TOKEN_ENV, API_TOKEN_USER
from regview.settings.errors import NoKeyring
from regview.settings.profiles import (
    Profile,
    Settings,
    SettingsStore,
    new_secret_id,
    registry_host,
)
from regview.settings.secrets import KeyringStore

KINDS = ("password", "personal", "deploy", "project", "group", "job")


EXAMPLES = """\
  regview login registry.example.com -u me                      (asks for the password)
  echo "$TOKEN" | regview login gitlab.example.com:5050 -u me --password-stdin \
      --api https://gitlab.example.com/api/v4
  regview login 127.0.0.1:5000 -u admin --password-stdin --kind password < pw.txt
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "login",
        help="verify and save a registry login (secret in the keyring)",
        description="Check a login against the registry, then save the profile in settings "
        "and the password or token in the system keyring.",
        **with_examples(EXAMPLES),
    )
    p.add_argument("registry", metavar="REGISTRY", help="host[:port] or URL of the registry")
    C.add_network_options(p)
    p.add_argument(
        "--api",
        metavar="URL",
        help="GitLab API base (e.g. https://gitlab.example.com/api/v4) to list repositories",
    )
    p.add_argument(
        "--kind",
        choices=KINDS,
        help="what the secret is (default: guessed from the user name and token)",
    )
    p.set_defaults(func=lambda args: C.run(lambda: _login(args)))


def _ask(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _login(args: argparse.Namespace) -> int:
    settings = C.load_settings()
    endpoint = C.endpoint_for(
        args.registry,
        settings=settings,
        insecure=args.insecure,
        ca_file=args.ca_file,
        api_url=args.api,
    )
    host = registry_host(endpoint.url)
    username = args.username or os.environ.get("REGVIEW_USERNAME", "")
    interactive = sys.stdin.isatty() and not args.password_stdin
    if not username and interactive:
        username = input(f"Username for {host}: ").strip()
    if not username:
        raise C.CliError(f"a user name is needed to log in to {host}: pass -u USER", C.EXIT_USAGE)
    if args.password_stdin:
        secret = C.read_password_stdin()
    elif os.environ.get("REGVIEW_PASSWORD"):
        secret = os.environ["REGVIEW_PASSWORD"]
    elif interactive:
        secret = getpass.getpass(f"Password or token for {username}@{host}: ")
    else:
        raise C.CliError(
            "no terminal to ask for the password: pipe it in with --password-stdin",
            C.EXIT_USAGE,
        )
    kind = CredentialKind(args.kind) if args.kind else C.guess_kind(username, secret)
    credentials = Credentials(username, secret, kind)
    endpoint, verified = asyncio.run(_check(endpoint, credentials, interactive=interactive))

    # the secret first, in the profile's own entry (a new one for a new login): a profile
    # pointing at a missing secret is worse than none, and no other profile's secret changes
    before = SettingsStore().load().find(host)
    same = before is not None and before.username == username and before.secret_id
    slot = before.secret_id if same and before is not None else new_secret_id()
    try:
        KeyringStore().set(host, username, secret, slot)
        if os.environ.get(API_TOKEN_ENV):  # a management API's own token (Quay), beside it
            KeyringStore().set(host, API_TOKEN_USER, os.environ[API_TOKEN_ENV], slot)
    except NoKeyring as exc:
        raise C.CliError(f"the login to {host} works, but it was not saved: {exc}") from exc
    when = datetime.now(UTC).replace(microsecond=0)

    def save(s: Settings) -> None:
        old = s.find(host)
        new = Profile.for_endpoint(
            endpoint,
            name=old.name if old is not None else "",
            username=username,
            credential_kind=kind,
            verified=verified,
            verified_at=when,
            secret_id=slot,
        )
        if old is not None:  # keep what login does not set (repository paths, expiry, extras)
            new = replace(new, repositories=old.repositories, extra=old.extra)
            if old.username == username:
                new = replace(new, expires_at=old.expires_at)
        s.put(new)

    SettingsStore().update(save)
    C.note(f"Logged in to {host} as {username} ({verified}); the secret is in the keyring.")
    return C.EXIT_OK


async def _check(
    endpoint: Endpoint, credentials: Credentials, *, interactive: bool
) -> tuple[Endpoint, str]:
    """Probe what the registry is, settle the GitLab API base, verify the login."""
    from regview.core.probe import probe

    found = await probe(endpoint)
    host = registry_host(endpoint.url)
    api_url = endpoint.api_url
    offer = found.kind == RegistryKind.GITLAB and not api_url and found.api_url
    if offer and credentials.can_call_gitlab_api and interactive:
        question = f"Use the GitLab API at {found.api_url} (your token is sent there)?"
        if await asyncio.to_thread(_ask, question):
            api_url = found.api_url
    if offer and not api_url:
        C.note(
            f"{host} is a GitLab registry; its API is probably {found.api_url}. To list "
            f"repositories with `regview repos`, log in with --api {found.api_url}"
        )
    endpoint = Endpoint(
        url=endpoint.url,
        insecure=endpoint.insecure,
        ca_file=endpoint.ca_file,
        api_url=api_url,
        kind=found.kind if found.kind != RegistryKind.GENERIC else endpoint.kind,
    )
    verified = await _verify(C.Connection(endpoint, credentials, "login", None))
    return endpoint, verified


async def _verify(conn: C.Connection) -> str:
    """Check the credential; return what it was shown to do, in words. Raises when refused."""
    parts: list[str] = []
    async with conn.client(concurrency=2) as client:
        await client.ping()  # asks a token with the credential: a bad login fails here
        parts.append("login accepted")
    if conn.endpoint.api_url and conn.credentials is not None:
        if conn.credentials.can_call_gitlab_api:
            from regview.core.gitlab.api import GitLabAPI

            api = GitLabAPI(
                conn.endpoint.api_url,
                conn.credentials,
                insecure=conn.endpoint.insecure,
                ca_file=conn.endpoint.ca_file,
            )
            try:
                await api.version()
                parts.append("GitLab API answers")
            except E.GitLabAPIError as exc:
                raise E.GitLabAPIError(
                    f"{exc.message} — the registry accepted the login but the GitLab API at "
                    f"{conn.endpoint.api_url} did not; check --api and the token's read_api "
                    "scope",
                    registry=exc.registry,
                    status=exc.status,
                ) from exc
            finally:
                await api.aclose()
        else:
            parts.append("no GitLab API (deploy tokens cannot use it)")
    return "; ".join(parts)
