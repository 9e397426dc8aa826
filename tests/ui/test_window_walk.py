"""Defects found walking the app as a new user, each through the real main window against a
real embedded registry (demo data) and http://127.0.0.1:1 where nothing listens: the details
pane describes the selection (what Del acts on), never a row that is only focused; an empty pane
has no counts of another tag in its tabs; a failed catalog listing is not told over a
repository's tags; a registry not reached has no "0 tags"; a path added by hand to a registry
that does not answer stays in the sidebar."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from connect_support import local_registry, run
from delete_support import open_window, shot, until
from fault_servers import DropProxy, forward, proxy_app, serve
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from window_support import child_texts, local_window, remove_in_tokens, run_in_local_mode

from regview.settings.profiles import registry_host
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.errors import CrashDialog
from regview.ui.links import parse_link
from regview.ui.local_mode import LOCAL_PROFILE
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = "acme/infra/ci-runner"  # in the demo data, several tags
DEAD = "http://127.0.0.1:1"
LOCAL_REPO = "acme/webshop/frontend"  # in local mode's demo data


@pytest.fixture
def window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    with local_registry(tmp_path / "alpha", demo=True) as url:
        shown = open_window(qtbot, qloop, tmp_path, {"alpha": url, "dead": DEAD})
        try:
            yield shown
        finally:
            for widget in QApplication.topLevelWidgets():
                if widget.isWindow() and widget is not shown and widget.isVisible():
                    widget.close()
            assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog)]
            shown.close()
            run(qloop, shown.aclose())


def idle(window: MainWindow) -> bool:
    return not any(
        window.tasks.running(s) for s in ("repos", "tags", "measure", "details", "sizes")
    )


def open_repository(
    qloop: asyncio.AbstractEventLoop, window: MainWindow, name: str, path: str
) -> None:
    async def go() -> None:
        window.open_repository(name, path)
        await until(lambda: idle(window), 60)

    run(qloop, go(), 90)


def settle(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    async def wait() -> None:
        await asyncio.sleep(0.3)  # the pane's read starts 80 ms after the selection stops
        await until(lambda: idle(window), 60)

    run(qloop, wait(), 90)


def click_row(qtbot: QtBot, window: MainWindow, row: int, modifier: Any = None) -> None:
    table = window.tags_view.table
    rect = table.visualRect(window.tags_view.model.index(row, 0))
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        modifier or Qt.KeyboardModifier.NoModifier,
        rect.center(),
    )


def test_the_details_pane_describes_the_selection_not_the_focused_row(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow, tmp_path: Path
) -> None:
    open_repository(qloop, window, "alpha", REPO)
    view, details = window.tags_view, window.details
    assert view.model.rowCount() >= 3
    first, second = view.model.row_at(0).tag, view.model.row_at(1).tag
    window.activateWindow()
    click_row(qtbot, window, 1)
    settle(qloop, window)
    assert [t.tag for t in view.selected_tags()] == [second]
    assert details.current is not None and details.current.tag == second

    # Ctrl+Home moves the focus to the first row and leaves the selection alone
    qtbot.keyClick(view.table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    settle(qloop, window)
    assert view.current_tag() is not None and view.current_tag().tag == first  # type: ignore[union-attr]
    assert [t.tag for t in view.selected_tags()] == [second]
    assert details.current is not None and details.current.tag == second, (
        f"the pane shows {details.title.text()!r}, Del acts on {second!r}"
    )
    assert details.title.text() == second

    # Del offers the tag the pane shows
    offered: list[DeleteDialog] = []
    window.delete_flow.confirmShown.connect(offered.append)

    async def press_delete() -> None:
        qtbot.keyClick(view.table, Qt.Key.Key_Delete)
        await until(lambda: bool(offered), 30)

    run(qloop, press_delete(), 40)
    assert [a.tag for a in offered[0].plan.tag_actions] == [details.title.text()]
    offered[0].reject()

    # several selected: a count, no single tag's details
    click_row(qtbot, window, 2, Qt.KeyboardModifier.ControlModifier)
    settle(qloop, window)
    assert len(view.selected_tags()) == 2
    assert details.current is None
    assert details.title.text() == "2 tags selected"
    assert not details.tabs.isEnabled()
    shot(qloop, window, tmp_path, "two-tags-selected", "light")

    # none selected, a row still focused: the pane says so
    view.table.selectionModel().clearSelection()
    settle(qloop, window)
    assert view.current_tag() is not None
    assert details.current is None
    assert details.title.text() == "No tag selected"


def test_an_empty_pane_keeps_no_counts_and_the_banner_names_what_failed(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow
) -> None:
    open_repository(qloop, window, "alpha", REPO)
    settle(qloop, window)
    details = window.details
    assert details.current is not None
    assert details.tabs.tabText(1).startswith("Layers (")

    # the dead registry: its listing and a repository of it opened at once (as adding a path
    # by hand does); the listing fails, the repository's tags fail
    async def go() -> None:
        window.open_profile("dead")
        window.open_repository("dead", "team/app")
        await until(lambda: idle(window), 60)

    run(qloop, go(), 90)
    assert window.heading.text() == "dead  ›  team/app"
    assert details.title.text() == "No tag selected"
    assert details.tabs.tabText(1) == "Layers", "alpha's layer count over dead's empty pane"
    assert details.tabs.tabText(4) == "Referrers"


def test_a_catalog_refused_late_is_not_told_over_a_repositorys_tags(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """A registry that refuses its catalog (a deploy token's, slowly) and a path of it opened at
    once, as adding a path by hand does: the catalog's refusal is the registry page's news."""
    with local_registry(tmp_path / "alpha", demo=True) as url:

        async def handle(session: ClientSession, request: web.Request) -> web.StreamResponse:
            if request.path.startswith("/v2/_catalog"):
                await asyncio.sleep(1.0)
                return web.json_response(
                    {"errors": [{"code": "DENIED", "message": "catalog not for you"}]},
                    status=403,
                )
            return await forward(session, url, request)

        with serve(lambda: proxy_app(handle)) as refusing:
            window = open_window(qtbot, qloop, tmp_path, {"deploy": refusing})

            async def go() -> None:
                window.open_profile("deploy")
                window.open_repository("deploy", REPO)
                await until(lambda: idle(window), 60)

            run(qloop, go(), 90)
            assert window.heading.text() == f"deploy  ›  {REPO}"
            assert window.tags_view.model.rowCount() > 0
            said = " ".join(window.banner.label.text().split())
            assert not (window.banner.isVisible() and "catalog" in said), (
                f"the catalog's refusal over {REPO}'s tags: {said}"
            )

            # the registry's own page tells it
            async def root() -> None:
                window.open_profile("deploy")
                await until(lambda: idle(window), 60)

            run(qloop, root(), 90)
            assert window.banner.isVisible()
            assert "will not list its repositories" in window.banner.label.text()
            window.close()
            run(qloop, window.aclose())


def test_a_registry_not_reached_has_no_tag_count(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow, tmp_path: Path
) -> None:
    open_repository(qloop, window, "dead", REPO)
    table = window.tags_view.table
    window.activateWindow()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton)

    async def refresh() -> None:
        qtbot.keyClick(table, Qt.Key.Key_F5)
        await asyncio.sleep(0.1)
        await until(lambda: idle(window), 60)

    run(qloop, refresh(), 90)
    assert window.banner.isVisible()
    assert window.counts.text() == "tags unknown — registry not reachable"
    shot(qloop, window, tmp_path, "tags-unknown", "light")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton)
    run(qloop, asyncio.sleep(0.1))
    assert "0 tags" not in window.counts.text()


def test_a_path_added_by_hand_to_a_registry_not_reached_stays_in_the_sidebar(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow, tmp_path: Path
) -> None:
    (dead,) = window.sidebar.findItems("dead", Qt.MatchFlag.MatchExactly)

    async def add() -> None:
        window.sidebar.setCurrentItem(dead)
        await until(lambda: idle(window), 60)
        window.add_repository_path("dead")
        dialog = window.hand_paths.dialog
        assert dialog is not None
        dialog.edit.setText("team/app")
        qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
        await until(lambda: not window.tasks.running("profiles"), 30)
        await until(lambda: idle(window), 60)

    run(qloop, add(), 120)
    assert window.registries.hand_added("dead") == ["team/app"]
    assert "team/app" in child_texts(dead), child_texts(dead)

    # another repository, then back: the path is still there and opens
    open_repository(qloop, window, "alpha", REPO)
    assert "team/app" in child_texts(dead), child_texts(dead)
    (leaf,) = [
        dead.child(i) for i in range(dead.childCount()) if dead.child(i).text(0) == "team/app"
    ]

    async def back() -> None:
        window.sidebar.setCurrentItem(leaf)
        await until(lambda: idle(window), 60)

    run(qloop, back(), 90)
    assert window.heading.text() == "dead  ›  team/app"
    shot(qloop, window, tmp_path, "hand-path-unreachable", "light")


def test_a_details_read_dropped_midway_does_not_leave_the_pane_reading(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The registry's session is replaced (its profile saved again) while a tag's details are
    read through a slow link: the read is dropped, and the pane says so instead of "Reading
    manifest and config…" for good."""
    with local_registry(tmp_path / "alpha", demo=True) as url:
        proxy = DropProxy(url)
        with serve(proxy.app) as slow:
            window = open_window(qtbot, qloop, tmp_path, {"alpha": slow})
            try:
                open_repository(qloop, window, "alpha", REPO)
                settle(qloop, window)
                view, details = window.tags_view, window.details
                other = view.model.row_at(1).tag

                async def drop_the_read() -> None:
                    proxy.delay = 1.5
                    view.select_tags([other], current=other)
                    await until(lambda: window.tasks.running("details"))
                    assert details.status.text() == "Reading manifest and config…"
                    await asyncio.sleep(0.3)  # the request is on its way
                    await window.sessions.discard("alpha")
                    await until(lambda: not window.tasks.running("details"), 30)

                run(qloop, drop_the_read(), 60)
                assert details.current is not None and details.current.tag == other
                said = details.status.text()
                assert said != "Reading manifest and config…", "the pane reads for good"
                assert "not read" in said and "F5" in said, said
                shot(qloop, window, tmp_path, "details-not-read", "light")
            finally:
                proxy.delay = 0.0
                window.close()
                run(qloop, window.aclose())


def test_removing_the_registry_on_show_leaves_the_sidebar_on_the_one_shown_next(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow
) -> None:
    open_repository(qloop, window, "alpha", REPO)

    async def remove_alpha() -> None:
        await remove_in_tokens(window, "alpha")
        await until(lambda: idle(window), 60)

    run(qloop, remove_alpha(), 90)
    assert window.heading.text() == "dead"
    current = window.sidebar.currentItem()
    assert current is not None and current.text(0) == "dead", (
        f"the view shows dead, the sidebar's current node is {current and current.text(0)!r}"
    )


def test_cleanup_policy_on_a_registry_root_says_to_open_a_repository(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow
) -> None:
    from regview.ui.dialogs.policy_editor import PolicyEditor

    async def root() -> None:
        window.open_profile("alpha")
        await until(lambda: idle(window), 60)

    run(qloop, root(), 90)
    action = window.deletion.policy_action
    assert action is not None
    action.trigger()
    run(qloop, asyncio.sleep(0.2))
    assert not window.findChildren(PolicyEditor)
    assert "Open a repository first" in window.statusBar().currentMessage()


def test_a_link_to_the_local_registry_survives_its_port_changing(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The local test registry keeps its last port unless it is taken; a copied link names it
    `local` and opens it wherever it runs now."""
    window = local_window(qtbot, tmp_path)

    async def scenario() -> None:
        await window.local_mode.start()
        await window.start()
        window.open_repository(LOCAL_PROFILE, LOCAL_REPO)
        await until(lambda: idle(window) and window.tags_view.model.rowCount() > 0, 60)
        link = window.view_link()
        assert link is not None
        url = link.to_url()
        old_host = registry_host(window.local_mode.url)
        assert old_host not in url and "registry=local&" in url, url

        # the next start finds its port taken: it runs elsewhere
        await window.local_mode.stop()
        port = int(old_host.rsplit(":", 1)[1])
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
            taken.bind(("127.0.0.1", port))
            taken.listen()
            await window.local_mode.start()
        assert registry_host(window.local_mode.url) != old_host
        await window.sessions.discard(LOCAL_PROFILE)  # what a new run of the app has
        await window.start()
        await until(lambda: idle(window), 60)
        window.open_link(parse_link(url))
        await until(
            lambda: (
                window.heading.text() == f"{LOCAL_PROFILE}  ›  {LOCAL_REPO}"
                and idle(window)
                and window.tags_view.model.rowCount() > 0
            ),
            60,
        )
        assert not window.banner.isVisible(), window.banner.label.text()

    run_in_local_mode(qloop, window, scenario, 180)


def test_after_a_deletion_and_a_restore_the_pane_shows_no_tag_that_is_not_selected(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, window: MainWindow
) -> None:
    """The selected tag deleted, then restored from the recycle bin (the mutations the delete
    flow reports): the focus lands on a neighbour that is not selected, and the pane must not
    describe it. (A guard of the restore path: this sequence passed on 2fdc3cf too; the walk's
    symptom came from a focused row the pane followed, which the test above reproduces.)"""
    from regview.ui.dialogs.delete.flow import DeleteMutation

    open_repository(qloop, window, "alpha", REPO)
    view, details = window.tags_view, window.details
    chosen = view.model.row_at(0).tag  # back above the focused row: the focus moves
    view.select_tags([chosen], current=chosen)
    settle(qloop, window)
    assert details.current is not None and details.current.tag == chosen

    window.delete_flow.mutated.emit(DeleteMutation("alpha", REPO, removed=(chosen,)))
    settle(qloop, window)
    assert view.selected_tags() == []
    assert details.current is None, f"the pane shows {details.title.text()!r}, nothing selected"
    assert details.title.text() == "No tag selected"

    async def restore() -> None:
        window.delete_flow.mutated.emit(DeleteMutation("alpha", REPO, restored=(chosen,)))
        await until(lambda: chosen in {t.tag for t in view.model.rows}, 30)
        await until(lambda: not window.tasks.running("restored"), 30)

    run(qloop, restore(), 40)
    settle(qloop, window)
    assert view.selected_tags() == []
    assert details.current is None, f"the pane shows {details.title.text()!r}, nothing selected"
