"""Local test registry mode: the embedded registry with demo data, and a profile connected to it.

    LocalMode(accounts, paths=None, *, auth="token", demo=True)
        await start() -> Profile   start `LocalRegistry(data_dir=paths.local_registry_dir,
                                   demo=True, auth=auth)` in its background thread (off the UI thread),
                                   then create or update the profile `LOCAL_PROFILE` for its URL
                                   and return it. It listens on the port of the last run while
                                   that is free, so links, the recycle bin and the last view
                                   keep working; when another program took it, a free port is
                                   used and the old address becomes one of the profile's
                                   `aliases` (they follow it there)
        await stop()               stop the server (the app calls it on shutdown)
        url, running, registry     the running server

With `auth="token"` (the default: the GitLab-instance mode, so the sidebar shows groups →
projects → repositories) the registry offers a demo personal access token; `start()` stores it
as the profile's credential (keyring, or memory for the session) with the API address
`<url>/api/v4` confirmed. `auth="none"` is a plain registry listed through its catalog. The registry's
data stays in the data directory, so a second start shows the same content.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.log import get_logger
from regview.paths import Paths, default_paths
from regview.services.accounts import Accounts
from regview.services.async_utils import run_blocking
from regview.settings.profiles import Profile, registry_host

log = get_logger("ui.local")

LOCAL_PROFILE = "Local test registry"
MAX_ALIASES = 20


def _port_of(url: str) -> int:
    try:
        return urlsplit(url).port or 0
    except ValueError:
        return 0


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether `port` can be bound on `host` now (closed again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def demo_login(registry: Any) -> tuple[str, str, CredentialKind] | None:
    """(username, token, kind) the GitLab-instance mode offers for its demo user, if any."""
    for attr in ("demo_login", "demo_credentials"):
        value = getattr(registry, attr, None)
        if callable(value):
            value = value()
        if isinstance(value, tuple) and len(value) >= 2:
            kind = value[2] if len(value) > 2 else CredentialKind.PERSONAL
            return str(value[0]), str(value[1]), CredentialKind(kind)
    token = getattr(registry, "demo_token", None)
    if isinstance(token, str) and token:
        user = getattr(registry, "demo_user", "demo")
        return str(user), token, CredentialKind.PERSONAL
    return None


class LocalMode:
    def __init__(
        self,
        accounts: Accounts,
        paths: Paths | None = None,
        *,
        auth: str = "token",
        demo: bool = True,
    ) -> None:
        self.accounts = accounts
        self.paths = paths if paths is not None else default_paths()
        self.auth = auth
        self.demo = demo
        self.registry: Any = None  # regview.server.runner.LocalRegistry once started

    @property
    def running(self) -> bool:
        return self.registry is not None

    @property
    def url(self) -> str:
        return str(self.registry.url) if self.registry is not None else ""

    async def start(self) -> Profile:
        if self.registry is None:
            previous = (await self.accounts.load()).profiles.get(LOCAL_PROFILE)
            port = _port_of(previous.url) if previous is not None else 0
            from regview.server.registry.datalock import (
                DataDirBusy,  # the server loads on first use
            )

            try:
                self.registry = await run_blocking(self._start_server, port)
            except DataDirBusy:
                if previous is None:
                    raise
                # regview is open twice: the first one serves the local registry (its data
                # directory is locked) and saved its address; this window uses that one
                log.info("the local test registry is served by another regview at %s", previous.url)
                return previous
        return await self._connect_profile()

    def _start_server(self, port: int = 0) -> Any:
        # The UI package may use the server in-process; the client still reaches it over HTTP.
        from regview.server.errors import StoreError
        from regview.server.registry.datalock import DataDirBusy
        from regview.server.runner import LocalRegistry

        data_dir = self.paths.local_registry_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        if port and not _port_free(port):
            log.info("port %d of the last run is taken; the local registry moves", port)
            port = 0
        registry = LocalRegistry(data_dir=data_dir, demo=self.demo, auth=self.auth, port=port)
        try:
            registry.start()
        except DataDirBusy:
            raise  # not the port: another process serves this data
        except StoreError:
            if not port:
                raise
            # taken between the check and the bind: any free port will do
            registry = LocalRegistry(data_dir=data_dir, demo=self.demo, auth=self.auth)
            registry.start()
        log.info("local test registry at %s", registry.url)
        return registry

    async def _connect_profile(self) -> Profile:
        login = demo_login(self.registry) if self.auth == "token" else None
        kind = RegistryKind.GITLAB if self.auth == "token" else RegistryKind.REGVIEW
        api_url = f"{self.url}/api/v4" if self.auth == "token" else ""
        endpoint = Endpoint(url=self.url, kind=kind, api_url=api_url)
        settings = await self.accounts.load()
        existing = settings.profiles.get(LOCAL_PROFILE)
        username, secret, cred_kind = login if login else ("", None, CredentialKind.ANONYMOUS)
        if existing is not None:
            if existing.username and existing.username != username:
                await self.accounts.replace_secret(existing, username, cred_kind, None)
            moved = existing.host != registry_host(endpoint.url)
            aliases = (*existing.aliases, existing.host) if moved else existing.aliases
            profile = replace(
                existing,
                url=endpoint.url,
                kind=kind,
                api_url=api_url,
                username=username,
                credential_kind=cred_kind,
                # the last few earlier addresses: what links and the recycle bin still name
                aliases=tuple(
                    dict.fromkeys(a for a in aliases if a != registry_host(endpoint.url))
                )[-MAX_ALIASES:],
            )
        else:
            profile = Profile.for_endpoint(
                endpoint, name=LOCAL_PROFILE, username=username, credential_kind=cred_kind
            )
        return await self.accounts.save(profile, secret)

    async def stop(self) -> None:
        registry, self.registry = self.registry, None
        if registry is not None:
            await run_blocking(registry.stop)
