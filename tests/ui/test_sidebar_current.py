"""The sidebar's current node names what the window shows, and focus alone never navigates
(the walk by hand, N6 and N8): after start-up no node was current, so when the focused page
was hidden Qt moved the focus to the sidebar, made its first node current, and the sidebar
opened that registry — a navigation nobody asked for."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import local_registry, run
from delete_support import open_window
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from regview.ui.window.sidebar import NAME_ROLE, Sidebar

pytestmark = [pytest.mark.ui]


def test_focus_alone_does_not_open_a_registry(qtbot: QtBot) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.set_registries([("alpha", "http://127.0.0.1:1", False), ("beta", "http://b", False)])
    sidebar.show()
    qtbot.waitExposed(sidebar)
    opened: list[str] = []
    sidebar.registrySelected.connect(opened.append)
    sidebar.overviewSelected.connect(opened.append)
    assert sidebar.currentItem() is None
    sidebar.activateWindow()
    sidebar.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(sidebar.hasFocus, timeout=5000)
    qtbot.wait(50)
    assert opened == []
    # choosing still opens: the next node down, by the keyboard
    qtbot.keyClick(sidebar, Qt.Key.Key_Down)
    assert opened != []


def test_the_registry_opened_at_start_is_the_sidebars_current_node(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, {"first": url, "second": url})
        try:
            shown = window.stack.view_binding()
            assert shown is not None
            current = window.sidebar.currentItem()
            assert current is not None and current.data(0, NAME_ROLE) == shown.profile
        finally:
            window.close()
            run(qloop, window.aclose())
