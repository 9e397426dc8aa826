"""Deleting from the app: selection → facts → plan → confirm → execute → results → broadcast.

    flow = DeleteFlow(sessions, parent_widget, journal=None)
        delete_tags(profile, repository, names)     tags chosen in the tags table
        delete_repository(profile, repository)      every tag of a repository
        run_selection(profile, repository, selection, facts=None, whole_repository=False)
                                                    a policy's result (policy editor "Run now")
        await open_port(profile) -> Connection      client port (+ GitLab API where usable)
        await connection_for_registry(host) -> Connection | None   (recycle bin restores)
        await gitlab_context(profile, repository) -> GitLabContext | None
        await gather(conn, repository) -> RepositoryFacts   for a dialog: the window's rows as
                                                    they are (no request per tag), else a load
        known_tags: (profile, repository) -> rows | None    the window's loaded table (set by it)
        (the confirmation's "Re-check the registry" forgets what earlier answers taught about it)
        release(api)                                close a GitLab client a dialog is done with
        await aclose()                              cancel and await tasks, close GitLab clients
        tasks: Tasks                                "delete-plan", "delete-run-<n>" slots
        signals:
          mutated(DeleteMutation)     what changed, for the views to refresh only that
          problem(Problem)            an environment failure, in words (the window's banner)
          status(str)                 short progress text ("Reading 70 tags to plan…")
          confirmShown(DeleteDialog) ; progressShown(DeleteProgressDialog)
          finished(ExecutionReport) ; policyEditorShown(PolicyEditor)

Requests (issue 18): a plan revalidates the rows the window already shows (one conditional GET
per tag, 304s), infers what the registry can do from its `/v2/` headers and earlier answers (no
probe DELETEs), and looks up referrers only for the manifests the selection touches. A known
GitLab image's project is used directly.

Nothing is deleted before the user pressed Delete in the confirmation dialog showing the plan;
"Retry failed" goes through a fresh plan and a fresh confirmation. Facts are gathered and plans
made in task slots (planning runs on a worker thread: it is pure, and 10,000 tags take longer
than a frame).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from regview.core import errors as E
from regview.core.client.transport import HttpOwner
from regview.core.deletion.executor import ExecutionReport, Executor, Outcome
from regview.core.deletion.plan import (
    DeletePlan,
    PlanOptions,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import locate
from regview.core.journal.journal import Journal, JournalError
from regview.core.model import RegistryKind, TagInfo
from regview.core.vendors import context_for, open_vendor
from regview.log import get_logger
from regview.services.async_utils import run_blocking
from regview.services.sessions import SessionManager
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.doubt import with_credential_warning
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.dialogs.delete.resume import start_resume
from regview.ui.errors import Problem, describe
from regview.ui.tasks import Tasks

log = get_logger("ui.delete")

#: Referrers cost one request per manifest (where the registry has the API); a selection of more
#: tags than this is planned without them.
REFERRER_LOOKUP_LIMIT = 1000
DEFAULT_OPTIONS = PlanOptions()


@dataclass(frozen=True, slots=True)
class DeleteMutation:
    """What a deletion or restore changed (habit 6)."""

    profile: str
    repository: str
    removed: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()
    repository_emptied: bool = False


@dataclass(slots=True)
class GitLabContext:
    api: GitLabAPI
    project_id: int
    repository_id: int | None = None
    project_path: str = ""


@dataclass(slots=True)
class Connection:
    profile: str
    port: ClientPort
    gitlab: GitLabContext | None = None
    apis: set[HttpOwner] | None = None  # the flow's open GitLab and vendor API clients

    async def close(self) -> None:
        for api in (self.gitlab.api if self.gitlab else None, self.port.vendor):
            if api is not None:
                if self.apis is not None:
                    self.apis.discard(api)
                await api.aclose()


@dataclass(slots=True)
class _Pending:
    """One deletion between "Delete…" and its results."""

    profile: str
    repository: str
    selection: Selection
    whole_repository: bool
    conn: Connection
    facts: RepositoryFacts | None = None
    plan: DeletePlan | None = None
    dialogs: list[Any] = field(default_factory=list)


def describe_delete(exc: BaseException) -> Problem | None:
    """Words for what went wrong around a deletion; None is a bug (crash dialog)."""
    if isinstance(exc, JournalError):
        return Problem(
            "The recycle bin cannot be written",
            f"{exc} Nothing was deleted after this happened.",
            "Free some disk space or fix the permissions of regview's data folder, then retry.",
        )
    if isinstance(exc, E.Unsupported):
        return Problem(
            "The registry does not allow deleting",
            exc.message,
            "Deletion must be enabled by the registry's administrator "
            "(CNCF registry: storage.delete.enabled: true).",
        )
    if isinstance(exc, E.GitLabAPIError):
        return Problem("GitLab refused", exc.message, "", "")
    return describe(exc)


class DeleteFlow(QObject):
    mutated = Signal(object)
    problem = Signal(object)
    status = Signal(str)
    confirmShown = Signal(object)
    progressShown = Signal(object)
    finished = Signal(object)
    policyEditorShown = Signal(object)

    def __init__(
        self,
        sessions: SessionManager,
        parent_widget: QWidget | None = None,
        journal: Journal | None = None,
    ) -> None:
        super().__init__(parent_widget)
        self.sessions = sessions
        self.parent_widget = parent_widget
        self.journal = journal if journal is not None else Journal()
        self.tasks = Tasks(self)
        self._runs = itertools.count(1)
        self.executor: Executor | None = None
        #: GitLab API clients handed out and not yet closed (closed by `aclose` at the latest)
        self._apis: set[HttpOwner] = set()
        #: the rows a view already loaded for (profile, repository); the window sets it
        self.known_tags: Callable[[str, str], Sequence[TagInfo] | None] | None = None

    # --- connections ---------------------------------------------------------------------
    async def open_port(self, profile: str, repository: str = "") -> Connection:
        session = await self.sessions.open(profile)
        gitlab = await self.gitlab_context(profile, repository) if repository else None
        # Docker Hub, GHCR, Harbor, Quay: their management API deletes where /v2 does not (a
        # Quay robot login carries the API's own token from the keyring: Accounts.credentials)
        vendor = open_vendor(context_for(session.endpoint, session.credentials, session.client))
        if vendor is not None:
            self._apis.add(vendor)
        port = ClientPort(session.client, gitlab.api if gitlab else None, vendor=vendor)
        return Connection(profile, port, gitlab, self._apis)

    async def gitlab_context(self, profile: str, repository: str) -> GitLabContext | None:
        """The GitLab project (and registry repository id) of `repository`, where the profile
        has a confirmed API URL and a credential that may call it; else None."""
        session = await self.sessions.open(profile)
        p = session.profile
        creds = session.credentials
        if p.kind != RegistryKind.GITLAB or not p.api_url:
            return None
        if creds is not None and not creds.can_call_gitlab_api:
            return None
        api = GitLabAPI(p.api_url, creds, insecure=p.insecure, ca_file=p.ca_file)
        self._apis.add(api)
        try:
            target = await locate(api, repository)
        except E.RegistryError as exc:
            log.info("no GitLab project for %s: %s", repository, exc)
            await self._close_api(api)
            return None
        return GitLabContext(api, target.project_id, target.repository_id, target.project_path)

    def release(self, api: HttpOwner) -> None:
        """Close a GitLab API client a dialog no longer needs (now, or in `aclose`)."""
        self.tasks.start(f"gitlab-close-{id(api)}", self._close_api(api))

    async def _close_api(self, api: HttpOwner) -> None:
        self._apis.discard(api)
        await api.aclose()

    async def aclose(self) -> None:
        """Cancel and await every task, then close the GitLab clients still open (a close task
        cancelled before it ran would otherwise leave its connections behind)."""
        self.cancel_all()
        await self.tasks.aclose()
        while self._apis:
            await self._close_api(next(iter(self._apis)))

    async def connection_for_registry(self, registry: str) -> Connection | None:
        """A connection to the profile whose host is `registry` (a recycle-bin entry's)."""
        for p in await self.sessions.accounts.profiles():
            if p.answers_to(registry):  # also at an earlier address (local mode moved)
                return await self.open_port(p.name)
        return None

    # --- entry points --------------------------------------------------------------------
    def delete_tags(self, profile: str, repository: str, names: list[str]) -> None:
        if not names:
            return
        selection = Selection.of_tags(names, "selected in the tags table")
        self.run_selection(profile, repository, selection)

    def delete_repository(self, profile: str, repository: str) -> None:
        self.run_selection(profile, repository, Selection.repository(), whole_repository=True)

    def run_selection(
        self,
        profile: str,
        repository: str,
        selection: Selection,
        facts: RepositoryFacts | None = None,
        whole_repository: bool = False,
        options: PlanOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.tasks.start(
            "delete-plan",
            self._plan(profile, repository, selection, facts, whole_repository, options),
        )

    # --- steps ---------------------------------------------------------------------------
    async def _plan(
        self,
        profile: str,
        repository: str,
        selection: Selection,
        facts: RepositoryFacts | None,
        whole_repository: bool,
        options: PlanOptions,
    ) -> DeletePlan | None:
        conn: Connection | None = None
        try:
            conn = await self.open_port(profile, repository)
            pending = _Pending(profile, repository, selection, whole_repository, conn)
            facts = await self.plan_facts(conn, repository, selection, facts)
            pending.facts = facts
            self.status.emit("Planning the deletion…")
            plan = await run_blocking(make_plan, facts, selection, options)
            stored = (await self.sessions.accounts.load()).profiles.get(profile)
            plan = with_credential_warning(plan, stored)  # a read-only token, said up front
        except Exception as exc:
            if conn is not None:
                await conn.close()
            self.status.emit("")
            problem = describe_delete(exc)
            if problem is None:
                raise
            self.problem.emit(problem)
            return None
        pending.plan = plan
        self.status.emit("")
        self._confirm(pending)
        return plan

    def _rows_at_hand(self, profile: str, repository: str) -> Sequence[TagInfo]:
        if self.known_tags is None:
            return ()
        return self.known_tags(profile, repository) or ()

    async def gather(self, conn: Connection, repository: str) -> RepositoryFacts:
        """Facts for a dialog (the cleanup policy's preview): the rows the window shows as they
        are — the plan made from them revalidates — else a full load."""
        rows = self._rows_at_hand(conn.profile, repository)
        if not rows:
            return await self.plan_facts(conn, repository, None, None)
        gl = conn.gitlab
        return RepositoryFacts(
            registry=conn.port.client.registry,
            repository=repository,
            tags=tuple(rows),
            capabilities=await conn.port.capabilities(
                repository, gitlab_tag_api=gl is not None and gl.project_id is not None
            ),
            gitlab_project_id=gl.project_id if gl else None,
            gitlab_repository_id=gl.repository_id if gl else None,
        )

    async def plan_facts(
        self,
        conn: Connection,
        repository: str,
        selection: Selection | None,
        given: RepositoryFacts | None,
    ) -> RepositoryFacts:
        """Facts to plan `selection` with: the rows at hand (or `given`) revalidated, one
        conditional GET per tag; referrers only of what the selection touches."""
        known = given.tags if given is not None else self._rows_at_hand(conn.profile, repository)
        client = conn.port.client
        names = await client.list_tags(repository)
        verb = "Checking" if known else "Reading"
        self.status.emit(f"{verb} {len(names):,} tags of {repository} to plan the deletion…")
        gl = conn.gitlab
        chosen = 0 if selection is None else len(selection.tags) + len(selection.untagged)
        if selection is not None and selection.whole_repository:
            chosen = len(names)
        touched = selection is not None and chosen <= REFERRER_LOOKUP_LIMIT
        return await gather_facts(
            conn.port,
            repository,
            known=known,
            names=names,
            referrers_for=selection if touched else None,
            gitlab_project_id=gl.project_id if gl else None,
            gitlab_repository_id=gl.repository_id if gl else None,
        )

    def _confirm(self, pending: _Pending) -> None:
        assert pending.plan is not None
        dialog = DeleteDialog(
            pending.plan, whole_repository=pending.whole_repository, parent=self.parent_widget
        )
        pending.dialogs.append(dialog)
        dialog.optionsChanged.connect(
            lambda options: self.tasks.start("delete-plan", self._replan(pending, dialog, options))
        )
        dialog.recheckRequested.connect(
            lambda: self.tasks.start("delete-plan", self._recheck(pending, dialog))
        )
        dialog.accepted.connect(lambda: self._execute(pending, dialog.plan))
        dialog.rejected.connect(lambda: self.tasks.start("delete-close", pending.conn.close()))
        dialog.open()
        self.confirmShown.emit(dialog)

    async def _replan(self, pending: _Pending, dialog: DeleteDialog, options: PlanOptions) -> None:
        assert pending.facts is not None
        plan = await run_blocking(make_plan, pending.facts, pending.selection, options)
        stored = (await self.sessions.accounts.load()).profiles.get(pending.profile)
        plan = with_credential_warning(plan, stored)
        pending.plan = plan
        dialog.set_plan(plan)

    async def _recheck(self, pending: _Pending, dialog: DeleteDialog) -> None:
        """Forget what earlier answers taught about this registry and plan again from its
        headers and documented behaviour (the next deletion teaches again)."""
        assert pending.facts is not None and pending.plan is not None
        port = pending.conn.port
        port.knowledge.forget(port.client.registry)
        gl = pending.conn.gitlab
        caps = await port.capabilities(
            pending.repository, gitlab_tag_api=gl is not None and gl.project_id is not None
        )
        pending.facts = replace(pending.facts, capabilities=caps)
        plan = await run_blocking(make_plan, pending.facts, pending.selection, pending.plan.options)
        pending.plan = plan
        dialog.set_plan(plan)

    def _execute(self, pending: _Pending, plan: DeletePlan) -> None:
        progress = DeleteProgressDialog(plan, self.parent_widget)
        executor = Executor(pending.conn.port, self.journal, on_result=progress.add_result)
        self.executor = executor
        progress.cancelRequested.connect(executor.cancel)
        progress.retryRequested.connect(lambda tags: self._retry(pending, progress, list(tags)))
        progress.trashRequested.connect(lambda: self.open_trash(focus=progress.report))
        progress.resumeRequested.connect(lambda journal_id: start_resume(self, journal_id))
        progress.open()
        self.progressShown.emit(progress)
        self.tasks.start(
            f"delete-run-{next(self._runs)}", self._run(pending, plan, progress, executor)
        )

    def _retry(self, pending: _Pending, progress: DeleteProgressDialog, tags: list[str]) -> None:
        progress.accept()
        self.delete_tags(pending.profile, pending.repository, tags)

    async def _run(
        self,
        pending: _Pending,
        plan: DeletePlan,
        progress: DeleteProgressDialog,
        executor: Executor,
    ) -> ExecutionReport | None:
        try:
            report = await executor.run(plan)
        except Exception as exc:
            problem = describe_delete(exc)
            if problem is None:
                raise
            progress.fail(problem.text())
            self.problem.emit(problem)
            return None
        finally:
            await pending.conn.close()
        progress.finish(report)
        removed = tuple(
            r.name for r in report.results if r.kind == "tag" and r.outcome is Outcome.DELETED
        )
        if removed:
            every = {t.tag for t in pending.facts.tags} if pending.facts else set()
            emptied = pending.whole_repository and not (every - set(removed))
            self.mutated.emit(
                DeleteMutation(
                    pending.profile,
                    pending.repository,
                    removed=removed,
                    repository_emptied=emptied,
                )
            )
        self.finished.emit(report)
        return report

    # --- other windows -------------------------------------------------------------------
    def open_trash(self, focus: ExecutionReport | None = None) -> Any:
        from regview.ui.pages.trash_view import TrashView

        view = TrashView(self, self.parent_widget)
        view.open()
        if focus is not None and focus.journal_id:
            view.select_entry(focus.journal_id)
        return view

    def notify_restored(self, profile: str, repository: str, tags: list[str]) -> None:
        if tags:
            self.mutated.emit(DeleteMutation(profile, repository, restored=tuple(tags)))

    def cancel_all(self) -> None:
        if self.executor is not None:
            self.executor.cancel()
        self.tasks.cancel_all()
