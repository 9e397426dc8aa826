"""Journeys through the real main window with three registries configured — two embedded
registries behind request-counting proxies over loopback, and http://127.0.0.1:1 where nothing
listens: every page shows only the registry named in its title, an unreachable registry shows its
own error and nothing of another, a deletion reaches only the registry of the view it was started
from, and removing a profile in Tokens resets what showed it (issue 10, items 1 and 2)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import SCHEMES, open_window, shot, theme, until
from fault_servers import DropProxy, serve
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from tiny_images import seed_tiny_tags
from window_support import remove_in_tokens

from regview.core.client.client import RegistryClient
from regview.core.model import Endpoint
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.errors import CrashDialog
from regview.ui.window.main_window import PAGE_OVERVIEW, PAGE_REPOS, PAGE_WELCOME, MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = "acme/infra/ci-runner"  # in the demo data; beta holds the same path with other tags
DEAD = "http://127.0.0.1:1"


def count(proxy: DropProxy, method: str = "") -> int:
    """Requests that reached the proxy (of one method, or all)."""
    with proxy._lock:
        return sum(1 for m, _ in proxy.seen if not method or m == method)


def stop_answering(proxy: DropProxy) -> None:
    proxy.after = proxy.count  # from now on every connection is dropped


@dataclass
class Registries:
    alpha: DropProxy  # the demo data
    beta: DropProxy  # REPO with tags b-0 … b-5
    urls: dict[str, str]


@contextlib.contextmanager
def registries(tmp_path: Path, qloop: asyncio.AbstractEventLoop) -> Iterator[Registries]:
    with (
        local_registry(tmp_path / "alpha", demo=True) as alpha_url,
        local_registry(tmp_path / "beta") as beta_url,
    ):

        async def seed() -> None:
            async with RegistryClient(Endpoint(url=beta_url)) as client:
                await seed_tiny_tags(client, REPO, 6, tag=lambda i: f"b-{i}")

        run(qloop, seed())
        alpha, beta = DropProxy(alpha_url), DropProxy(beta_url)
        with serve(alpha.app) as a, serve(beta.app) as b:
            yield Registries(alpha, beta, {"alpha": a, "beta": b, "dead": DEAD})


def registry_item(window: MainWindow, name: str) -> QTreeWidgetItem:
    (item,) = window.sidebar.findItems(name, Qt.MatchFlag.MatchExactly)
    return item


def select(window: MainWindow, item: QTreeWidgetItem) -> None:
    window.sidebar.setCurrentItem(item)  # what a click in the sidebar does


def idle(window: MainWindow) -> bool:
    return not any(
        window.tasks.running(s) for s in ("repos", "tags", "measure", "details", "sizes")
    )


def heading(window: MainWindow) -> str:
    return window.heading.text()


def tag_names(window: MainWindow) -> set[str]:
    return {t.tag for t in window.tags_view.model.rows}


def no_crash() -> None:
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog)]


def close(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    no_crash()
    window.close()
    run(qloop, window.aclose())


def alpha_tags(window: MainWindow, qloop: asyncio.AbstractEventLoop) -> set[str]:
    """Open REPO in alpha, as the user does: its tags are on show."""

    async def go() -> None:
        window.open_repository("alpha", REPO)
        await until(lambda: idle(window) and window.tags_view.model.rowCount() > 0)

    run(qloop, go(), 60)
    names = tag_names(window)
    assert names and not any(n.startswith("b-") for n in names)
    assert window.windowTitle() == f"alpha › {REPO} — regview"
    return names


@pytest.mark.parametrize("scheme", SCHEMES)
def test_unreachable_registry_shows_its_own_error_and_nothing_of_another(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, scheme: str
) -> None:
    with theme(qapp, scheme), registries(tmp_path, qloop) as regs:
        window = open_window(qtbot, qloop, tmp_path, regs.urls)
        shown_alpha = alpha_tags(window, qloop)
        run(qloop, until(lambda: not window.tasks.running("details")))

        async def pick(item: QTreeWidgetItem) -> None:
            select(window, item)
            await until(lambda: idle(window))

        # the dead registry: its own error, an empty table, no bars of alpha
        run(qloop, pick(registry_item(window, "alpha")))
        assert window.repos_model.rowCount() > 0
        run(qloop, pick(registry_item(window, "dead")))
        assert heading(window) == "dead"
        assert window.windowTitle() == "dead — regview"  # not the last page's
        assert window.pages.currentIndex() == PAGE_REPOS
        assert window.repos_model.rowCount() == 0, "alpha's repositories under dead's name"
        assert window.banner.isVisible()
        said = " ".join(window.banner.label.text().split())
        # in words: what the system said, not the transport's "ConnectError … Connect call failed"
        assert "nothing answers on 127.0.0.1 port 1" in said, said
        assert "ConnectError" not in said and "Connect call failed" not in said, said
        shot(qloop, window, tmp_path, "dead-registry", scheme)

        run(qloop, pick(registry_item(window, "dead").child(0)))  # its Storage overview
        assert heading(window) == "dead  ›  Storage overview"
        assert window.overview.bars.items == [], "alpha's storage bars under dead's name"
        shot(qloop, window, tmp_path, "dead-overview", scheme)

        # a link or a hand-added path into the dead registry, same path as alpha's repository
        async def open_dead_repository() -> None:
            window.open_repository("dead", REPO)
            await until(lambda: idle(window))

        run(qloop, open_dead_repository())
        assert heading(window) == f"dead  ›  {REPO}"
        assert tag_names(window) == set(), "alpha's tags under dead's name"
        assert window.banner.isVisible()
        assert window.details.current is None

        # a registry that worked and stops answering: its own error, not alpha's rows
        run(qloop, pick(registry_item(window, "beta")))
        assert [r.path for r in window.repos_model.rows] == [REPO]

        async def open_repository(name: str) -> None:
            window.open_repository(name, REPO)
            await until(lambda: idle(window))

        run(qloop, open_repository("alpha"))
        assert tag_names(window) == shown_alpha
        stop_answering(regs.beta)
        run(qloop, pick(registry_item(window, "beta")))
        assert heading(window) == "beta"
        assert window.repos_model.rowCount() == 0, "alpha's repositories under beta's name"
        assert window.banner.isVisible()
        run(qloop, open_repository("beta"))
        assert not (tag_names(window) & shown_alpha), "alpha's tags under beta's name"
        close(qloop, window)


def test_a_deletion_reaches_only_the_registry_in_the_views_title(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with registries(tmp_path, qloop) as regs:
        window = open_window(qtbot, qloop, tmp_path, regs.urls)
        shown_alpha = alpha_tags(window, qloop)
        shown: list[DeleteDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)
        table = window.tags_view.table

        # beta answers slowly: its view is on screen before its tags arrive
        regs.beta.delay = 0.4
        alpha_before = count(regs.alpha)

        async def delete_too_early() -> None:
            window.open_repository("beta", REPO)
            assert heading(window) == f"beta  ›  {REPO}"
            assert not (tag_names(window) & shown_alpha), "alpha's tags under beta's title"
            window.activateWindow()
            table.setFocus()
            table.selectAll()
            qtbot.keyClick(table, Qt.Key.Key_Delete)
            await until(lambda: idle(window), 60)
            await asyncio.sleep(0.5)

        run(qloop, delete_too_early(), 90)
        assert shown == [], "a delete plan offered before beta's tags were shown"

        # beta's own tags: select two, Del, confirm
        regs.beta.delay = 0.0
        assert tag_names(window) == {f"b-{i}" for i in range(6)}

        async def delete_two() -> None:
            window.tags_view.select_tags(["b-1", "b-2"], current="b-1")
            table.setFocus()
            qtbot.keyClick(table, Qt.Key.Key_Delete)
            await until(lambda: bool(shown), 30)
            dialog = shown[0]
            assert sorted(a.tag for a in dialog.plan.tag_actions) == ["b-1", "b-2"]
            dialog.delete_button.click()
            await until(lambda: tag_names(window) == {"b-0", "b-3", "b-4", "b-5"}, 60)
            await until(lambda: idle(window))

        run(qloop, delete_two(), 90)
        assert count(regs.beta, "DELETE") >= 1
        assert count(regs.alpha, "DELETE") == 0
        # nothing at all went to alpha once beta's view was opened
        assert count(regs.alpha) == alpha_before
        for dialog_widget in QApplication.topLevelWidgets():
            if dialog_widget.isWindow() and dialog_widget is not window:
                dialog_widget.close()
        close(qloop, window)


def test_removing_a_profile_in_tokens_resets_the_views_bound_to_it(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with registries(tmp_path, qloop) as regs:
        window = open_window(qtbot, qloop, tmp_path, {"alpha": regs.urls["alpha"]})
        alpha_tags(window, qloop)

        async def remove_alpha() -> None:
            window.tags_view.select_tags([next(iter(tag_names(window)))])
            await remove_in_tokens(window, "alpha")
            await until(lambda: idle(window))

        run(qloop, remove_alpha())
        assert "alpha" not in heading(window)
        assert window.pages.currentIndex() == PAGE_WELCOME
        assert tag_names(window) == set()
        assert window.tags.binding.current is None
        shown: list[DeleteDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)

        async def press_del() -> None:
            window.tags_view.table.setFocus()
            qtbot.keyClick(window.tags_view.table, Qt.Key.Key_Delete)
            window.deletion.delete_tags(list(window.tags_view.model.rows))  # even if rows were left
            await asyncio.sleep(0.3)

        run(qloop, press_del())
        assert shown == []
        assert window.view_link() is None
        close(qloop, window)


def test_replacing_a_profile_reloads_what_is_bound_to_it(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The same profile name now points elsewhere (what replacing an address or credential in
    Tokens does): the old session and everything read through it go, the view reads again."""
    from dataclasses import replace

    from regview.ui.dialogs.tokens_dialog import TokensDialog

    with registries(tmp_path, qloop) as regs:
        window = open_window(qtbot, qloop, tmp_path, {"alpha": regs.urls["alpha"]})
        shown_alpha = alpha_tags(window, qloop)
        generation = window.sessions.generation("alpha")

        async def replace_alpha() -> None:
            profile = (await window.accounts.load()).profiles["alpha"]
            await window.accounts.save(replace(profile, url=regs.urls["beta"]))
            window.manage_tokens()
            (dialog,) = window.findChildren(TokensDialog)
            dialog.accountsChanged.emit()  # what the dialog says after Replace
            await until(lambda: not window.tasks.running("profiles"))
            dialog.close()
            await until(lambda: idle(window))

        before = count(regs.beta)
        run(qloop, replace_alpha(), 60)
        assert window.sessions.generation("alpha") > generation
        assert not (tag_names(window) & shown_alpha), "the old address's tags are still shown"
        assert heading(window) == "alpha"
        assert [r.path for r in window.repos_model.rows] == [REPO]  # read from the new address
        assert count(regs.beta) > before
        close(qloop, window)


