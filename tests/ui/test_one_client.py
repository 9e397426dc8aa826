"""One profile, one client (issue 10, build item 2): the window's tag listing, the details pane and
a delete plan of one registry go through one `RegistryClient` — one connection pool, one token
cache — living on the I/O loop; it is closed when its session closes.

Counted at a real server: the embedded registry with its GitLab token realm, behind a proxy
recording every request (token requests by scope). Before, the tag loader had a client of its own
beside the session's: two pools, and the pull token fetched twice.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from counting_proxy import CountingProxy
from delete_support import open_window, until
from fault_servers import serve
from pytestqt.qtbot import QtBot

from regview.core.client.auth import RegistryAuth, format_scope
from regview.core.client.http import RegistryHttp
from regview.core.model import CredentialKind, Endpoint
from regview.server.runner import LocalRegistry
from regview.settings.profiles import Profile
from regview.ui.dialogs.delete.dialog import DeleteDialog

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "acme/infra/ci-runner"


def test_one_profile_one_client_one_token_per_scope(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalRegistry(tmp_path / "gl", auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        user, secret = reg.demo_credentials
        proxy = CountingProxy(reg.url)
        with serve(proxy.app) as url:
            made: list[tuple[RegistryHttp, str]] = []
            init = RegistryHttp.__init__

            def counting_init(self: RegistryHttp, *args: Any, **kwargs: Any) -> None:
                init(self, *args, **kwargs)
                made.append((self, threading.current_thread().name))

            monkeypatch.setattr(RegistryHttp, "__init__", counting_init)
            # each call sends one token request to the realm (the realm's address is its own,
            # not the proxy's: counted where it is sent)
            fetched: list[tuple[str, ...]] = []
            fetch = RegistryAuth._fetch

            async def counting_fetch(self: RegistryAuth, scopes: Any) -> Any:
                fetched.append(tuple(sorted(format_scope(r, a) for r, a in scopes.items())))
                return await fetch(self, scopes)

            monkeypatch.setattr(RegistryAuth, "_fetch", counting_fetch)
            profile = Profile.for_endpoint(
                Endpoint(url=url),
                name="demo",
                username=user,
                credential_kind=CredentialKind.PASSWORD,
            )
            window = open_window(qtbot, qloop, tmp_path, url, profile=profile, secret=secret)
            shown: list[DeleteDialog] = []
            window.delete_flow.confirmShown.connect(shown.append)
            mark = proxy.mark()

            async def scenario() -> None:
                window.open_repository("demo", REPO)
                await until(lambda: not window.tasks.running("tags"), 60)
                await until(lambda: not window.tasks.running("details"), 30)
                rows = window.tags_view.model.rows
                assert len(rows) > 16 and not any(t.error for t in rows)
                details = await window.controller.load_details("demo", rows[1])
                assert details.manifest_json
                victim = rows[0].tag
                window.delete_flow.delete_tags("demo", REPO, [victim])
                await until(lambda: bool(shown), 60)
                assert [a.tag for a in shown[0].plan.tag_actions] == [victim]
                shown[0].reject()

            run(qloop, scenario(), 120)
            host = url.split("//", 1)[1]
            ours = [(c, thread) for c, thread in made if c.registry == host]
            # one client for the profile, made on the I/O thread: the window's listing, its
            # details pane and the delete plan all used it
            assert len(ours) == 1, ours
            assert ours[0][1] == "regview-io"
            # one token cache: no scope asked for twice, and no request of the listing, the
            # details or the plan challenged (the client knew the realm from the repository list)
            scopes = Counter(fetched)
            assert scopes and all(n == 1 for n in scopes.values()), scopes
            assert not [a for a in proxy.answers[mark:] if a[2] == 401], proxy.table(mark)
            client = ours[0][0]
            assert not client._closed
            run(qloop, window.aclose())
            assert client._closed  # closed with its session
            window.close()
