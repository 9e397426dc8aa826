"""Connections for the UI: stored accounts, probing and testing a registry, one session per profile.

    ProbeSummary        what `/v2/` said about a registry, ready to show in words
    AccessSummary       what a credential was shown to do (pull, push, delete, REST API, catalog)
    ConnectBackend      the seam between dialogs and the client core: `probe`, `test`
    Accounts            profiles (settings.json) + secrets (keyring, or memory for the session);
                        every method is async and does its blocking work off the UI thread
    RegistrySession     for one profile: resolves its credentials off the UI thread, owns one
                        `RegistryClient`, closes it on `close()`
    SessionManager      one RegistrySession per profile name; `close_all()` on shutdown

Constructors the main window uses::

    accounts = Accounts()                          # SettingsStore() + FallbackStore()
    sessions = SessionManager(accounts)
    session = await sessions.open("registry.example.com")
    client = session.client                         # regview.core.client.RegistryClient

Nothing here touches Qt widgets: it is plain async code, tested without a window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.log import get_logger
from regview.settings.profiles import Profile, Settings, SettingsStore
from regview.ui.async_utils import run_blocking, run_keyring

if TYPE_CHECKING:
    from regview.settings.secrets import FallbackStore

log = get_logger("ui.session")

KIND_NAMES: dict[RegistryKind, str] = {
    RegistryKind.GITLAB: "GitLab container registry",
    RegistryKind.DOCKER_HUB: "Docker Hub",
    RegistryKind.GHCR: "GitHub Container Registry",
    RegistryKind.HARBOR: "Harbor",
    RegistryKind.GENERIC: "OCI registry",
    RegistryKind.REGVIEW: "regview's own registry",
}

CREDENTIAL_NAMES: dict[CredentialKind, str] = {
    CredentialKind.ANONYMOUS: "Anonymous",
    CredentialKind.PASSWORD: "Username and password",
    CredentialKind.PERSONAL: "Personal access token",
    CredentialKind.DEPLOY: "Deploy token",
    CredentialKind.PROJECT: "Project access token",
    CredentialKind.GROUP: "Group access token",
    CredentialKind.JOB: "CI job token",
    CredentialKind.IDENTITY: "Identity token",
}


def derive_gitlab_api(registry_url: str, realm: str) -> str:
    """Candidate GitLab REST API base for a registry: from a `/jwt/auth` realm, else known pairs.

    The user confirms it before a token is sent there (reference §5.4).
    """
    if realm.rstrip("/").endswith("/jwt/auth"):
        return realm.rstrip("/")[: -len("/jwt/auth")] + "/api/v4"
    host = registry_url.split("://", 1)[-1].split("/", 1)[0].lower()
    if host == "registry.gitlab.com":
        return "https://gitlab.com/api/v4"
    return ""


@dataclass(frozen=True, slots=True)
class ProbeSummary:
    url: str
    kind: RegistryKind
    auth_required: bool
    auth_scheme: str = ""  # "bearer", "basic" or "" when anonymous access works
    realm: str = ""
    api_url: str = ""  # a candidate; only used once the user confirms it
    version: str = ""  # e.g. the Gitlab-Container-Registry-Version header

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, "OCI registry")

    @property
    def headline(self) -> str:
        return f"{self.kind_name} {self.version}".strip()

    def auth_in_words(self) -> str:
        if not self.auth_required:
            return "Anyone can read it without signing in."
        if self.auth_scheme == "basic":
            return "Sign-in required: username and password."
        where = f" issued by {self.realm}" if self.realm else ""
        return f"Sign-in required: tokens{where}."

    def in_words(self) -> str:
        return f"{self.headline} at {self.url}. {self.auth_in_words()}"

    def html(self) -> str:
        return f"<b>{self.headline}</b><br>{self.auth_in_words()}"


@dataclass(frozen=True, slots=True)
class AccessSummary:
    """What a credential did when tested. `None` means "not checked" (no repository to try)."""

    repository: str = ""
    pull: bool | None = None
    push: bool | None = None
    delete: bool | None = None
    api: bool | None = None
    catalog: bool | None = None
    notes: tuple[str, ...] = ()
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None

    def lines(self) -> list[tuple[bool | None, str]]:
        """(ok, sentence) per ability, in the order a person cares about them."""
        repo = f" in {self.repository}" if self.repository else ""
        out: list[tuple[bool | None, str]] = []

        def add(value: bool | None, yes: str, no: str, unknown: str) -> None:
            out.append((value, yes if value else no if value is False else unknown))

        add(
            self.pull,
            f"Can pull (read) images{repo}",
            f"Cannot pull images{repo}",
            "Pull not checked: name a repository to test",
        )
        add(
            self.push,
            f"Can push (write) images{repo}",
            f"Cannot push{repo}: read-only",
            "Push unknown: the registry does not say without a real push",
        )
        add(
            self.delete,
            f"Can delete tags and images{repo}",
            f"Cannot delete{repo}",
            "Delete unknown: the registry does not say without a real delete",
        )
        add(
            self.catalog,
            "Can list every repository (catalog)",
            "Cannot list the catalog: add repository paths by hand or use the GitLab API",
            "Catalog not checked",
        )
        if self.api is not None:
            add(
                self.api,
                "Can use the GitLab REST API (projects, tag details, cleanup)",
                "Cannot use the GitLab REST API",
                "",
            )
        return out

    def short(self) -> str:
        """Compact form stored as `Profile.verified`: 'pull, push, delete, API'."""
        parts = [
            name
            for name, value in (
                ("pull", self.pull),
                ("push", self.push),
                ("delete", self.delete),
                ("catalog", self.catalog),
                ("API", self.api),
            )
            if value
        ]
        return ", ".join(parts) if parts else "nothing"


class ConnectBackend(Protocol):
    """What the dialogs need from the client core. `CoreBackend` is the real one."""

    async def probe(self, endpoint: Endpoint) -> ProbeSummary: ...

    async def test(
        self, endpoint: Endpoint, credentials: Credentials | None, repository: str
    ) -> AccessSummary: ...


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True, slots=True)
class Account:
    """A profile and whether its secret is stored (and where)."""

    profile: Profile
    has_secret: bool
    persistent: bool  # False: the secret lives in memory for this session only


class Accounts:
    """Profiles and their secrets. All methods are async; file and keyring work runs off-thread.

    Secrets are keyed by (registry, username) in the keyring; profile names are only labels, so
    renaming never touches the keyring.
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

    async def replace_secret(
        self, profile: Profile, username: str, kind: CredentialKind, secret: str | None
    ) -> Profile:
        """New credential for an existing profile; the old keyring entry goes if it moved."""
        if profile.username and profile.username != username:
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

    async def remove(self, name: str) -> None:
        settings = await self.load()
        profile = settings.profiles.get(name)
        if profile is None:
            return
        if profile.username:
            await run_keyring(self.secrets.delete, profile.url, profile.username)

        def drop(settings: Settings) -> None:
            settings.remove(name)

        await run_blocking(self.store.update, drop)
        self._changed()


