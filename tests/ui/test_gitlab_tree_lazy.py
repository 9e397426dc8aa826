"""The GitLab tree on a large instance, against the embedded GitLab-compatible registry over
loopback: projects are read in the background a few at a time, an expanded or picked project is
read at once ahead of that queue, no project is read twice in one load, the table grows while the
load runs (in batches, with "Reading repositories: n of N projects"), and hand-added paths sit
under their project or under "Added by hand".

The GitLab browser is a recording subclass: it notes every API call for a project's repositories
(the real request still goes to the real server) and waits a little before each, as a busy GitLab
would, so the order of requests says something."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot
from window_support import (
    child_texts,
    local_window,
    put_oci_manifest,
    run_in_local_mode,
    until,
)

from regview.core.gitlab.api import GitLabAPI
from regview.core.model import RepositoryInfo
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import RegistryAccess, Visibility
from regview.services.gitlab_browse import GitLabBrowser, GitLabProject, ProjectReader
from regview.ui.local_mode import LOCAL_PROFILE
from regview.ui.window import sidebar as sb
from regview.ui.window.main_window import PAGE_REPOS, TREE_WORKERS, MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]


SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


class RecordingBrowser(GitLabBrowser):
    """Notes each project's repositories request (the API call, so a disabled project that
    makes none is not noted) and the order in which reads start; `hold` keeps chosen projects
    waiting until released."""

    def __init__(self, *args: Any, delay: float = 0.0) -> None:
        super().__init__(*args)
        self.delay = delay
        self.requests: list[int] = []  # project ids, in the order the API was called
        self.started: list[str] = []  # project paths, in the order reads started
        self.project_lists = 0
        self.hold: set[str] = set()
        self.release = asyncio.Event()

    async def projects(self, profile: str) -> list[GitLabProject]:
        self.project_lists += 1
        return await super().projects(profile)

    async def _api(self, profile: str) -> GitLabAPI:
        api = await super()._api(profile)
        if not getattr(api, "_recorded", False):
            real = api.project_repositories

            async def recorded(project: str | int) -> list[RepositoryInfo]:
                assert isinstance(project, int)
                self.requests.append(project)
                return await real(project)

            api.project_repositories = recorded  # type: ignore[method-assign]
            api._recorded = True  # type: ignore[attr-defined]
        return api

    async def project_repositories(
        self, profile: str, project: GitLabProject
    ) -> list[RepositoryInfo]:
        self.started.append(project.path)
        if project.path in self.hold:
            await self.release.wait()
        await asyncio.sleep(self.delay)
        return await super().project_repositories(profile, project)


def _recording_window(
    qtbot: QtBot, tmp_path: Path, delay: float = 0.0
) -> tuple[MainWindow, RecordingBrowser]:
    """A local-mode window whose GitLab browser records its reads (see `RecordingBrowser`)."""
    window = local_window(qtbot, tmp_path)
    browser = RecordingBrowser(window.sessions, delay=delay)
    window.browser.tree.gitlab = browser
    return window, browser


def _push(url: str, login: tuple[str, str], repo: str) -> None:
    """One small image into `repo` through the registry's token flow (as `docker push` does)."""
    layer, config = b"layer " + repo.encode(), json.dumps({"os": "linux"}).encode()
    with httpx.Client(base_url=url, timeout=30) as http:
        challenge = http.get("/v2/").headers["WWW-Authenticate"]
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        r = http.get(
            params["realm"],
            params={"service": params["service"], "scope": f"repository:{repo}:pull,push"},
            auth=login,
        )
        r.raise_for_status()
        http.headers["Authorization"] = f"Bearer {r.json()['token']}"

        def blob(data: bytes) -> str:
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            r = http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": digest}, content=data)
            r.raise_for_status()
            return digest

        put_oci_manifest(http, repo, "v1", (blob(config), len(config)), (blob(layer), len(layer)))


