"""What the vendor tests share: a site (imitation behind a counting proxy, with what was pushed)
and a ClientPort opened on it with the vendor's API, the way the CLI opens one.

    async with open_port(site, RegistryKind.HARBOR, Credentials(...)) as port: ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from counting_proxy import CountingProxy
from fault_servers import serve
from harbor_imitation import Harbor
from imitation import serve_asgi
from quay_imitation import Quay
from vendor_seed import LAYOUT, seed

from regview.core.client.client import RegistryClient
from regview.core.deletion.port import ClientPort
from regview.core.model import Credentials, Endpoint, RegistryKind
from regview.core.vendors import context_for, open_vendor
from regview.server.runner import LocalRegistry

MUTATING = ("DELETE", "PUT", "POST", "PATCH")
HARBOR_REPO = "team/app"
MAINTAINER = ("maint", "maint-pw")
CLEANER = ("robot$team+cleaner", "cleaner-secret")
READER = ("robot$team+reader", "reader-secret")
QUAY_REPO = "org/app"
ROBOT = ("org+pusher", "robot-token")


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
    site: Site,
    kind: RegistryKind,
    credentials: Credentials,
    *,
    api_token: str = "",
    cache_dir: Path | None = None,
) -> AsyncIterator[ClientPort]:
    endpoint = Endpoint(site.url, kind=kind)
    async with RegistryClient(endpoint, credentials, cache_dir=cache_dir) as client:
        vendor = open_vendor(context_for(endpoint, credentials, client, api_token=api_token))
        assert vendor is not None, f"no vendor module for {kind}"
        async with vendor:
            yield ClientPort(client, vendor=vendor)


@contextlib.contextmanager
def harbor_site(tmp_path: Path) -> Iterator[Site]:
    """Project team: a maintainer, a robot that may delete, a robot that may only read; tags
    v1.* immutable; a retention policy keeping the 10 most recently pushed."""
    with LocalRegistry(tmp_path / "storage") as storage:
        harbor = Harbor(storage.url)
        harbor.add_project("team")
        harbor.add_user(MAINTAINER[0], MAINTAINER[1], {"team": "maintainer"})
        harbor.add_robot(
            CLEANER[0],
            CLEANER[1],
            {
                "team": {
                    "repository:pull",
                    "repository:push",
                    "artifact:list",
                    "artifact:read",
                    "tag:list",
                    "tag:delete",
                    "artifact:delete",
                    "immutable-tag:list",
                    "tag-retention:read",
                }
            },
        )
        harbor.add_robot(
            READER[0], READER[1], {"team": {"repository:pull", "artifact:list", "tag:list"}}
        )
        harbor.add_immutable_rule("team", tags="v1.*", repos="**")
        harbor.set_retention(
            "team",
            [
                {
                    "template": "latestPushedK",
                    "params": {"latestPushedK": 10},
                    "tag_selectors": [
                        {"kind": "doublestar", "decoration": "matches", "pattern": "**"}
                    ],
                    "scope_selectors": {
                        "repository": [
                            {"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}
                        ]
                    },
                }
            ],
        )
        with serve_asgi(harbor.app()) as front:
            proxy = CountingProxy(front)
            with serve(proxy.app) as url:
                pushed = seed(url, MAINTAINER, HARBOR_REPO, LAYOUT)
                yield Site(harbor, url, proxy, pushed)


@contextlib.contextmanager
def quay_site(tmp_path: Path) -> Iterator[Site]:
    """Repository org/app: alice its admin (OAuth tokens made per test), a robot that pushes."""
    with LocalRegistry(tmp_path / "storage") as storage:
        quay = Quay(storage.url)
        quay.add_user("alice", {QUAY_REPO: "admin"})
        quay.add_robot(ROBOT[0], ROBOT[1], {QUAY_REPO: "write"})
        with serve_asgi(quay.app()) as front:
            proxy = CountingProxy(front)
            with serve(proxy.app) as url:
                pushed = seed(url, ROBOT, QUAY_REPO, LAYOUT)
                yield Site(quay, url, proxy, pushed)


def oauth(site: Site, *scopes: str) -> Credentials:
    """A Quay OAuth token of alice as the registry login (`$oauthtoken`, which Quay's registry
    auth takes as an OAuth token: auth/credential_consts.py)."""
    return Credentials("$oauthtoken", site.vendor.oauth_token("alice", set(scopes)))
