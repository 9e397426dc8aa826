"""The app's delete flow keeps the failure policy the command line keeps (`services.deletion`),
against the embedded registry over loopback, with the real confirmation dialog:

- a GitLab registry whose API cannot be reached: the confirmation's plan says that GitLab's API
  is not used, and why, before anything is deleted (the app used to fall back in silence, with
  the reason only in the log; the command line has always said it);
- "Resume" of a recycle-bin entry made while the registry answered at an earlier address finds
  its profile by that address, as Restore does (it used to say "No registry profile").
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, make_accounts, run
from delete_support import until
from keyring_support import MemoryKeyring
from pytestqt.qtbot import QtBot
from tiny_images import seed_tiny_tags, snapshot

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import PlanOptions, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal
from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile, with_updates
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.flow import DeleteFlow
from regview.ui.dialogs.delete.resume import resume_run
from regview.ui.errors import Problem

pytestmark = [pytest.mark.ui, pytest.mark.integration]
REPO = "team/app"
#: nothing listens there: connection refused at once
DEAD_API = "http://127.0.0.1:1/api/v4"


async def _seed(url: str, n: int) -> dict[str, str]:
    async with RegistryClient(Endpoint(url)) as client:
        await seed_tiny_tags(client, REPO, n)
        return await snapshot(client, REPO)


def _flow(qtbot: QtBot, tmp_path: Path, qloop: asyncio.AbstractEventLoop, profile: Profile) -> Any:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    run(qloop, accounts.save(profile, "glpat-not-needed-here"))
    sessions = SessionManager(accounts)
    flow = DeleteFlow(sessions)
    problems: list[Problem] = []
    flow.problem.connect(problems.append)
    return flow, sessions, problems


def test_an_unreachable_gitlab_api_is_said_in_the_plan(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    with local_registry(tmp_path / "reg") as url:
        before = run(qloop, _seed(url, 3))
        endpoint = Endpoint(url=url, kind=RegistryKind.GITLAB, api_url=DEAD_API)
        profile = Profile.for_endpoint(
            endpoint, name="gl", username="alice", credential_kind=CredentialKind.PERSONAL
        )
        flow, sessions, problems = _flow(qtbot, tmp_path, qloop, profile)
        shown: list[DeleteDialog] = []
        flow.confirmShown.connect(shown.append)
        try:
            flow.delete_tags("gl", REPO, ["t0001"])
            run(qloop, until(lambda: bool(shown) or bool(problems)), 60)
            assert not problems, [p.text() for p in problems]
            dialog = shown[0]
            said = [w for w in dialog.plan.warnings if "GitLab's API is not used" in w]
            assert len(said) == 1, dialog.plan.warnings
            assert "127.0.0.1:1" in said[0] and "registry API" in said[0]
            assert [a.tag for a in dialog.plan.tag_actions] == ["t0001"]
            # shown where the person reads before confirming, and nothing happened yet
            assert dialog.refusal_box.isVisibleTo(dialog)
            assert "GitLab's API is not used (127.0.0.1:1" in dialog.refusal_box.text()
            assert dialog.delete_button.isEnabled()  # a warning, not a refusal
            shots = Path(os.environ.get("REGVIEW_SCREENSHOT_DIR") or tmp_path)
            dialog.resize(900, 620)
            dialog.grab().save(str(shots / "delete-confirm-gitlab-api-unused.png"))
            assert run(qloop, _seed_snapshot(url)) == before
            dialog.reject()
        finally:
            run(qloop, flow.aclose())
            run(qloop, sessions.close_all())


async def _seed_snapshot(url: str) -> dict[str, str]:
    async with RegistryClient(Endpoint(url)) as client:
        return await snapshot(client, REPO)


def test_resume_finds_the_profile_at_an_earlier_address(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    earlier = "127.0.0.1:9"  # where the registry answered when the run was made
    with local_registry(tmp_path / "reg") as url:
        run(qloop, _seed(url, 3))
        profile = with_updates(
            Profile.for_endpoint(Endpoint(url=url), name="local"), aliases=(earlier,)
        )
        flow, sessions, problems = _flow(qtbot, tmp_path, qloop, profile)

        async def stopped_run() -> str:
            """A run of the plan for t0000 stopped before it started (as a cancel leaves it),
            recorded under the earlier address."""
            async with RegistryClient(Endpoint(url)) as client:
                port = ClientPort(client)
                facts = await gather_facts(port, REPO)
                plan = make_plan(facts, Selection.of_tags(["t0000"]), PlanOptions())
                executor = Executor(port, Journal())
                executor.cancel()
                report = await executor.run(replace(plan, registry=earlier))
                assert report.cancelled
                return report.journal_id

        progress: list[Any] = []
        flow.progressShown.connect(progress.append)
        try:
            entry_id = run(qloop, stopped_run())
            assert Journal().load(entry_id).registry == earlier
            report = run(qloop, resume_run(flow, entry_id), 60)
            assert not problems, [p.text() for p in problems]
            assert report is not None and report.all_gone, report
            assert [r.name for r in report.results if r.kind == "tag"] == ["t0000"]
            assert set(run(qloop, _seed_snapshot(url))) == {"t0001", "t0002"}
        finally:
            for dialog in progress:
                dialog.close()
            run(qloop, flow.aclose())
            run(qloop, sessions.close_all())
