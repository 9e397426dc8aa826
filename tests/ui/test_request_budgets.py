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
from counting_proxy import CountingProxy, counted_local_registry
from delete_support import open_repo, open_window, until
from fault_servers import serve
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from window_support import local_token, local_window, run_in_local_mode

from regview.core.model import CredentialKind, RegistryKind
from regview.server.gitlab.perms import TokenKind
from regview.settings.profiles import Profile
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.pages import repositories as repositories_page
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "group/project/app"
N = 29
CONFIGS = 1  # tiny images share the empty config


@contextmanager
def proxied_registry(tmp_path: Path) -> Iterator[tuple[str, CountingProxy]]:
    with counted_local_registry(tmp_path, REPO, N) as (url, proxy):
        yield url, proxy


def in_loop(
    qloop: asyncio.AbstractEventLoop, action: Callable[[], object], shown: list[Any] | None = None
) -> None:
    """Do `action` (it starts tasks) inside the running loop; wait until `shown` has an item."""

    async def go() -> None:
        action()
        await until(lambda: shown is None or bool(shown))

    run(qloop, go())


def _close(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    # the window's tasks cancelled and awaited inside the running loop first (habit 7): a task
    # stepped by Qt's event processing while the loop is not running has no event loop
    run(qloop, window.aclose())
    window.close()


@pytest.fixture(autouse=True)
def _no_background_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing's background read of every repository (the Size column of a registry this
    small) would warm the repository before it is opened: "cold" must mean cold. Its own cost
    belongs to the listing, which has no budget here."""
    monkeypatch.setattr(repositories_page, "AUTO_MEASURE", 0)


def test_request_budgets_per_action(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, record_property: Any
) -> None:
    with proxied_registry(tmp_path) as (url, proxy):
        window = open_window(qtbot, qloop, tmp_path, url)
        counts: dict[str, int] = {}

        mark = proxy.mark()
        open_repo(qloop, window, REPO)
        assert window.tags_view.model.rowCount() == N
        # opening shows the first tag's details too: part of the action
        run(qloop, until(lambda: not window.tasks.running("details")))
        counts["open cold"] = len(proxy.since(mark))
        assert counts["open cold"] <= N + CONFIGS + 3, proxy.table(mark)

        mark = proxy.mark()
        open_repo(qloop, window, REPO)
        run(qloop, until(lambda: not window.tasks.running("details")))
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

        async def confirm() -> None:
            # the click and the wait for its report in one run of the loop: a step of the run
            # left queued when run_until_complete returns may be run by qasync with no running
            # loop ("no running event loop" in the executor), which the app never does
            qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
            await until(lambda: bool(progress) and progress[0].report is not None)

        run(qloop, confirm())
        report = progress[0].report
        assert report is not None
        assert report.ok, [(r.kind, r.name, r.outcome, r.reason) for r in report.results]
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


GITLAB_REPO = "acme/webshop/frontend"


def test_gitlab_budgets_use_known_project_ids_and_skip_the_catalog(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The same actions on the embedded registry in GitLab mode (API tree, project token): the
    project of an image the tree listed is used directly (no `/projects/<image path>` lookups),
    the catalog is never asked, and only the confirmed DELETE reaches the registry."""
    window = local_window(qtbot, tmp_path)

    async def scenario() -> None:
        local_profile, token, secret = await local_token(
            window,
            TokenKind.PROJECT,
            username="project_bot_budget",
            scopes={"api", "read_registry", "write_registry"},
            project="acme/webshop",
        )
        proxy = CountingProxy(local_profile.url)
        with serve(proxy.app) as url:
            profile = Profile(
                name="gl",
                url=url,
                kind=RegistryKind.GITLAB,
                api_url=f"{url}/api/v4",
                username=token.username,
                credential_kind=CredentialKind.PROJECT,
            )
            await window.accounts.save(profile, secret)
            await window.start()
            await until(lambda: not window.tasks.running("repos"))
            await until(lambda: window.sidebar.repository_item("gl", GITLAB_REPO) is not None)

            mark = proxy.mark()
            window.open_repository("gl", GITLAB_REPO)
            await until(lambda: not window.tasks.running("tags"))
            await until(lambda: not window.tasks.running("details"))  # the first row's details
            rows = window.tags_view.model.rows
            n = len(rows)
            assert n > 0
            counts = {"open cold": len(proxy.since(mark))}
            configs = len({t.config_digest for t in rows if t.config_digest})
            # Token auth costs the profile's one client (issue 10: the tag loader no longer has
            # its own) at most one token for the repository and the 401 that asked for it; the
            # registry work itself keeps the budget.
            auth = sum(1 for _m, p, status in proxy.answers[mark:] if p.startswith("/jwt/auth"))
            challenged = sum(1 for _m, _p, status in proxy.answers[mark:] if status == 401)
            assert auth <= 1 and challenged <= 1, proxy.table(mark)
            assert counts["open cold"] - auth - challenged <= n + configs + 3, proxy.table(mark)
            counts["open cold: tokens + 401 challenges"] = auth + challenged

            shown: list[DeleteDialog] = []
            window.delete_flow.confirmShown.connect(shown.append)
            victim = rows[0].tag
            mark = proxy.mark()
            window.delete_flow.delete_tags("gl", GITLAB_REPO, [victim])
            await until(lambda: bool(shown))
            plan_log = proxy.since(mark)
            counts["plan one-tag delete"] = len(plan_log)
            assert counts["plan one-tag delete"] <= n + 5, proxy.table(mark)
            assert not [p for _m, p in plan_log if p.startswith("/api/v4/projects/acme%2F")]
            dialog = shown[0]
            assert dialog.plan.gitlab_project_id is not None

            editors: list[Any] = []
            window.delete_flow.policyEditorShown.connect(editors.append)
            mark = proxy.mark()
            window.open_policy_editor()
            await until(lambda: bool(editors))
            counts["open cleanup dialog"] = len(proxy.since(mark))
            assert counts["open cleanup dialog"] <= 5, proxy.table(mark)
            editors[0].reject()

            progress: list[DeleteProgressDialog] = []
            window.delete_flow.progressShown.connect(progress.append)
            qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
            await until(lambda: bool(progress) and progress[0].report is not None)
            report = progress[0].report
            assert report is not None
            assert report.ok, [(r.kind, r.name, r.outcome, r.reason) for r in report.results]
            progress[0].accept()

            log = proxy.since(0)
            deletes = [p for m, p in log if m == "DELETE"]
            assert len(deletes) == 1 and deletes[0].endswith(victim), deletes
            assert not [p for m, p in log if m == "OPTIONS"]
            assert not [p for _m, p in log if p.startswith("/v2/_catalog")]
            print("gitlab request counts:", counts, "N =", n)
            await window.aclose()

    run_in_local_mode(qloop, window, scenario)
