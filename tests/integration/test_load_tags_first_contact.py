"""First contact with a token registry: `load_tags(tags=…)` on a client that has not talked to the
registry yet sends one manifest read alone — it learns the realm and gets the token — and then
fans out with that token. Before, it started 16 reads at once and each was answered 401 first.

Counted at a real server: the embedded registry with its GitLab token realm behind a proxy that
records every answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from counting_proxy import CountingProxy
from fault_servers import serve

from regview.core.client.client import RegistryClient
from regview.core.inventory import load_tags
from regview.core.model import Credentials, Endpoint
from regview.server.runner import LocalRegistry

REPO = "acme/infra/ci-runner"


def test_the_first_read_gets_the_token_then_the_rest_fan_out(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "gl", auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        creds = Credentials(*reg.demo_credentials)
        proxy = CountingProxy(reg.url)
        with serve(proxy.app) as url:

            async def scenario() -> None:
                async with RegistryClient(Endpoint(url=url), creds) as lister:
                    names = await lister.list_tags(REPO)
                assert len(names) > 16
                mark = proxy.mark()
                async with RegistryClient(Endpoint(url=url), creds) as client:
                    rows = await load_tags(client, REPO, tags=names)
                assert sorted(r.tag for r in rows) == sorted(names)
                assert not [r.error for r in rows if r.error]
                challenged = [(m, p) for m, p, status in proxy.answers[mark:] if status == 401]
                assert len(challenged) == 1, challenged
                assert client.auth.token_requests == 1

            asyncio.run(scenario())