def test_a_listing_cut_short_by_opening_another_registry_does_not_stay_listing(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Selecting another registry while one is still listing cancels that listing; its sidebar
    node said "Listing repositories…" until it was opened again (found walking the app)."""
    from fault_servers import silent_server

    from regview.ui.window.sidebar import LISTING, NOT_LISTED

    def status(window: MainWindow, name: str) -> list[str]:
        item = registry_item(window, name)
        return [item.child(i).text(0) for i in range(item.childCount())]

    with (
        local_registry(tmp_path / "alpha", demo=True) as alpha_url,
        silent_server() as hung_url,
    ):
        window = open_window(qtbot, qloop, tmp_path, {"alpha": alpha_url, "hung": hung_url})

        async def scenario() -> None:
            select(window, registry_item(window, "hung"))
            await until(lambda: LISTING in status(window, "hung"))
            select(window, registry_item(window, "alpha"))
            await until(lambda: idle(window) and window.repos_model.rowCount() > 0)

        run(qloop, scenario(), 60)
        assert LISTING not in status(window, "hung")
        assert NOT_LISTED in status(window, "hung")
        close(qloop, window)


def test_retry_on_the_overview_of_a_registry_that_was_down_reads_it_again(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The walk by hand: a registry down when the window started, its Storage overview open
    with "Registry not reachable"; the registry comes back and Retry (or F5) changed nothing —
    the overview only measured the repositories already known, none. Now it lists them."""
    with local_registry(tmp_path / "beta", demo=True) as beta_url:
        beta = DropProxy(beta_url, after=0)  # every connection dropped: down
        with serve(beta.app) as url:
            window = open_window(qtbot, qloop, tmp_path, {"beta": url})

            async def overview() -> None:
                window.show_overview("beta")
                await until(lambda: idle(window) and window.banner.isVisible())

            run(qloop, overview(), 60)
            assert window.repositories.repositories_of("beta") == []
            beta.heal()  # back

            async def retry() -> None:
                window.banner.actionRequested.emit("retry")  # what its Retry button sends
                await until(
                    lambda: idle(window) and bool(window.repositories.repositories_of("beta"))
                )

            run(qloop, retry(), 60)
            assert window.pages.currentIndex() == PAGE_OVERVIEW
            assert not window.banner.isVisible()
            close(qloop, window)
