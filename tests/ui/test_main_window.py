"""The main window against real registries over loopback: the embedded registry with demo data,
and Debian's docker-registry. Browse, filter, sort, drag-select, copy, links, details, overview."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path

import httpx
import pytest
from connect_support import MemoryKeyring, local_registry, make_accounts, run
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot
from window_support import put_oci_manifest, until

from regview.core.model import Endpoint
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.ui.links import parse_link
from regview.ui.local_mode import LocalMode
from regview.ui.models import tags_model as tm
from regview.ui.window.main_window import PAGE_OVERVIEW, PAGE_TAGS, MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]


def _window(qtbot: QtBot, tmp_path: Path, url: str, name: str = "demo") -> MainWindow:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    sessions = SessionManager(accounts)
    window = MainWindow(accounts, sessions, LocalMode(accounts))
    qtbot.addWidget(window)
    window.resize(1300, 800)
    window.show()
    return window


def test_browse_filter_sort_select_copy_and_link(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = _window(qtbot, tmp_path, url)

        async def scenario() -> None:
            profile = Profile.for_endpoint(Endpoint(url=url), name="demo")
            await window.accounts.save(profile)
            await window.start()
            await until(lambda: not window.tasks.running("repos"))
            paths = [r.path for r in window.repos_model.repositories()]
            assert "acme/infra/ci-runner" in paths
            model = window.repos_model
            shown = [model.row_at(i).path for i in range(model.rowCount())]
            assert len(shown) > 1 and shown == sorted(paths, key=str.lower)  # A → Z at first
            assert window.sidebar.repository_item("demo", "acme/infra/ci-runner") is not None

            window.open_repository("demo", "acme/infra/ci-runner")
            await until(lambda: not window.tasks.running("tags"))
            view = window.tags_view
            total = view.model.rowCount()
            assert total > 20 and window.pages.currentIndex() == PAGE_TAGS
            # default sort: newest first
            times = [view.model.index_.keys[tm.CREATED][b] for b in view.model.visible]
            assert times == sorted(times, reverse=True)
            # details of the current tag arrive: raw manifest JSON, layers or platforms
            await until(lambda: window.details.manifest.toPlainText().startswith("{"))
            assert "schemaVersion" in window.details.manifest.toPlainText()

            # filter (Ctrl+F then type), then sort by size
            window.activateWindow()
            view.table.setFocus()
            qtbot.waitUntil(view.table.hasFocus, timeout=5000)
            qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
            assert view.filter_bar.text.hasFocus()
            qtbot.keyClicks(view.filter_bar.text, "feat")
            shown = view.model.rowCount()
            assert 0 < shown < total
            assert all(
                "feat"
                in f"{view.model.row_at(r).tag} {view.model.row_at(r).platform_labels}".lower()
                for r in range(shown)
            )
            hh = view.table.horizontalHeader()
            qtbot.mouseClick(
                hh.viewport(),
                Qt.MouseButton.LeftButton,
                pos=QPoint(hh.sectionViewportPosition(tm.SIZE) + 10, hh.height() // 2),
            )
            assert hh.sortIndicatorSection() == tm.SIZE
            sizes = [view.model.index_.keys[tm.SIZE][b] for b in view.model.visible]
            assert sizes == sorted(sizes) or sizes == sorted(sizes, reverse=True)

            # drag-select three rows, copy their references
            vp = view.table.viewport()
            rect = lambda r: view.table.visualRect(view.model.index(r, tm.TAG)).center()  # noqa: E731
            qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=rect(0))
            qtbot.mouseMove(vp, rect(1))
            qtbot.mouseMove(vp, rect(2))
            qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=rect(2))
            assert view.selected_rows() == [0, 1, 2]
            await until(lambda: "3 selected" in window.counts.text(), 10)
            qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
            host = url.split("://", 1)[1]
            lines = QGuiApplication.clipboard().text().splitlines()
            assert lines == [
                f"{host}/acme/infra/ci-runner:{view.model.row_at(r).tag}" for r in (0, 1, 2)
            ]

            # copy link → reopen the same view from it
            window.copy_link()
            link = parse_link(QGuiApplication.clipboard().text())
            assert (link.registry, link.repository, link.filter, link.sort) == (
                host,
                "acme/infra/ci-runner",
                "feat",
                "size",
            )
            view.filter_bar.text.clear()
            window.open_link(link)
            await until(lambda: not window.tasks.running("tags"))
            assert view.filter_bar.text.text() == "feat" and view.model.rowCount() == shown

            # storage overview measures every repository
            window.show_overview("demo")
            assert window.pages.currentIndex() == PAGE_OVERVIEW
            await until(lambda: not window.tasks.running("measure"), 150)
            assert len(window.overview.bars.items) >= 3
            assert all(r.size for r in window.repos_model.repositories())
            await window.aclose()
            assert not window.tasks.running("tags") and window.sessions.get("demo") is None

        run(qloop, scenario(), 300)


def _push(url: str, repo: str, tags: list[str]) -> None:
    layer = b"layer"
    ld = "sha256:" + hashlib.sha256(layer).hexdigest()
    with httpx.Client(base_url=url, timeout=30) as http:

        def blob(data: bytes) -> str:
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            loc = http.post(f"/v2/{repo}/blobs/uploads/").headers["Location"]
            sep = "&" if "?" in loc else "?"
            http.put(f"{loc}{sep}digest={digest}", content=data).raise_for_status()
            return digest

        blob(layer)
        for i, tag in enumerate(tags):
            config = json.dumps(
                {
                    "architecture": "amd64",
                    "os": "linux",
                    "created": f"2024-0{1 + i % 9}-01T00:00:00Z",
                    "rootfs": {"type": "layers", "diff_ids": [ld]},
                }
            ).encode()
            put_oci_manifest(http, repo, tag, (blob(config), len(config)), (ld, len(layer)))


@pytest.mark.needs_tool("docker-registry")
def test_browse_debian_docker_registry(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
    from distribution import run_distribution

    with run_distribution(tmp_path / "dist", flavour="anonymous") as reg:
        _push(reg.url, "team/api", [f"1.{i}" for i in range(12)] + ["latest"])
        window = _window(qtbot, tmp_path, reg.url)

        async def scenario() -> None:
            await window.accounts.save(Profile.for_endpoint(Endpoint(url=reg.url), name="dist"))
            await window.start()
            await until(lambda: not window.tasks.running("repos"))
            assert [r.path for r in window.repos_model.repositories()] == ["team/api"]
            window.open_repository("dist", "team/api")
            await until(lambda: not window.tasks.running("tags"))
            view = window.tags_view
            assert view.model.rowCount() == 13
            view.filter_bar.regex.setChecked(True)
            view.filter_bar.text.setText(r"^1\.1\d?$")
            assert sorted(view.model.row_at(r).tag for r in range(view.model.rowCount())) == [
                "1.1",
                "1.10",
                "1.11",
            ]
            view.sort_by(tm.TAG, descending=True)
            assert [view.model.row_at(r).tag for r in range(3)] == ["1.11", "1.10", "1.1"]
            # Reopening shows the cached table at once, then revalidates.
            window.open_repository("dist", "team/api")
            # the same filter over the cached rows, before any request was answered
            assert view.model.rowCount() == 3
            await until(lambda: not window.tasks.running("tags"))
            assert view.model.rowCount() == 3
            await window.aclose()

        run(qloop, scenario(), 120)
