"""macOS hands a `regview://` link clicked while regview runs to the app as `QEvent.FileOpen`:
`install_link_opener` opens it like a link on the command line, and a bad link is a message in
the window, not an exception. Real QFileOpenEvents posted to the application (works on Linux)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import open_window, until
from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QFileOpenEvent

from regview.app import install_link_opener
from regview.settings.profiles import registry_host
from regview.ui.links import ViewLink
from regview.ui.window.main_window import PAGE_TAGS, MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = "acme/infra/ci-runner"


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    with local_registry(tmp_path / "demo", demo=True) as url:
        yield url


@contextlib.contextmanager
def linked_window(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, url: str
) -> Iterator[MainWindow]:
    """A main window on the registry at `url` that gets the application's FileOpen events;
    closed inside the test (pytest-qt deletes its widgets before fixtures are torn down)."""
    window: MainWindow = open_window(qtbot, qloop, tmp_path, url)
    opener = install_link_opener(qapp, window)
    try:
        yield window
    finally:
        qapp.removeEventFilter(opener)
        run(qloop, window.aclose())


def _post(qapp: Any, url: str) -> None:
    QCoreApplication.postEvent(qapp, QFileOpenEvent(QUrl(url)))


def test_file_open_event_opens_the_linked_view(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, demo_url: str
) -> None:
    with linked_window(qtbot, qloop, qapp, tmp_path, demo_url) as window:
        link = ViewLink(registry=registry_host(demo_url), repository=REPO, tag="main", filter="ma")
        _post(qapp, link.to_url())

        async def opened() -> None:
            await until(lambda: window.repository == REPO)
            await until(
                lambda: (
                    not window.tasks.running("tags")
                    and (current := window.tags_view.current_tag()) is not None
                    and current.tag == "main"
                )
            )

        run(qloop, opened())
        assert window.pages.currentIndex() == PAGE_TAGS
        assert window.tags_view.spec().text == "ma"  # the link's filter applied
        assert not window.banner.isVisibleTo(window)


def test_a_bad_link_is_a_message_not_an_exception(
    qtbot: Any, qloop: asyncio.AbstractEventLoop, qapp: Any, tmp_path: Path, demo_url: str
) -> None:
    with linked_window(qtbot, qloop, qapp, tmp_path, demo_url) as window:
        before = window.repository
        _post(qapp, "regview://close?registry=x")
        run(qloop, until(lambda: window.banner.isVisibleTo(window)))
        text = window.banner.label.text()
        assert "This link cannot be opened" in text and "Copy link" in text, text
        assert window.repository == before
