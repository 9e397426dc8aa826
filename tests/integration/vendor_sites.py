"""What the vendor tests share: a site (imitation behind a counting proxy, with what was pushed)
and a ClientPort opened on it with the vendor's API, the way the CLI opens one.

    async with open_port(site, RegistryKind.HARBOR, Credentials(...)) as port: ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from counting_proxy import CountingProxy

from regview.core.client import RegistryClient
from regview.core.delete_port import ClientPort
from regview.core.model import Credentials, Endpoint, RegistryKind
from regview.core.vendors import context_for, open_vendor

MUTATING = ("DELETE", "PUT", "POST", "PATCH")


@dataclass
class Site:
    vendor: Any  # the imitation (Harbor / Quay)
    url: str  # the counting proxy in front of it
    proxy: CountingProxy
    pushed: dict[str, str]

    def mutations(self, mark: int) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.proxy.since(mark) if m in MUTATING]


@contextlib.asynccontextmanager
async def open_port(
    site: Site, kind: RegistryKind, credentials: Credentials, *, api_token: str = ""
) -> AsyncIterator[ClientPort]:
    endpoint = Endpoint(site.url, kind=kind)
    async with RegistryClient(endpoint, credentials) as client:
        vendor = open_vendor(context_for(endpoint, credentials, client, api_token=api_token))
        assert vendor is not None, f"no vendor module for {kind}"
        async with vendor:
            yield ClientPort(client, vendor=vendor)
