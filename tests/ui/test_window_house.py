"""The window is composed, not mixed (issue 10 item 4): no class spread over files by mixins,
no `if TYPE_CHECKING:` stubs of a sibling's methods, each page owning its binding."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from window_support import local_window

from regview.ui.window.main_window import PAGE_OVERVIEW, PAGE_REPOS, PAGE_TAGS, MainWindow

pytestmark = [pytest.mark.ui]

UI = Path(__file__).resolve().parents[2] / "regview" / "ui"


def test_main_window_is_one_class_over_qt() -> None:
    ours = [c.__qualname__ for c in MainWindow.__mro__ if c.__module__.startswith("regview")]
    assert ours == ["MainWindow"]


def test_no_type_checking_stubs_of_methods_in_ui() -> None:
    stubs = []
    for path in sorted(UI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                stubs += [
                    f"{path.relative_to(UI)}:{d.lineno} {d.name}"
                    for d in ast.walk(node)
                    if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
    assert stubs == []


def test_each_bound_page_owns_its_binding(qtbot: QtBot, tmp_path: Path) -> None:
    window = local_window(qtbot, tmp_path)
    pages = {
        PAGE_REPOS: window.repositories,
        PAGE_TAGS: window.tags,
        PAGE_OVERVIEW: window.overview,
    }
    for number, page in pages.items():
        assert window.pages.widget(number) is page
        assert page.binding.page == number and page.binding.current is None
