"""Local test registry mode: the embedded registry with demo data, and a profile connected to it.

    LocalMode(accounts, paths=None, *, auth="token", demo=True)
        await start() -> Profile   start `LocalRegistry(data_dir=paths.local_registry_dir,
                                   demo=True, auth=auth)` in its background thread (off the UI thread),
                                   then create or update the profile `LOCAL_PROFILE` for its URL
                                   (the port changes between runs) and return it
        await stop()               stop the server (the app calls it on shutdown)
        url, running, registry     the running server

With `auth="token"` (the default: the GitLab-instance mode, so the sidebar shows groups →
projects → repositories) the registry offers a demo personal access token; `start()` stores it
as the profile's credential (keyring, or memory for the session) with the API address
`<url>/api/v4` confirmed. `auth="none"` is a plain registry listed through its catalog. The registry's
data stays in the data directory, so a second start shows the same content.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.log import get_logger
from regview.paths import Paths, default_paths
from regview.settings.profiles import Profile
from regview.ui.accounts import Accounts
from regview.ui.async_utils import run_blocking

log = get_logger("ui.local")

LOCAL_PROFILE = "Local test registry"


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
            self.registry = await run_blocking(self._start_server)
        return await self._connect_profile()

    def _start_server(self) -> Any:
        # The UI package may use the server in-process; the client still reaches it over HTTP.
        from regview.server.runner import LocalRegistry

        data_dir = self.paths.local_registry_dir
        data_dir.mkdir(parents=True, exist_ok=True)
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
            profile = replace(
                existing,
                url=endpoint.url,
                kind=kind,
                api_url=api_url,
                username=username,
                credential_kind=cred_kind,
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
