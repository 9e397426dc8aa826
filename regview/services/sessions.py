"""Sessions for the UI: one `RegistrySession` per profile, each owning one `RegistryClient`.

    RegistrySession     for one profile: resolves its credentials off the UI thread, owns one
                        `RegistryClient` living on the I/O loop (`services.io_loop`), closes it
                        there on `close()`
    SessionManager      one RegistrySession per profile name; `close_all()` on shutdown

Stored accounts (`Accounts`; importing logins: `import_plan`) live in `regview.services.accounts`; the probe and access
summaries and the `ConnectBackend` in `regview.services.connect`; both are re-exported here.

Constructors the main window uses::

    accounts = Accounts()                          # SettingsStore() + FallbackStore()
    sessions = SessionManager(accounts)            # clients on IoLoop.shared()
    session = await sessions.open("registry.example.com")
    client = session.client        # typed RegistryClient; awaited from any loop, runs on the I/O loop
    session.io_client              # the client itself, for code running on `session.io`

One client per profile: the tag listings (on the I/O loop), details, plans, deletions and
restores (awaited on the UI loop) share one connection pool, one token cache and one disk cache.
Nothing here touches Qt widgets: it is plain async code, tested without a window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, cast

from regview.core.model import Credentials, Endpoint
from regview.log import get_logger
from regview.services.accounts import Account, Accounts, ImportReport
from regview.services.connect import (
    CREDENTIAL_NAMES,
    KIND_NAMES,
    AccessSummary,
    ConnectBackend,
    CoreBackend,
    ProbeSummary,
    derive_gitlab_api,
)
from regview.services.io_loop import IoLoop, LoopBound
from regview.settings.profiles import Profile

if TYPE_CHECKING:
    from regview.core.client.client import RegistryClient
    from regview.core.gitlab.api import GitLabAPI

__all__ = [
    "CREDENTIAL_NAMES",
    "KIND_NAMES",
    "AccessSummary",
    "Account",
    "Accounts",
    "ClientFactory",
    "ConnectBackend",
    "CoreBackend",
    "ImportReport",
    "ProbeSummary",
    "RegistrySession",
    "SessionManager",
    "default_client_factory",
    "derive_gitlab_api",
]

log = get_logger("ui.session")


class ClientFactory(Protocol):
    def __call__(self, endpoint: Endpoint, credentials: Credentials | None) -> Any: ...


class RegistrySession:
    """One registry, as the main window's controllers use it.

    `open()` resolves the credentials (keyring, off the UI thread) and builds the client on the
    I/O loop; `client` is then the `RegistryClient` every controller shares (awaited from the UI
    loop through a `LoopBound` proxy); `close()` closes it on the I/O loop.
    """

    def __init__(
        self,
        profile: Profile,
        accounts: Accounts,
        factory: ClientFactory,
        io: IoLoop | None = None,
    ) -> None:
        self.profile = profile
        self.accounts = accounts
        self.io = io if io is not None else IoLoop.shared()
        self._factory = factory
        self._client: Any = None
        self._proxy: Any = None
        self._gitlab: Any = None  # the GitLab API client, made on first use (on the I/O loop)
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
        """Await `closer()` when this session closes (e.g. a GitLab API client made for it)."""
        self._closers.append(closer)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def endpoint(self) -> Endpoint:
        return self.profile.endpoint

    @property
    def client(self) -> RegistryClient:
        """The profile's one client, usable from any loop: its coroutine methods run on the I/O
        loop (`LoopBound`); on the I/O loop itself, `io_client` saves the hop."""
        _ = self.io_client  # the same checks: not retired, open
        return cast("RegistryClient", self._proxy)

    @property
    def io_client(self) -> RegistryClient:
        """The client itself: only for code running on `self.io`'s loop."""
        self._check_retired()
        if self._client is None:
            raise RuntimeError(f"the session for {self.name} is not open")
        return cast("RegistryClient", self._client)

    async def gitlab_api(self) -> GitLabAPI:
        """The profile's one GitLab API client (its `api_url`), on the I/O loop like the
        registry client and reached the same way; closed with the session (open it first)."""
        async with self._lock:
            _ = self.io_client  # retired: cancelled; not open: no credentials to call it with
            if self._gitlab is None:
                from regview.core.gitlab.api import GitLabAPI

                p, credentials = self.profile, self.credentials

                async def make() -> GitLabAPI:
                    return GitLabAPI(p.api_url, credentials, insecure=p.insecure, ca_file=p.ca_file)

                self._gitlab = await self._made(make())
            return cast("GitLabAPI", LoopBound(self._gitlab, self.io))

    @property
    def is_open(self) -> bool:
        return self._client is not None

    async def open(self) -> RegistrySession:
        async with self._lock:
            self._check_retired()
            if self._client is None:
                self.credentials = await self.accounts.credentials(self.profile)
                self._check_retired()
                self._adopt(await self._make(self.credentials))
        return self

    async def _make(self, credentials: Credentials | None) -> Any:
        endpoint, factory = self.endpoint, self._factory

        async def make() -> Any:
            return factory(endpoint, credentials)

        return await self._made(make())

    async def _made(self, make: Coroutine[Any, Any, Any]) -> Any:
        """A client, made on the I/O loop (whatever it binds to, it binds there). Cancelled
        while it is being made, it is closed there rather than left with its pool open."""
        made = asyncio.ensure_future(self.io.run(make))
        try:
            return await asyncio.shield(made)
        except asyncio.CancelledError:
            made.add_done_callback(self._close_orphan)
            raise

    def _close_orphan(self, made: asyncio.Future[Any]) -> None:
        if made.cancelled() or made.exception() is not None:
            return
        client = made.result()
        asyncio.run_coroutine_threadsafe(client.aclose(), self.io.loop)

    def _adopt(self, client: Any) -> None:
        self._client = client
        self._proxy = LoopBound(client, self.io)

    async def close(self) -> None:
        async with self._lock:
            self._retired = True
            client, self._client, self._proxy = self._client, None, None
            gitlab, self._gitlab = self._gitlab, None
            closers, self._closers = self._closers, []
            for closer in closers:
                try:
                    await closer()
                except Exception:  # the session's own client must still be closed
                    log.exception("closing a resource of %s failed", self.name)
            for owned in (gitlab, client):
                if owned is not None:
                    try:
                        await self.io.run(owned.aclose())
                    except Exception:  # the other must still be closed
                        log.exception("closing a client of %s failed", self.name)


