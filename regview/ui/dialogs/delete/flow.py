"""Deleting from the app: selection → facts → plan → confirm → execute → results → broadcast.
The use case itself (the target and the GitLab project behind a path, facts, the plan and what
it warns of, executing, restoring, the failure policy) is `regview.services.deletion`, shared
with the command line; this module runs it in task slots and shows it in dialogs.

    flow = DeleteFlow(sessions, parent_widget, journal=None)
        delete_tags(profile, repository, names)     tags chosen in the tags table
        delete_repository(profile, repository)      every tag of a repository
        run_selection(profile, repository, selection, facts=None, whole_repository=False)
                                                    a policy's result (policy editor "Run now")
        await open_port(profile, repository="") -> Connection   a services DeletionTarget
                                                    (+ the GitLab project where usable)
        await connection_for_registry(host) -> Connection | None   (recycle bin restores)
        await connection_for_entry(host, repository) -> Connection | None   (resumes)
        await gitlab_context(profile, repository) -> GitLabContext | None
        await gather(conn, repository) -> RepositoryFacts   for a dialog: the window's rows as
                                                    they are (no request per tag), else a load
        known_tags: (profile, repository) -> rows | None    the window's loaded table (set by it)
        (the confirmation's "Re-check the registry" forgets what earlier answers taught about it)
        release(api)                                close a GitLab client a dialog is done with
        await aclose()                              cancel and await tasks, close what is open
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
GitLab image's project is used directly; one that cannot be resolved is named in the plan's
warnings (deleting goes through the registry API), not only in the log.

Nothing is deleted before the user pressed Delete in the confirmation dialog showing the plan;
"Retry failed" goes through a fresh plan and a fresh confirmation. Facts are gathered and plans
made in task slots (planning runs on a worker thread: it is pure, and 10,000 tags take longer
than a frame).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from regview.core import errors as E
from regview.core.deletion.executor import ExecutionReport, Executor
from regview.core.deletion.plan import DeletePlan, PlanOptions, RepositoryFacts, Selection
from regview.core.deletion.port import ClientPort
from regview.core.journal.journal import Journal, JournalError
from regview.core.model import TagInfo
from regview.log import get_logger
from regview.services import deletion as D
from regview.services.async_utils import run_blocking
from regview.services.sessions import SessionManager
from regview.ui.dialogs.delete.dialog import DeleteDialog
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


#: The GitLab project behind a repository path (the services' one resolver finds it).
GitLabContext = D.GitLabProject


class _Closable(Protocol):
    async def aclose(self) -> None: ...


@dataclass(slots=True)
class Connection:
    """A profile's registry opened for deleting in one repository (`services.deletion`)."""

    profile: str
    target: D.DeletionTarget
    opened: set[_Closable] | None = None  # the flow's open targets and GitLab clients

    @property
    def port(self) -> ClientPort:
        return self.target.port

    @property
    def gitlab(self) -> D.GitLabProject | None:
        return self.target.gitlab

    async def close(self) -> None:
        if self.opened is not None:
            self.opened.discard(self.target)
        await self.target.aclose()


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
    #: a recycle-bin entry was restored (entry id, its `RestoreResult`s): open results say so
    runRestored = Signal(str, list)

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
        #: targets and GitLab clients handed out and not yet closed (by `aclose` at the latest)
        self._open: set[_Closable] = set()
        #: the rows a view already loaded for (profile, repository); the window sets it
        self.known_tags: Callable[[str, str], Sequence[TagInfo] | None] | None = None

    # --- connections ---------------------------------------------------------------------
    async def open_port(self, profile: str, repository: str = "") -> Connection:
        """The profile's registry opened for deleting: the vendor's management API where the
        kind has one (a Quay robot login carries the API's own token from the keyring:
        Accounts.credentials), and with a repository the GitLab project behind it."""
        session = await self.sessions.open(profile)
        target = await D.open_target(
            session.endpoint, session.credentials, session.client, repository
        )
        if target.api_problem:
            log.info("GitLab's API not used for %s: %s", repository, target.api_problem)
        self._open.add(target)
        return Connection(profile, target, self._open)

    async def gitlab_context(self, profile: str, repository: str) -> GitLabContext | None:
        """The GitLab project (and registry repository id) of `repository`, where the profile
        has an API URL and a credential that may call it; else None. Close its `api` with
        `release` when done."""
        session = await self.sessions.open(profile)
        found = await D.resolve_gitlab(session.endpoint, session.credentials, repository)
        if found.project is None:
            log.info("no GitLab project for %s: %s", repository, found.problem or found.why)
            return None
        self._open.add(found.project.api)
        return found.project

    def release(self, api: _Closable) -> None:
        """Close a GitLab API client a dialog no longer needs (now, or in `aclose`)."""
        self.tasks.start(f"gitlab-close-{id(api)}", self._close(api))

    async def _close(self, thing: _Closable) -> None:
        self._open.discard(thing)
        await thing.aclose()

    async def aclose(self) -> None:
        """Cancel and await every task, then close what is still open (a close task
        cancelled before it ran would otherwise leave its connections behind)."""
        self.cancel_all()
        await self.tasks.aclose()
        while self._open:
            await self._close(next(iter(self._open)))

    async def connection_for_registry(self, registry: str) -> Connection | None:
        """A connection to the profile whose registry is `registry` (a recycle-bin entry's;
        also at an address it had before: local mode moved)."""
        return await self.connection_for_entry(registry)

    async def connection_for_entry(self, registry: str, repository: str = "") -> Connection | None:
        """`connection_for_registry`, with GitLab's API for `repository` when given."""
        p = D.profile_for_registry(await self.sessions.accounts.profiles(), registry)
        return await self.open_port(p.name, repository) if p is not None else None

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
            plan = await self._make_plan(pending, options)
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
        return await D.facts_from_rows(conn.target, repository, rows)

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
        names = await conn.port.client.list_tags(repository)
        verb = "Checking" if known else "Reading"
        self.status.emit(f"{verb} {len(names):,} tags of {repository} to plan the deletion…")
        chosen = 0 if selection is None else len(selection.tags) + len(selection.untagged)
        if selection is not None and selection.whole_repository:
            chosen = len(names)
        touched = selection is not None and chosen <= REFERRER_LOOKUP_LIMIT
        return await D.gather(
            conn.target,
            repository,
            known=known,
            names=names,
            referrers_for=selection if touched else None,
        )

    async def _make_plan(self, pending: _Pending, options: PlanOptions) -> DeletePlan:
        """The services' plan: a read-only token and an unused GitLab API said up front."""
        assert pending.facts is not None
        stored = (await self.sessions.accounts.load()).profiles.get(pending.profile)
        return await run_blocking(
            functools.partial(
                D.plan_deletion,
                profile=stored,
                api_problem=pending.conn.target.api_problem,
            ),
            pending.facts,
            pending.selection,
            options,
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
        plan = await self._make_plan(pending, options)
        pending.plan = plan
        dialog.set_plan(plan)

    async def _recheck(self, pending: _Pending, dialog: DeleteDialog) -> None:
        """Forget what earlier answers taught about this registry and plan again from its
        headers and documented behaviour (the next deletion teaches again)."""
        assert pending.facts is not None and pending.plan is not None
        port = pending.conn.port
        port.knowledge.forget(port.client.registry)
        caps = await port.capabilities(
            pending.repository, gitlab_tag_api=pending.conn.gitlab is not None
        )
        pending.facts = replace(pending.facts, capabilities=caps)
        plan = await self._make_plan(pending, pending.plan.options)
        pending.plan = plan
        dialog.set_plan(plan)

    def _execute(self, pending: _Pending, plan: DeletePlan) -> None:
        progress = DeleteProgressDialog(plan, self.parent_widget)
        executor = D.executor_for(pending.conn.target, self.journal, on_result=progress.add_result)
        self.executor = executor
        progress.cancelRequested.connect(executor.cancel)
        progress.retryRequested.connect(lambda tags: self._retry(pending, progress, list(tags)))
        progress.trashRequested.connect(lambda: self.open_trash(focus=progress.report))
        progress.resumeRequested.connect(lambda journal_id: start_resume(self, journal_id))
        self.runRestored.connect(progress.show_restored)
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
        removed = D.removed_tags(report)
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
