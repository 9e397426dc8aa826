"""Stored accounts for the UI: profiles (settings.json) and their secrets (keyring, or memory for
the session), and adopting the Docker/podman/CI logins already on the machine.

    Accounts(store=None, secrets=None)      every method is async; blocking work runs off-thread
        .load() / .profiles() / .accounts() / .credentials(profile)
        .save(profile, secret) / .replace_secret(...) / .rename(old, new)
        .remove(name) -> tuple[str, ...]      the registries still sharing its keyring entry
        .sharing(profile, username=None) -> tuple[str, ...]   other profiles with the same login
        .record_access(name, access) / .keyring_problem() / .subscribe(listener)
    await import_logins(accounts, env=None) -> ImportReport

Nothing here touches Qt widgets: it is plain async code, tested without a window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from regview.core.model import CredentialKind, Credentials, Endpoint
from regview.settings.profiles import Profile, Settings, SettingsStore, registry_host
from regview.ui.async_utils import run_blocking, run_keyring
from regview.ui.connect_backend import AccessSummary

if TYPE_CHECKING:
    from regview.settings.secrets import FallbackStore


@dataclass(frozen=True, slots=True)
class Account:
    """A profile and whether its secret is stored (and where)."""

    profile: Profile
    has_secret: bool
    persistent: bool  # False: the secret lives in memory for this session only


class Accounts:
    """Profiles and their secrets. All methods are async; file and keyring work runs off-thread.

    Secrets are keyed by (registry, username) in the keyring; profile names are only labels, so
    renaming never touches the keyring. Profiles with the same registry host and username share
    one entry by design (it is the registry login): replacing the secret of one replaces it for
    all of them (the dialogs say so first), and an entry is deleted only when no remaining
    profile uses it.
    """

    def __init__(
        self, store: SettingsStore | None = None, secrets: FallbackStore | None = None
    ) -> None:
        self.store = store if store is not None else SettingsStore()
        self._secrets = secrets
        self._listeners: list[Callable[[], None]] = []

    @property
    def secrets(self) -> FallbackStore:
        """The keyring-backed store, built on first use: importing keyring costs ~0.25 s."""
        if self._secrets is None:
            from regview.settings.secrets import FallbackStore

            self._secrets = FallbackStore()
        return self._secrets

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every change (a dialog refreshes, the sidebar rebuilds)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    async def keyring_problem(self) -> str:
        """'' when secrets survive a restart; otherwise the reason, in words."""

        from regview.settings.errors import NoKeyring

        def check() -> str:
            if self.secrets.no_keyring:
                return self.secrets.no_keyring
            try:
                self.secrets.primary.check()
            except NoKeyring as exc:
                self.secrets.no_keyring = str(exc)
            return self.secrets.no_keyring

        return await run_keyring(check)

    async def load(self) -> Settings:
        return await run_blocking(self.store.load)

    async def profiles(self) -> list[Profile]:
        return list((await self.load()).profiles.values())

    async def accounts(self) -> list[Account]:
        out = []
        for profile in await self.profiles():
            has = bool(profile.username) and (await self.secret(profile)) is not None
            out.append(Account(profile, has, self.secrets.persistent))
        return out

    async def secret(self, profile: Profile) -> str | None:
        if profile.credential_kind == CredentialKind.ANONYMOUS or not profile.username:
            return None
        return await run_keyring(self.secrets.get, profile.url, profile.username)

    async def credentials(self, profile: Profile) -> Credentials | None:
        secret = await self.secret(profile)
        if secret is None:
            return None
        return Credentials(profile.username, secret, profile.credential_kind)

    async def save(self, profile: Profile, secret: str | None = None) -> Profile:
        """Store `profile` (replacing one of the same name) and its secret, if given."""
        if secret is not None and profile.username:
            await run_keyring(self.secrets.set, profile.url, profile.username, secret)
        await run_blocking(self.store.update, lambda s: s.put(profile))
        self._changed()
        return profile

    async def sharing(self, profile: Profile, username: str | None = None) -> tuple[str, ...]:
        """Names of the other stored profiles that use `profile`'s keyring entry.

        `username` asks about that login at `profile`'s registry instead of its current one.
        """
        return _sharing(await self.load(), profile, username)

    async def replace_secret(
        self, profile: Profile, username: str, kind: CredentialKind, secret: str | None
    ) -> Profile:
        """New credential for an existing profile; the old keyring entry goes if it moved and
        no other profile still uses it."""
        moved = bool(profile.username) and profile.username != username
        if moved and not await self.sharing(profile):
            await run_keyring(self.secrets.delete, profile.url, profile.username)
        updated = replace(
            profile,
            username=username,
            credential_kind=kind,
            verified="",
            verified_at=None,
            expires_at=None,
        )
        return await self.save(updated, secret)

    async def rename(self, old: str, new: str) -> Profile:
        new = new.strip()
        if not new:
            raise ValueError("a registry name cannot be empty")

        def change(settings: Settings) -> Profile:
            if new != old and new in settings.profiles:
                raise ValueError(f"there is already a registry called {new!r}")
            profile = settings.remove(old)
            if profile is None:
                raise ValueError(f"there is no registry called {old!r}")
            renamed = replace(profile, name=new)
            settings.put(renamed)
            return renamed

        def run() -> Profile:
            with self.store.editing() as settings:
                return change(settings)

        renamed = await run_blocking(run)
        self._changed()
        return renamed

    async def record_access(self, name: str, access: AccessSummary) -> Profile | None:
        def change(settings: Settings) -> Profile | None:
            profile = settings.profiles.get(name)
            if profile is None:
                return None
            updated = replace(
                profile,
                verified=access.short(),
                verified_at=access.checked_at,
                expires_at=access.expires_at or profile.expires_at,
            )
            settings.put(updated)
            return updated

        def run() -> Profile | None:
            with self.store.editing() as settings:
                return change(settings)

        updated = await run_blocking(run)
        self._changed()
        return updated

    async def remove(self, name: str) -> tuple[str, ...]:
        """Forget profile `name` and its secret. When other profiles use the same keyring entry
        the secret stays for them: their names are returned (empty when it was deleted)."""
        settings = await self.load()
        profile = settings.profiles.get(name)
        if profile is None:
            return ()
        shared = _sharing(settings, profile)
        if profile.username and not shared:
            await run_keyring(self.secrets.delete, profile.url, profile.username)

        def drop(settings: Settings) -> None:
            settings.remove(name)

        await run_blocking(self.store.update, drop)
        self._changed()
        return shared


def _sharing(settings: Settings, profile: Profile, username: str | None = None) -> tuple[str, ...]:
    user = profile.username if username is None else username
    if not user:
        return ()
    host = registry_host(profile.url)
    return tuple(
        p.name
        for p in settings.profiles.values()
        if p.name != profile.name
        and p.username == user
        and p.credential_kind != CredentialKind.ANONYMOUS
        and registry_host(p.url) == host
    )


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: tuple[str, ...]  # profile names
    skipped: tuple[str, ...]  # "host (user): already stored"
    sources: tuple[str, ...]

    def in_words(self) -> str:
        if not self.added and not self.skipped:
            return (
                "No Docker or podman logins were found (~/.docker/config.json, "
                "containers auth.json, credential helpers)."
            )
        parts = []
        if self.added:
            parts.append(f"Imported {len(self.added)}: {', '.join(self.added)}.")
        if self.skipped:
            parts.append(f"Already here: {', '.join(self.skipped)}.")
        return " ".join(parts)


async def import_logins(accounts: Accounts, env: dict[str, str] | None = None) -> ImportReport:
    """Adopt every Docker/podman/CI login not stored yet: a profile each, secret to the keyring."""
    from regview.settings.importers import import_all
    from regview.settings.profiles import registry_host, registry_url

    logins = await run_blocking(import_all, env)
    settings = await accounts.load()
    known = {(p.host, p.username) for p in settings.profiles.values()}
    names = set(settings.profiles)
    added: list[str] = []
    skipped: list[str] = []
    for login in logins:
        host = registry_host(login.registry)
        if (host, login.username) in known:
            skipped.append(f"{host} ({login.username})")
            continue
        try:
            url = registry_url(login.registry)
        except ValueError:
            skipped.append(f"{login.registry}: not a registry address")
            continue
        name = host if host not in names else f"{host} ({login.username})"
        profile = Profile.for_endpoint(
            Endpoint(url=url),
            name=name,
            username=login.username,
            credential_kind=login.kind,
            repositories=(login.scope,) if login.scope else (),
        )
        await accounts.save(profile, login.secret)
        known.add((host, login.username))
        names.add(name)
        added.append(name)
    sources = tuple(dict.fromkeys(lg.source for lg in logins))
    return ImportReport(tuple(added), tuple(skipped), sources)
