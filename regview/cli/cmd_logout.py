"""`regview logout REGISTRY`: forget the saved secret (and with --forget, the profile)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from regview.cli import common as C
from regview.cli.help import with_examples
from regview.core.model import CredentialKind
from regview.settings.errors import NoKeyring
from regview.settings.profiles import Settings, SettingsStore, registry_host
from regview.settings.secrets import KeyringStore

EXAMPLES = """\
  regview logout registry.example.com
  regview logout gitlab.example.com:5050 --forget
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "logout",
        help="remove a saved login from the keyring",
        description="Remove the saved password or token of a registry from the keyring. The "
        "profile (address, GitLab API, repository paths) stays unless --forget is given.",
        **with_examples(EXAMPLES),
    )
    p.add_argument("registry", metavar="REGISTRY")
    p.add_argument("--forget", action="store_true", help="also remove the registry's profile")
    p.set_defaults(func=lambda args: C.run(lambda: _logout(args)))


def _logout(args: argparse.Namespace) -> int:
    host = registry_host(args.registry)
    store = SettingsStore()
    profile = store.load().find(host)
    if profile is None:
        raise C.CliError(f"there is no saved login for {host}", C.EXIT_NOT_FOUND)
    removed = False
    if profile.username:
        try:
            removed = KeyringStore().delete(host, profile.username, profile.secret_id)
        except NoKeyring:
            removed = False

    def change(settings: Settings) -> None:
        current = settings.find(host)
        if current is None:
            return
        if args.forget:
            settings.remove(current.name)
        else:
            settings.put(
                replace(
                    current,
                    username="",
                    credential_kind=CredentialKind.ANONYMOUS,
                    verified="",
                    verified_at=None,
                )
            )

    store.update(change)
    what = "secret removed from the keyring" if removed else "no secret was in the keyring"
    tail = "; profile removed" if args.forget else ""
    C.note(f"Logged out of {host} ({what}{tail}).")
    return C.EXIT_OK
