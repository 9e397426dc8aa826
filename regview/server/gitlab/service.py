"""GitLab's view of the registry's content: repositories with ids, tag details, deletions,
bulk cleanup and cleanup policies. Synchronous (called from worker threads); the asynchronous
GitLab operations (bulk delete, repository delete) are scheduled by `GitLabService.schedule`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread

from regview.log import get_logger
from regview.server.errors import StoreClosed
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.policy import (
    CleanupRules,
    next_run_after,
    policy_rules,
    tags_to_delete,
)
from regview.server.gitlab.records import Project, Repository, now_iso, parse_time
from regview.server.registry.records import TagRecord
from regview.server.registry.registry import Registry

log = get_logger("server.gitlab.service")

BULK_DELETE_INTERVAL = 3600.0


@dataclass(frozen=True, slots=True)
class RepoView:
    """A registry repository as GitLab shows it."""

    repo: Repository
    project: Project
    tags_count: int

    @property
    def name(self) -> str:
        """The path below the project ("" for the project's own image)."""
        return self.repo.path[len(self.project.path) + 1 :]


class GitLabService:
    def __init__(
        self,
        store: GitLabStore,
        registry: Registry,
        *,
        async_delay: float = 0.5,
        bulk_interval: float = BULK_DELETE_INTERVAL,
    ) -> None:
        self.store = store
        self.registry = registry
        self.async_delay = async_delay
        self.bulk_interval = bulk_interval
        self._tasks: set[asyncio.Task[None]] = set()

    # --- reads ----------------------------------------------------------------------------

    def repositories(self, projects: list[Project] | None = None) -> list[RepoView]:
        """Registry repositories owned by `projects` (all projects if None), by id."""
        wanted = {p.id for p in projects} if projects is not None else None
        views: list[RepoView] = []
        for record in self.registry.list_repositories():
            project = self.store.project_for_image(record.name)
            if project is None or (wanted is not None and project.id not in wanted):
                continue
            repo = self.store.ensure_repository(record.name, project.id, record.created)
            views.append(RepoView(repo, project, record.tag_count))
        views.sort(key=lambda v: v.repo.id)
        return views

    def repository(self, repo_id: int) -> RepoView | None:
        repo = self.store.repository(repo_id)
        if repo is None:
            return None
        records = {r.name: r for r in self.registry.list_repositories()}
        record = records.get(repo.path)
        if record is None:
            self.store.forget_repository(repo.id)
            return None
        return RepoView(repo, self.store.project(repo.project_id), record.tag_count)

    def tags(self, path: str) -> list[TagRecord]:
        return self.registry.list_tags(path)

    def size(self, path: str) -> int:
        return self.registry.repository_size(path)

    # --- mutations ------------------------------------------------------------------------

    def delete_tag(self, path: str, tag: str) -> bool:
        return self.registry.delete_tag(path, tag)

    def cleanup(self, path: str, rules: CleanupRules, now: datetime | None = None) -> list[str]:
        """Delete the tags `rules` select; returns their names."""
        now = now or datetime.now(UTC)
        tags = [(t.name, t.created) for t in self.registry.list_tags(path)]
        doomed = tags_to_delete(tags, rules, now)
        for name in doomed:
            self.registry.delete_tag(path, name)
        if doomed:
            log.info("cleanup of %s deleted %d tag(s)", path, len(doomed))
        return doomed

    def claim_bulk_delete(self, repo_id: int) -> bool:
        return self.store.claim_bulk_delete(repo_id, time.time(), self.bulk_interval)

    def delete_repository_now(self, repo: Repository) -> None:
        self.store.set_repository_status(repo.id, "delete_ongoing")
        try:
            self.registry.delete_repository(repo.path)
        except Exception:
            self.store.set_repository_status(repo.id, "delete_failed")
            raise
        self.store.forget_repository(repo.id)

    # --- asynchronous operations ----------------------------------------------------------

    def schedule(self, name: str, func: Callable[[], object]) -> None:
        """Run `func` in a worker thread after `async_delay` seconds, as a GitLab worker job."""

        async def job() -> None:
            await asyncio.sleep(self.async_delay)
            try:
                await anyio.to_thread.run_sync(self._as_job, func)
            except StoreClosed:  # the server stopped first; GitLab would retry, we drop it
                log.info("GitLab background job %s dropped: the registry closed", name)
            except Exception:  # the job's failure is logged; the API already answered 202
                log.exception("GitLab background job %s failed", name)

        task = asyncio.get_running_loop().create_task(job(), name=f"gitlab-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for scheduled jobs (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- cleanup policies -----------------------------------------------------------------

    def _run_policy(self, project: Project, policy: dict[str, Any], now: datetime) -> int:
        """One project's policy over each of its repositories; returns tags deleted."""
        rules = policy_rules(policy)
        deleted = 0
        for view in self.repositories([project]):
            self.store.set_cleanup_started(view.repo.id, now_iso())
            try:
                deleted += len(self.cleanup(view.repo.path, rules, now))
            except Exception:  # one repository's failure must not stop the others' cleanup
                log.exception("cleanup policy of %s failed", view.repo.path)
            finally:
                self.store.set_cleanup_started(view.repo.id, None)
        return deleted

    def _as_job(self, func: Callable[[], object]) -> None:
        with self.registry.job():  # close() waits for it instead of pulling the store away
            func()

    def run_due_policies(self, now: datetime) -> int:
        """Run every enabled policy whose `next_run_at` has come; returns tags deleted."""
        try:
            with self.registry.job():
                return self._run_due_policies(now)
        except StoreClosed:  # the server is stopping
            return 0

    def _run_due_policies(self, now: datetime) -> int:
        deleted = 0
        for project in self.store.projects():
            policy = project.policy
            if not policy.get("enabled") or project.policy_next_run_at is None:
                continue
            if parse_time(project.policy_next_run_at) > now:
                continue
            try:
                deleted += self._run_policy(project, policy, now)
            except Exception:  # one project's failure must not stop the others' policies
                log.exception("cleanup policy of project %s failed", project.path)
            # Scheduled again even after a failure, as GitLab does: a policy that fails every
            # time must not make the runner retry this project every minute.
            self.store.update_project(
                project.id,
                policy_next_run_at=next_run_after(policy, now).isoformat().replace("+00:00", "Z"),
            )
        return deleted