class SessionManager:
    """One RegistrySession per profile name; close them all on shutdown."""

    def __init__(
        self, accounts: Accounts, factory: ClientFactory | None = None, io: IoLoop | None = None
    ) -> None:
        self.accounts = accounts
        self._factory = factory if factory is not None else default_client_factory
        self._io = io
        self._sessions: dict[str, RegistrySession] = {}
        # bumped whenever a profile's session is retired: a view bound to an older generation
        # shows what an old credential or address read (see ui.window_binding)
        self._generations: dict[str, int] = {}

    @property
    def io(self) -> IoLoop:
        """The loop every session's client lives on (the process's shared one by default)."""
        if self._io is None:
            self._io = IoLoop.shared()
        return self._io

    def generation(self, name: str) -> int:
        return self._generations.get(name, 0)

    def get(self, name: str) -> RegistrySession | None:
        return self._sessions.get(name)

    async def open(self, name: str) -> RegistrySession:
        existing = self._sessions.get(name)
        if existing is not None:
            return await existing.open()
        settings = await self.accounts.load()
        # Another open() of the same profile may have made its session while this one read the
        # settings: use that one. Making a second one orphaned the first — its client, never
        # closed, left an aiohttp pool behind (the window's listing and a delete plan race here).
        existing = self._sessions.get(name)
        if existing is not None:
            return await existing.open()
        profile = settings.profiles.get(name)
        if profile is None:
            # removed while a load for it was on its way: stale work, like a retired session's
            raise asyncio.CancelledError(f"there is no registry called {name!r} any more")
        session = RegistrySession(profile, self.accounts, self._factory, self.io)
        self._sessions[name] = session
        return await session.open()

    async def reopen(self, name: str) -> RegistrySession:
        """Close and reopen (after the credential or the profile changed)."""
        await self.discard(name)
        return await self.open(name)

    async def discard(self, name: str) -> None:
        self._generations[name] = self.generation(name) + 1
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
    """The session's client keeps the disk caches (manifests and configs by digest, tag
    listings): details, plans and restores re-read nothing the table already read."""
    from regview.core.client.client import RegistryClient  # type: ignore[import-not-found,unused-ignore]

    cache_dir = None
    try:
        from regview.paths import default_paths

        cache_dir = default_paths().cache
    except Exception as exc:  # no cache is no reason not to connect
        log.info("no cache for the session of %s: %s", endpoint.url, exc)
    return RegistryClient(endpoint, credentials, cache_dir=cache_dir)
