"""Request budgets per user action (issue 18), through the real window against the embedded
registry behind a proxy that logs every request by method and path.

N tags, one distinct config:
- open the repository cold ≤ N + configs + 3; open it again (warm) ≤ N + 2;
- plan a one-tag delete right after the table loaded ≤ N + 5;
- open the cleanup-policy dialog on the loaded repository ≤ 5;
- no DELETE (and no OPTIONS) in the whole log but the one for the tag the user confirmed;
- the catalog is asked at most once.
The counts are recorded in bench/results-requests.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from connect_support import run
from counting_proxy import CountingProxy
from delete_support import open_repo, open_window, until
from fault_servers import serve
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from tiny_images import seed_tiny_tags

from regview.core.client import RegistryClient
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry
from regview.ui.delete_dialog import DeleteDialog
from regview.ui.delete_progress import DeleteProgressDialog
from regview.ui.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "group/project/app"
N = 29
CONFIGS = 1  # tiny images share the empty config


@contextmanager
def proxied_registry(tmp_path: Path) -> Iterator[tuple[str, CountingProxy]]:
    with LocalRegistry(tmp_path / "registry-data") as reg:
        url = reg.start()  # already started by `with`: returns its URL

        async def seed() -> None:
            async with RegistryClient(Endpoint(url=url)) as c:
                await seed_tiny_tags(c, REPO, N)

        asyncio.run(seed())
        proxy = CountingProxy(url)
        with serve(proxy.app) as proxied:
            yield proxied, proxy


def in_loop(
    qloop: asyncio.AbstractEventLoop, action: Callable[[], object], shown: list[Any] | None = None
) -> None:
    """Do `action` (it starts tasks) inside the running loop; wait until `shown` has an item."""

    async def go() -> None:
        action()
        await until(lambda: shown is None or bool(shown))

    run(qloop, go())


def _close(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    window.close()
    run(qloop, window.sessions.close_all())


def test_request_budgets_per_action(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, record_property: Any
) -> None:
    with proxied_registry(tmp_path) as (url, proxy):
        window = open_window(qtbot, qloop, tmp_path, url)
        counts: dict[str, int] = {}

        mark = proxy.mark()
        open_repo(qloop, window, REPO)
        assert window.tags_view.model.rowCount() == N
        counts["open cold"] = len(proxy.since(mark))
        assert counts["open cold"] <= N + CONFIGS + 3, proxy.table(mark)

        mark = proxy.mark()
        open_repo(qloop, window, REPO)
        counts["open warm"] = len(proxy.since(mark))
        assert counts["open warm"] <= N + 2, proxy.table(mark)

        shown: list[DeleteDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)
        victim = window.tags_view.model.rows[0].tag
        mark = proxy.mark()
        in_loop(qloop, lambda: window.delete_flow.delete_tags("demo", REPO, [victim]), shown)
        counts["plan one-tag delete"] = len(proxy.since(mark))
        assert counts["plan one-tag delete"] <= N + 5, proxy.table(mark)
        dialog = shown[0]
        assert [a.tag for a in dialog.plan.tag_actions] == [victim]

        editors: list[Any] = []
        window.delete_flow.policyEditorShown.connect(editors.append)
        mark = proxy.mark()
        in_loop(qloop, window.open_policy_editor, editors)
        counts["open cleanup dialog"] = len(proxy.since(mark))
        assert counts["open cleanup dialog"] <= 5, proxy.table(mark)
        assert len(editors[0].facts.tags) == N
        in_loop(qloop, editors[0].reject)

        progress: list[DeleteProgressDialog] = []
        window.delete_flow.progressShown.connect(progress.append)
        mark = proxy.mark()
        in_loop(qloop, lambda: qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton))
        run(qloop, until(lambda: bool(progress) and progress[0].report is not None))
        assert progress[0].report is not None and progress[0].report.ok
        counts["delete one tag (confirmed)"] = len(proxy.since(mark))
        in_loop(qloop, progress[0].accept)

        log = proxy.since(0)
        # the only DELETE is the confirmed tag's; nothing asks OPTIONS; the catalog once
        assert [p for m, p in log if m == "DELETE"] == [f"/v2/{REPO}/manifests/{victim}"]
        assert not [p for m, p in log if m in ("OPTIONS", "PUT", "PATCH", "POST")]
        assert sum(1 for _m, p in log if p.startswith("/v2/_catalog")) <= 1
        record_property("request_counts", counts)
        print("request counts:", counts, "N =", N)
        _close(qloop, window)
