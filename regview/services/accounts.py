"""Stored accounts for the UI: profiles (settings.json) and their secrets (keyring, or memory for
the session), one keyring entry per profile.

    Accounts(store=None, secrets=None)      every method is async; blocking work runs off-thread
        .load() / .profiles() / .accounts() / .credentials(profile)
        .save(profile, secret) / .replace_secret(...) / .rename(old, new)
        .migrate() -> tuple[str, ...]         move profiles off the shared pre-per-profile entries
        .remove(name) -> tuple[str, ...]      not-yet-migrated profiles still on its shared entry
        .sharing(profile, username=None) -> tuple[str, ...]   the same, before migration
        .record_access(name, access) / .keyring_problem() / .subscribe(listener)
    ImportReport                            what an import added and skipped, in words
                                            (the import itself: `import_plan`)

Nothing here touches Qt widgets: it is plain async code, tested without a window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from regview.core.model import CredentialKind, Credentials
from regview.log import get_logger
from regview.services.async_utils import run_blocking, run_keyring
from regview.services.connect import AccessSummary
from regview.settings.errors import SettingsError
from regview.settings.profiles import (
    Profile,
    Settings,
    SettingsStore,
    new_secret_id,
    registry_host,
)

if TYPE_CHECKING:
    from regview.settings.secrets import FallbackStore

log = get_logger("ui.accounts")


@dataclass(frozen=True, slots=True)
class Account:
    """A profile and whether its secret is stored (and where)."""

    profile: Profile
    has_secret: bool
    persistent: bool  # False: the secret lives in memory for this session only


class Accounts:
    """Profiles and their secrets. All methods are async; file and keyring work runs off-thread.

    Every profile has its own keyring entry (`Profile.secret_id`), so adding, replacing or
    removing one profile's credential never changes another's — even for the same registry and
    username. Profiles saved before that (no `secret_id`) read the old shared entry until
    `migrate()` (run once, on the first `profiles()`) has copied it into an entry of their own;
    the shared entry is deleted only after every profile using it has its copy, read back.
    Renaming never touches the keyring.
    """

    def __init__(
        self, store: SettingsStore | None = None, secrets: FallbackStore | None = None
    ) -> None:
        self.store = store if store is not None else SettingsStore()
        self._secrets = secrets
        self._listeners: list[Callable[[], None]] = []
        self._migrated = False

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
        if not self._migrated:
            self._migrated = True
            try:
                await self.migrate()
            except SettingsError as exc:  # a locked keyring: the shared entries still work
                log.warning("keyring entries not migrated yet: %s", exc)
        return list((await self.load()).profiles.values())

    async def migrate(self) -> tuple[str, ...]:
        """Give every profile still on a shared keyring entry an entry of its own.

        Returns the names of the profiles migrated. A shared entry is deleted only once every
        profile that used it has a copy that reads back equal; a profile whose shared entry is
        missing is left as it was (Tokens shows its secret as missing).
        """
        settings = await self.load()
        pending = [
            p
            for p in settings.profiles.values()
            if not p.secret_id and p.username and p.credential_kind != CredentialKind.ANONYMOUS
        ]
        if not pending or await self.keyring_problem():
            return ()  # without a keyring there is nothing shared to move
        copied: dict[str, str] = {}  # profile name -> new secret_id
        shared_ok: dict[tuple[str, str], bool] = {}
        for p in pending:
            legacy = (p.host, p.username)
            secret = await run_keyring(self.secrets.get, p.url, p.username)
            if secret is None:
                shared_ok[legacy] = False
                continue
            slot = new_secret_id()
            await run_keyring(self.secrets.set, p.url, p.username, secret, slot)
            back = await run_keyring(self.secrets.get, p.url, p.username, slot)
            if back != secret or not self.secrets.persistent:  # only in memory: keep the old
                shared_ok[legacy] = False
                continue
            copied[p.name] = slot
            shared_ok.setdefault(legacy, True)

        def record(s: Settings) -> None:
            for name, slot in copied.items():
                current = s.profiles.get(name)
                if current is not None and not current.secret_id:
                    s.put(replace(current, secret_id=slot))

        await run_blocking(self.store.update, record)
        for (host, username), ok in shared_ok.items():
            if ok:
                await run_keyring(self.secrets.delete, host, username)
        if copied:
            log.info("moved %d keyring entries to per-registry entries", len(copied))
            self._changed()
        return tuple(copied)

    async def accounts(self) -> list[Account]:
        out = []
        for profile in await self.profiles():
            has = bool(profile.username) and (await self.secret(profile)) is not None
            out.append(Account(profile, has, self.secrets.persistent))
        return out

    async def secret(self, profile: Profile) -> str | None:
        if profile.credential_kind == CredentialKind.ANONYMOUS or not profile.username:
            return None
        return await run_keyring(self.secrets.get, profile.url, profile.username, profile.secret_id)

    async def credentials(self, profile: Profile) -> Credentials | None:
        secret = await self.secret(profile)
        if secret is None:
            return None
        token = await self.api_token(profile)
        return Credentials(profile.username, secret, profile.credential_kind, api_token=token)

    async def api_token(self, profile: Profile) -> str:
        """The management API's own token stored beside `profile`'s login (Quay's OAuth token
        with a robot account: `api-token@<host>#<secret_id>`), "" when its registry takes none
        or none is stored."""
        from regview.core.vendors import API_TOKEN_USER, needs_api_token  # httpx: not at start

        if not profile.secret_id or not needs_api_token(profile.kind):
            return ""
        try:
            token = await run_keyring(
                self.secrets.get, profile.url, API_TOKEN_USER, profile.secret_id
            )
        except SettingsError as exc:  # the login still works on /v2; the API says what is missing
            log.info("no API token for %s: %s", profile.name, exc)
            return ""
        return token or ""

    async def save(
        self, profile: Profile, secret: str | None = None, api_token: str | None = None
    ) -> Profile:
        """Store `profile` (replacing one of the same name) and its secret, if given, and the
        management API's own token beside it (`api_token`; None leaves a stored one as it is).

        The secret goes to the profile's own entry (a new one for a profile without): no other
        profile's secret changes."""
        if secret is not None and profile.username:
            if not profile.secret_id:
                profile = replace(profile, secret_id=new_secret_id())
            await run_keyring(
                self.secrets.set, profile.url, profile.username, secret, profile.secret_id
            )
        if api_token and profile.secret_id:
            from regview.core.vendors import API_TOKEN_USER

            await run_keyring(
                self.secrets.set, profile.url, API_TOKEN_USER, api_token, profile.secret_id
            )
        await run_blocking(self.store.update, lambda s: s.put(profile))
        self._changed()
        return profile

    async def sharing(self, profile: Profile, username: str | None = None) -> tuple[str, ...]:
        """Names of the other stored profiles still on `profile`'s shared (pre-migration)
        keyring entry; empty for every profile with an entry of its own."""
        return _sharing(await self.load(), profile, username)

    async def replace_secret(
        self,
        profile: Profile,
        username: str,
        kind: CredentialKind,
        secret: str | None,
        api_token: str | None = None,
    ) -> Profile:
        """New credential for an existing profile, in its own keyring entry; the entry of the
        old username goes (a shared one only when no other profile still uses it). A stored API
        token stays unless `api_token` replaces it."""
        moved = bool(profile.username) and profile.username != username
        if moved or not profile.secret_id:  # the old entry (a shared one only if unused) goes
            await self._forget_secret(profile, api_token=False)  # the slot's API token stays
        updated = replace(
            profile,
            username=username,
            credential_kind=kind,
            verified="",
            verified_at=None,
            expires_at=None,
            cannot_delete="",
            delete_refused_in="",
            never_expires=False,
            secret_id=profile.secret_id or new_secret_id(),
        )
        return await self.save(updated, secret, api_token)

    async def _forget_secret(self, profile: Profile, *, api_token: bool = True) -> tuple[str, ...]:
        """Delete `profile`'s entry (and the API token beside it, unless `api_token` is False);
        a shared one stays for the profiles named in the result."""
        from regview.core.vendors import API_TOKEN_USER, needs_api_token

        if not profile.username:
            return ()
        if profile.secret_id:
            await run_keyring(self.secrets.delete, profile.url, profile.username, profile.secret_id)
            if api_token and needs_api_token(profile.kind):
                await run_keyring(
                    self.secrets.delete, profile.url, API_TOKEN_USER, profile.secret_id
                )
            return ()
        shared = await self.sharing(profile)
        if not shared:
            await run_keyring(self.secrets.delete, profile.url, profile.username)
        return shared

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
                cannot_delete=access.cannot_delete(),
                # a refusal holds for the repository tested (roles differ between projects)
                delete_refused_in=access.repository if access.delete is False else "",
                never_expires=access.never_expires,
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
        """Forget profile `name` and its secret. Only a profile not migrated yet can share its
        entry: then it stays for the others, whose names are returned."""
        settings = await self.load()
        profile = settings.profiles.get(name)
        if profile is None:
            return ()
        shared = await self._forget_secret(profile)

        def drop(settings: Settings) -> None:
            settings.remove(name)

        await run_blocking(self.store.update, drop)
        self._changed()
        return shared


def _sharing(settings: Settings, profile: Profile, username: str | None = None) -> tuple[str, ...]:
    user = profile.username if username is None else username
    if not user or profile.secret_id:
        return ()
    host = registry_host(profile.url)
    return tuple(
        p.name
        for p in settings.profiles.values()
        if p.name != profile.name
        and not p.secret_id
        and p.username == user
        and p.credential_kind != CredentialKind.ANONYMOUS
        and registry_host(p.url) == host
    )


NOT_AN_ADDRESS = "not a registry address"


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
        known = [s for s in self.skipped if not s.endswith(NOT_AN_ADDRESS)]
        refused = [s for s in self.skipped if s.endswith(NOT_AN_ADDRESS)]
        if known:
            parts.append(f"Already here: {', '.join(known)}.")
        if refused:
            parts.append(f"Skipped: {', '.join(refused)}.")
        return " ".join(parts)
