"""`regview serve --auth token`: the registry becomes a GitLab instance.

`token_setup(registry, config, token_ttl=..., demo=...)` is what the runner calls; it returns the
authorizer for `/v2/` and the extra routes (`/jwt/auth`, `/api/v4/...`). The authorizer also
carries `install(app)` (runs cleanup policies for the app's lifetime and closes the database at
shutdown) and `demo_credentials` (the demo user's name and token with `--demo`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from regview.server.config import ServerConfig
from regview.server.gitlab.auth import GitLabAuthorizer
from regview.server.gitlab.jwt_service import DEFAULT_TTL, TokenSigner, realm_route
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.policy import PolicyRunner
from regview.server.gitlab.rest.api import GitLabApi
from regview.server.gitlab.rest.identity import IdentityApi
from regview.server.gitlab.service import GitLabService
from regview.server.registry.registry import Registry


class GitLabInstance:
    """Everything of one GitLab instance over one registry data directory."""

    def __init__(
        self,
        data_dir: Path,
        registry: Registry,
        *,
        token_ttl: int = DEFAULT_TTL,
        public_url: str | None = None,
        policy_interval: float = 60.0,
        async_delay: float = 0.5,
    ) -> None:
        """`public_url`: what clients are told to use (token realm, web and registry URLs);
        None: the address each connection arrived at."""
        self.store = GitLabStore(data_dir)
        self.signer = TokenSigner.load_or_create(data_dir, ttl=token_ttl)
        self.service = GitLabService(self.store, registry, async_delay=async_delay)
        self.api = GitLabApi(self.service, public_url=public_url)
        self.policies = PolicyRunner(self.service.run_due_policies, policy_interval)
        realm = f"{public_url.rstrip('/')}/jwt/auth" if public_url else None
        self.authorizer = InstanceAuthorizer(self, realm)
        self.demo_credentials: tuple[str, str] | None = None

    def routes(self) -> list[BaseRoute]:
        # the identity routes first: the API's catch-all route would otherwise take them
        identity = IdentityApi(self.api).routes()
        return [realm_route(self.store, self.signer), *identity, *self.api.routes()]

    def install(self, app: Starlette) -> None:
        """Run cleanup policies while `app` runs; close the database when it stops."""
        inner = app.router.lifespan_context

        @contextlib.asynccontextmanager
        async def lifespan(a: Any) -> AsyncIterator[Any]:
            async with inner(a) as state, self.policies.running():
                try:
                    yield state
                finally:
                    await self.service.drain()
            self.store.close()

        app.router.lifespan_context = lifespan
        app.state.gitlab = self

    def close(self) -> None:
        self.store.close()


class InstanceAuthorizer(GitLabAuthorizer):
    def __init__(self, instance: GitLabInstance, realm: str | None = None) -> None:
        super().__init__(instance.signer, realm)
        self.instance = instance

    def install(self, app: Starlette) -> None:
        self.instance.install(app)

    @property
    def demo_credentials(self) -> tuple[str, str] | None:
        return self.instance.demo_credentials


def token_setup(
    registry: Registry,
    config: ServerConfig,
    *,
    token_ttl: int = DEFAULT_TTL,
    demo: bool = False,
    public_url: str | None = None,
) -> tuple[InstanceAuthorizer, Sequence[BaseRoute]]:
    instance = GitLabInstance(config.data_dir, registry, token_ttl=token_ttl, public_url=public_url)
    if demo:
        from regview.server.gitlab import demo as gitlab_demo

        instance.demo_credentials = gitlab_demo.seed(instance.store, config.data_dir)
    return instance.authorizer, instance.routes()