async def _big_instance(
    window: MainWindow,
    count: int,
    *,
    images: tuple[int, ...] = (),
    disabled: tuple[int, ...] = (),
) -> dict[str, int]:
    """Start local mode and add projects acme/p00… (the demo user is a developer of acme);
    `images`: which of them get an image `app`. Returns every project's id by path."""
    await window.local_mode.start()
    store = GitLabStore(window.local_mode.paths.local_registry_dir)
    try:
        for i in range(count):
            access = RegistryAccess.DISABLED if i in disabled else RegistryAccess.ENABLED
            store.add_project(f"acme/p{i:02d}", Visibility.PRIVATE, access)
        ids = {p.path: p.id for p in store.projects()}
    finally:
        store.close()
    login = window.local_mode.registry.demo_credentials
    for i in images:
        await asyncio.to_thread(_push, window.local_mode.url, login, f"acme/p{i:02d}/app")
    return ids


def _leaf_paths(item: Any) -> list[str]:
    out = []
    for i in range(item.childCount()):
        child = item.child(i)
        if child.data(0, sb.KIND_ROLE) == sb.REPOSITORY:
            out.append(child.data(0, sb.PATH_ROLE))
        out.extend(_leaf_paths(child))
    return out


def test_expanded_project_is_read_first_and_no_project_twice(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window, browser = _recording_window(qtbot, tmp_path, delay=0.06)
    inserts: list[tuple[int, bool]] = []  # (rows after the insert, load still running)
    resets: list[bool] = []
    model = window.repos_model

    def reading() -> bool:
        reader = window.browser.tree.reader(LOCAL_PROFILE)
        return reader is not None and reader.running

    model.rowsInserted.connect(lambda *_: inserts.append((len(model.rows), reading())))
    model.modelReset.connect(lambda: resets.append(window.tasks.running("repos")))
    progress: list[str] = []

    async def scenario() -> None:
        ids = await _big_instance(window, 40, images=(2, 9, 14, 21, 27, 33, 37), disabled=(5, 30))
        await window.start()
        bar = window.sidebar
        await until(lambda: bar.project_item(LOCAL_PROFILE, "acme/p37") is not None, 60)
        target = bar.project_item(LOCAL_PROFILE, "acme/p37")
        assert target is not None and not target.isExpanded()  # 43 projects: collapsed
        # not read yet: expandable through its "Listing…" child
        assert child_texts(target) == [sb.LISTING]
        assert window.tasks.running("repos")
        before = len(browser.started)
        assert before < 10  # the queue is far from acme/p37 (43 projects, 4 at a time)
        target.setExpanded(True)  # the user opens it
        # its image shows while the queue is still far from it
        await until(lambda: child_texts(target) == ["app"], 10)
        assert window.tasks.running("repos")
        position = browser.started.index("acme/p37")
        assert position <= before + TREE_WORKERS  # started at once, beside the workers
        assert "acme/p36" not in browser.started  # ahead of the queue: not there yet
        assert len(browser.started) < 30
        # progress while it runs
        while window.tasks.running("repos"):
            if window.tree_progress.isVisible():
                progress.append(window.tree_progress.text())
            await asyncio.sleep(0.03)

        # every project with its registry on read exactly once; no request for those off
        counted = Counter(browser.requests)
        assert all(n == 1 for n in counted.values()), counted
        enabled = {p for p in ids if p.startswith("acme/") or p == "oss/tools"} - {
            "acme/p05",
            "acme/p30",
        }
        assert set(counted) == {ids[p] for p in enabled}
        assert ids["acme/p05"] not in counted and ids["acme/p30"] not in counted
        assert Counter(browser.started)["acme/p37"] == 1
        off = bar.project_item(LOCAL_PROFILE, "acme/p05")
        assert off is not None and child_texts(off) == [sb.REGISTRY_OFF]
        empty = bar.project_item(LOCAL_PROFILE, "acme/p06")
        assert empty is not None and child_texts(empty) == [sb.NO_IMAGES]

        # the progress said how far it was, and went away at the end
        assert progress, "no progress shown"
        assert all(re.fullmatch(r"Reading repositories: \d+ of 43 projects", t) for t in progress)
        done = [int(t.split()[2]) for t in progress]
        assert done == sorted(done) and done[0] < done[-1]
        assert not window.tree_progress.isVisible()

        # the table grew during the load, in batches, never reset after the first fill
        paths = [r.path for r in model.repositories()]
        assert len(paths) == len(set(paths))
        assert {f"acme/p{i:02d}/app" for i in (2, 9, 14, 21, 27, 33, 37)} <= set(paths)
        assert {"acme/webshop/backend", "oss/tools/alpine-tools"} <= set(paths)
        during = [n for n, running in inserts if running]
        assert len(during) >= 2 and during[0] < during[-1], inserts
        assert during[0] < len(paths)
        assert len(inserts) < 10  # projects with images: 10; batches fewer
        assert resets.count(True) <= 1
        assert window.counts.text() == f"{len(paths):,} repositories"
        assert window.pages.currentIndex() == PAGE_REPOS

    run_in_local_mode(qloop, window, scenario)


def test_picking_an_unread_project_reads_it_once_at_once(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window, browser = _recording_window(qtbot, tmp_path, delay=0.05)

    async def scenario() -> None:
        ids = await _big_instance(window, 40, images=(38,))
        await window.start()
        bar = window.sidebar
        await until(lambda: bar.project_item(LOCAL_PROFILE, "acme/p38") is not None, 60)
        node = bar.project_item(LOCAL_PROFILE, "acme/p38")
        assert node is not None
        bar.setCurrentItem(node)  # the user picks it: the table shows its repositories
        assert window.heading.text().endswith("acme/p38")
        await until(
            lambda: [r.path for r in window.repos_model.repositories()] == ["acme/p38/app"],
            10,
        )
        assert window.tasks.running("repos")  # long before the queue got there
        assert "acme/p37" not in browser.started  # ahead of the queue: not there yet
        await until(lambda: not window.tasks.running("repos"), 60)
        assert Counter(browser.requests)[ids["acme/p38"]] == 1  # the queue skipped it
        # the table kept to the project while the rest of the tree arrived
        assert [r.path for r in window.repos_model.repositories()] == ["acme/p38/app"]
        assert bar.currentItem() is node
        # picking it again reads it again, on purpose (F5-like)
        bar.setCurrentItem(bar.project_item(LOCAL_PROFILE, "acme/p00"))
        bar.setCurrentItem(node)
        await until(lambda: not window.tasks.running("project"), 10)
        assert Counter(browser.requests)[ids["acme/p38"]] == 2

    run_in_local_mode(qloop, window, scenario)


def test_hand_added_paths_in_the_api_tree(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window, browser = _recording_window(qtbot, tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def scenario() -> None:
        try:
            await _big_instance(window, 8, images=(1,))
            profile = (await window.accounts.load()).profiles[LOCAL_PROFILE]
            manual = ("acme/p03/nightly", "elsewhere/team/img", "acme/webshop/frontend")
            await window.accounts.save(replace(profile, repositories=manual))
            # projects from acme/p04 on wait, so the picture shows a partly read tree
            browser.hold = {f"acme/p{i:02d}" for i in range(4, 8)} | {"acme/webshop", "oss/tools"}
            await window.start()
            bar = window.sidebar

            def read(path: str) -> list[str]:
                node = bar.project_item(LOCAL_PROFILE, path)
                return child_texts(node) if node is not None else []

            await until(lambda: read("acme/p03") == ["nightly"] and read("acme/p01") == ["app"])
            root = bar.topLevelItem(0)
            assert root is not None
            p03 = bar.project_item(LOCAL_PROFILE, "acme/p03")
            assert p03 is not None
            nightly = p03.child(0)
            assert nightly.data(0, sb.PATH_ROLE) == "acme/p03/nightly"
            assert "Added by hand" in nightly.toolTip(0)
            # an unread project: its hand-added path is there already, with "Listing…"
            webshop = bar.project_item(LOCAL_PROFILE, "acme/webshop")
            assert webshop is not None and child_texts(webshop) == ["frontend", sb.LISTING]
            hand = [root.child(i) for i in range(root.childCount())]
            kinds = [c.data(0, sb.KIND_ROLE) for c in hand]
            assert kinds[-2:] == [sb.HAND, sb.ADD_PATH]
            assert hand[-2].text(0) == sb.HAND_LABEL and child_texts(hand[-2]) == [
                "elsewhere/team/img"
            ]
            # the table has the hand-added paths too
            shown = {r.path for r in window.repos_model.repositories()}
            assert set(manual) <= shown
            bar.resize(320, 720)
            shot = SHOTS / "sidebar-gitlab-partial-hand-added.png"
            assert bar.grab().save(str(shot))

            browser.release.set()
            await until(lambda: not window.tasks.running("repos"), 30)
            # the API lists acme/webshop/frontend too: once in the tree, once in the table
            assert _leaf_paths(root).count("acme/webshop/frontend") == 1
            assert child_texts(webshop) == ["webshop", "backend", "frontend"]
            assert "Added by hand" not in webshop.child(2).toolTip(0)
            paths = [r.path for r in window.repos_model.repositories()]
            assert paths.count("acme/webshop/frontend") == 1 and set(manual) <= set(paths)
            rows = {r.path: r for r in window.repos_model.repositories()}
            assert rows["acme/webshop/frontend"].gitlab_id  # the API's row replaced the hand one
            assert rows["elsewhere/team/img"].gitlab_id is None

            # adding another path by hand: into the tree at once, no reload of every project
            window.tasks.start(
                "profiles", window.hand_paths.add_path(LOCAL_PROFILE, "acme/p06/tools/x")
            )
            await until(lambda: not window.tasks.running("profiles"), 10)
            p06 = bar.project_item(LOCAL_PROFILE, "acme/p06")
            assert p06 is not None and child_texts(p06) == ["tools/x"]
            window.tasks.start("profiles", window.hand_paths.add_path(LOCAL_PROFILE, "other/thing"))
            await until(lambda: not window.tasks.running("profiles"), 10)
            assert child_texts(bar.topLevelItem(0).child(bar.topLevelItem(0).childCount() - 2)) == [
                "elsewhere/team/img",
                "other/thing",
            ]
            assert browser.project_lists == 1
            saved = (await window.accounts.load()).profiles[LOCAL_PROFILE]
            assert saved.repositories == (*manual, "acme/p06/tools/x", "other/thing")
            await until(lambda: not window.tasks.running("tags"), 10)
            shot2 = SHOTS / "sidebar-gitlab-hand-added-read.png"
            assert bar.grab().save(str(shot2))
        finally:
            browser.release.set()

    run_in_local_mode(qloop, window, scenario)


# --- ProjectReader alone (its read function is a stand-in; the window tests above are real) ---


def _projects(n: int) -> list[GitLabProject]:
    return [GitLabProject(id=i, path=f"g/p{i}", namespace="g") for i in range(n)]


async def test_reader_prefer_before_run_and_want_after_cancel() -> None:
    order: list[str] = []
    gate = asyncio.Event()

    async def read(p: GitLabProject) -> list[RepositoryInfo]:
        order.append(p.path)
        await gate.wait()
        return [RepositoryInfo(f"{p.path}/img")]

    reader = ProjectReader(_projects(10), read, manual=["g/p1/img", "x/y"], workers=2)
    assert reader.prefer("g/p7")  # not running yet: first in the queue
    assert not reader.prefer("nope")
    run = asyncio.create_task(reader.run())
    await asyncio.sleep(0.01)
    assert order == ["g/p7", "g/p0"] and reader.running
    waiting = asyncio.create_task(reader.want("g/p9"))  # started at once, beside the workers
    await asyncio.sleep(0.01)
    assert order == ["g/p7", "g/p0", "g/p9"]
    gate.set()
    assert await waiting == [RepositoryInfo("g/p9/img")]
    await run
    assert sorted(order) == sorted(p.path for p in _projects(10)) and len(order) == 10
    assert reader.done == reader.total == 10 and not reader.running
    repos = [r.path for r in reader.repositories()]
    assert repos.count("g/p1/img") == 1 and repos[-1] == "x/y"  # listed once; the orphan kept

    gate.clear()
    order.clear()
    reader = ProjectReader(_projects(5), read)
    run = asyncio.create_task(reader.run())
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(reader.want("g/p0"))
    await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert await waiting is None  # the load went away without reading it
    assert not reader.prefer("g/p4")
