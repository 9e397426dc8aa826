"""Every keyboard shortcut of the main window has one owner (issue 10 item 3): two actions or
QShortcuts that claim the same key where both are active make Qt drop the key as "Ambiguous
shortcut overload" — F5 did nothing while the tags table had focus."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
import shiboken6
from connect_support import local_registry, run
from delete_support import demo_window, open_window, until
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui]

WINDOW_WIDE = (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut)


def _owners(obj: QObject) -> list[QWidget]:
    """The widgets a shortcut is active in (for a widget-context one: that widget and, with
    children, everything under it)."""
    if isinstance(obj, QShortcut):
        parent = obj.parent()  # a QShortcut is active in the widget it belongs to
        return [parent] if isinstance(parent, QWidget) else []
    assert isinstance(obj, QAction)
    return [w for w in obj.associatedObjects() if isinstance(w, QWidget)]


def _covers(outer: QWidget, context: Qt.ShortcutContext, inner: QWidget) -> bool:
    if context in WINDOW_WIDE:
        return True
    if context == Qt.ShortcutContext.WidgetShortcut:
        return outer is inner
    return outer is inner or outer.isAncestorOf(inner)


def shortcut_owners(window: QWidget) -> list[QAction | QShortcut]:
    """Every QAction and QShortcut of `window`: its children (the pages' and the toolbar's
    too) and the actions added to any of its widgets wherever they live."""
    found: list[QAction | QShortcut] = []

    def add(obj: QAction | QShortcut) -> None:
        if not any(obj is known for known in found):
            found.append(obj)

    for obj in [*window.findChildren(QAction), *window.findChildren(QShortcut)]:
        add(obj)
    for widget in [window, *window.findChildren(QWidget)]:
        for action in widget.actions():
            add(action)
    return found


def ambiguous_shortcuts(window: QWidget) -> list[str]:
    """Pairs of shortcuts of `window` with the same key that are active in one place."""
    by_key: dict[str, list[tuple[QObject, Qt.ShortcutContext, list[QWidget]]]] = defaultdict(list)
    for obj in shortcut_owners(window):
        assert isinstance(obj, QAction | QShortcut)
        keys: list[QKeySequence] = list(obj.shortcuts()) if isinstance(obj, QAction) else []
        if isinstance(obj, QShortcut):
            keys = list(obj.keys())
        for key in keys:
            if key.isEmpty():
                continue
            context = obj.shortcutContext() if isinstance(obj, QAction) else obj.context()
            by_key[key.toString()].append((obj, context, _owners(obj)))
    clashes = []
    for key, claims in by_key.items():
        for i, (a, ca, wa) in enumerate(claims):
            for b, cb, wb in claims[i + 1 :]:
                if any(_covers(x, ca, y) or _covers(y, cb, x) for x in wa for y in wb):
                    clashes.append(f"{key}: {_name(a)} and {_name(b)}")
    return clashes


def _name(obj: QObject) -> str:
    text = obj.text() if isinstance(obj, QAction) else obj.objectName()
    return f"{type(obj).__name__} {text!r}"


def test_no_key_has_two_owners_in_one_context(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)  # started: deletion actions wired
        try:
            assert window.findChildren(QAction), "no actions found: the walk found nothing"
            assert ambiguous_shortcuts(window) == []
        finally:
            _close(qloop, window)


def _press(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    window: MainWindow,
    target: QWidget,
    key: Qt.Key,
    done: Callable[[], bool],
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """A key pressed where the user's focus is (`target`), in the active window; then wait
    until `done`."""

    async def press() -> None:
        window.activateWindow()
        target.setFocus()
        await until(target.hasFocus, 5)
        qtbot.keyClick(target, key, modifier)
        await until(done)

    run(qloop, press())


def test_f5_refreshes_while_the_tags_table_has_focus(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with demo_window(qtbot, qloop, tmp_path, "acme/webshop") as window:
        refreshed: list[bool] = []
        window.refresh_action.triggered.connect(lambda: refreshed.append(True))
        idle = lambda: not window.tasks.running("tags")  # noqa: E731
        _press(qtbot, qloop, window, window.tags_view.table, Qt.Key.Key_F5, idle)
        assert refreshed == [True]


def test_ctrl_f_reaches_the_tags_filter_while_the_sidebar_has_focus(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    # the walk by hand (D8): a repository opened from the sidebar leaves the focus there, and
    # Ctrl+F then did nothing — the letters typed next went to the sidebar's type-ahead
    with demo_window(qtbot, qloop, tmp_path, "acme/webshop") as window:
        box = window.tags_view.filter_bar.text
        ctrl = Qt.KeyboardModifier.ControlModifier
        _press(qtbot, qloop, window, window.sidebar, Qt.Key.Key_F, box.hasFocus, ctrl)
        qtbot.keyClicks(box, "v1")
        assert box.text() == "v1"


def test_the_walk_sees_every_owner_and_finds_a_second_claim(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The check above is only as good as its walk: it must see the pages' own actions (the tags
    table's, each filter box's Escape), the toolbar's and the menus', an action that lives
    outside the window but is added to one of its widgets, and QShortcuts."""
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        try:
            owners = shortcut_owners(window)
            tags = window.tags_view
            expected = [
                *(a for a in tags.actions() if not a.shortcut().isEmpty()),
                *window.repo_filter.actions(),  # Escape clears the repositories filter
                window.refresh_action,
                window.menus.quit_action,
                window.menus.shortcuts_action,
            ]
            assert len(expected) > 5
            missing = [a.text() for a in expected if not any(a is o for o in owners)]
            assert missing == []

            # a second F5 in the tags page, a QShortcut taking Ctrl+Q in the repositories page,
            # and a parentless action added to the repositories table claiming Delete there
            table_f5 = QAction("Reload table", tags)
            table_f5.setShortcut(QKeySequence(Qt.Key.Key_F5))
            table_f5.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            tags.addAction(table_f5)
            quit_too = QShortcut(window.menus.quit_action.shortcut(), window.repos_table)
            quit_too.setObjectName("quit too")
            stray = QAction("Delete repository")
            stray.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
            stray.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.repos_table.addAction(stray)
            clashes = ambiguous_shortcuts(window)
            assert any("'Reload table'" in c and "'Refresh'" in c for c in clashes), clashes
            assert any("'quit too'" in c and "'&Quit'" in c for c in clashes), clashes
            assert any("'Delete repository'" in c for c in clashes), clashes
            tags.removeAction(table_f5)
            window.repos_table.removeAction(stray)
            # Deleted, not reparented: a QShortcut taken off its parent stays in Qt's shortcut
            # map with a context matcher that reads the (now null) parent — the next key event
            # anywhere in the test process crashed (SIGSEGV in a later test, fresh-clone runs).
            for extra in (table_f5, quit_too, stray):
                shiboken6.delete(extra)
            assert ambiguous_shortcuts(window) == []
        finally:
            _close(qloop, window)


def _close(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    window.close()
    run(qloop, window.aclose())