# --------------------------------------------------------------------------- sessions


class ClientFactory(Protocol):
    def __call__(self, endpoint: Endpoint, credentials: Credentials | None) -> Any: ...


class RegistrySession:
    """One registry, as the main window's controllers use it.

    `open()` resolves the credentials (keyring, off the UI thread) and builds the client;
    `client` is then the `RegistryClient` every controller shares; `close()` closes it.
    """

    def __init__(self, profile: Profile, accounts: Accounts, factory: ClientFactory) -> None:
        self.profile = profile
        self.accounts = accounts
        self._factory = factory
        self._client: Any = None
        self._lock = asyncio.Lock()
        self.credentials: Credentials | None = None
        self._closers: list[Callable[[], Awaitable[None]]] = []
        # Sessions are closed only when the manager retires them (profile removed, credential
        # replaced, shutdown). A task still holding a retired session is stale work: it must not
        # build a client nobody will close, so it is cancelled instead.
        self._retired = False

    def _check_retired(self) -> None:
        if self._retired:
            raise asyncio.CancelledError(f"the session for {self.name} was closed")

    def add_closer(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Await `closer()` when this session closes (e.g. the loader's worker-side client)."""
        self._closers.append(closer)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def endpoint(self) -> Endpoint:
        return self.profile.endpoint

    @property
    def client(self) -> Any:
        self._check_retired()
        if self._client is None:
            raise RuntimeError(f"the session for {self.name} is not open")
        return self._client

    @property
    def is_open(self) -> bool:
        return self._client is not None

    async def open(self) -> RegistrySession:
        async with self._lock:
            self._check_retired()
            if self._client is None:
                self.credentials = await self.accounts.credentials(self.profile)
                self._client = self._factory(self.endpoint, self.credentials)
        return self

    async def close(self) -> None:
        async with self._lock:
            self._retired = True
            client, self._client = self._client, None
            closers, self._closers = self._closers, []
            for closer in closers:
                try:
                    await closer()
                except Exception:  # the session's own client must still be closed
                    log.exception("closing a resource of %s failed", self.name)
            if client is not None:
                await client.aclose()


class SessionManager:
    """One RegistrySession per profile name; close them all on shutdown."""

    def __init__(self, accounts: Accounts, factory: ClientFactory | None = None) -> None:
        self.accounts = accounts
        self._factory = factory if factory is not None else default_client_factory
        self._sessions: dict[str, RegistrySession] = {}

    def get(self, name: str) -> RegistrySession | None:
        return self._sessions.get(name)

    async def open(self, name: str) -> RegistrySession:
        existing = self._sessions.get(name)
        if existing is not None:
            return await existing.open()
        settings = await self.accounts.load()
        profile = settings.profiles.get(name)
        if profile is None:
            raise KeyError(f"there is no registry called {name!r}")
        session = RegistrySession(profile, self.accounts, self._factory)
        self._sessions[name] = session
        return await session.open()

    async def reopen(self, name: str) -> RegistrySession:
        """Close and reopen (after the credential or the profile changed)."""
        await self.discard(name)
        return await self.open(name)

    async def discard(self, name: str) -> None:
        session = self._sessions.pop(name, None)
        if session is not None:
            await session.close()

    async def close_all(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            try:
                await session.close()
            except Exception:  # closing must go on for the others
                log.exception("closing the session for %s failed", session.name)


def default_client_factory(endpoint: Endpoint, credentials: Credentials | None) -> Any:
    from regview.core.client import RegistryClient  # type: ignore[import-not-found,unused-ignore]

    return RegistryClient(endpoint, credentials)


class CoreBackend:
    """`ConnectBackend` over the client core (`regview.core.probe`, `RegistryClient`)."""

    async def probe(self, endpoint: Endpoint) -> ProbeSummary:
        from regview.core.probe import probe

        r = await probe(endpoint)
        return ProbeSummary(
            url=r.url,
            kind=r.kind,
            auth_required=r.auth_required,
            auth_scheme=r.auth_scheme,
            realm=r.realm,
            api_url=r.api_url,
            version=r.version,
        )

    async def test(
        self, endpoint: Endpoint, credentials: Credentials | None, repository: str
    ) -> AccessSummary:
        from regview.core.client import RegistryClient
        from regview.core.errors import CatalogRefused, ResponseError

        notes: list[str] = []
        async with RegistryClient(endpoint, credentials) as client:
            catalog: bool | None = None
            await client.ping()  # bad credentials fail here, in words, before anything else
            if not repository:
                try:
                    async for page in client.iter_repositories():
                        if page:
                            repository = page[0]
                            break
                    catalog = True  # listed (an empty registry lists nothing, but allowed)
                except CatalogRefused:
                    catalog = False
                except ResponseError as exc:
                    notes.append(exc.message)
            if not repository:
                notes.append("Name a repository to check pull, push and delete on it.")
                return AccessSummary(catalog=catalog, notes=tuple(notes))
            access = await client.check_access(repository)
        return AccessSummary(
            repository=repository,
            pull=access.pull,
            push=access.push,
            delete=access.delete,
            api=access.api,
            catalog=access.catalog if access.catalog is not None else catalog,
            notes=tuple(notes),
        )


# --------------------------------------------------------------------------- imports


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
