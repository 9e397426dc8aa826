"""Deleting, the use case both front ends run (`regview rm/prune/trash` and the app's delete
flow): resolve the target → gather facts → plan → *the front end confirms* → execute → report;
restore and resume from the recycle bin. The front ends only render (the plan, progress, the
results) and ask; every decision below is made here, once.

    target = await open_target(endpoint, credentials, client, repository)
        target.port          ClientPort (with the GitLab API and the vendor's management API)
        target.gitlab        GitLabProject | None: the project behind `repository`
        target.api_problem   why the GitLab API is not used ("" when it is, or none is set up)
        await target.aclose()
    resolution = await resolve_gitlab(endpoint, credentials, repository)   the one resolver
    facts = await gather(target, repository, known=rows, names=…, referrers_for=selection)
    facts = await facts_from_rows(target, repository, rows)   as shown, for a preview
    plan = plan_deletion(facts, selection, options, profile=…, api_problem=…, credential_fix=…)
    executor = executor_for(target, journal, on_result=…)  → `await executor.run(plan)`;
                                              `executor.cancel()` from anywhere
    removed_tags(report) -> tags this run deleted      (what the views drop)
    results = await restore_entry(journal, entry_id, target, tags=None)
    profile_for_registry(profiles, registry) -> Profile | None   a recycle-bin entry's profile
    tags, problem = await gitlab_dates(target, tags)  creation times GitLab's cleanup uses
    journal_id, gone = await delete_repository_on_gitlab(target, facts, journal, wait=60)

The failure policy, the same from the command line and the app:

- Nothing is deleted that the plan does not name, and nothing before the person confirmed
  that plan (the executor re-reads every tag first and skips what changed).
- Every item of a run is accounted for: deleted (by an answer, or read back after a lost
  one), already gone, not deleted, changed since the plan, left on a placeholder, unknown, or
  not started (cancelled) — never silently dropped (`ExecutionReport`).
- A refusal (405/UNSUPPORTED, a management API's missing scope) teaches the run: after the
  first refused scope the later items fail without a request (`core.deletion.fallback`).
- A dropped connection or a 429/5xx is retried per item, then read back: the report says what
  the registry holds, and `resume` finishes the rest.
- An expired or refused credential while gathering facts stops before any plan exists: the
  error is said in words, nothing was sent.
- A GitLab project that cannot be resolved (no API URL, an anonymous or deploy credential,
  the API refusing or unreachable) falls back to the registry API and *says so*: the reason is
  `target.api_problem`, which the plan carries as a warning (a front end that said it already
  passes `api_problem=""`). A use case that needs GitLab's API fails with that reason instead
  (`GitLabResolution.error`).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import httpx

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import ExecutionReport, Executor, Outcome, ResultCallback
from regview.core.deletion.plan import (
    DeletePlan,
    OptionNames,
    PlanOptions,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import GitLabTarget, delete_repository, locate
from regview.core.journal.journal import ItemState, Journal, JournalItem, RestoreResult, restore
from regview.core.model import CredentialKind, Credentials, Endpoint, TagInfo
from regview.core.vendors import VendorAPI, context_for, open_vendor
from regview.services.deletion_doubt import APP_FIX, with_credential_warning
from regview.settings.profiles import Profile

__all__ = [
    "DeletionTarget",
    "GitLabProject",
    "GitLabResolution",
    "NoAPI",
    "delete_repository_on_gitlab",
    "executor_for",
    "facts_from_rows",
    "gather",
    "gitlab_dates",
    "open_target",
    "plan_deletion",
    "profile_for_registry",
    "removed_tags",
    "resolve_gitlab",
    "restore_entry",
]

ANONYMOUS_PROBLEM = "no credential for the GitLab API (anonymous)"


# -- the GitLab project behind a path -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GitLabProject:
    """The GitLab project (and registry repository id) behind a repository path, with the API
    client that found it (owned by whoever holds the `DeletionTarget`)."""

    api: GitLabAPI
    project_id: int
    repository_id: int | None = None
    project_path: str = ""
    repository_path: str = ""

    @property
    def target(self) -> GitLabTarget:
        return GitLabTarget(
            self.project_id, self.project_path, self.repository_id, self.repository_path
        )


class NoAPI(enum.Enum):
    """Why no GitLab project was resolved."""

    USED = "used"  # it was: `project` is set
    NOT_CONFIGURED = "not-configured"  # no API URL for this registry (not GitLab, or unknown)
    ANONYMOUS = "anonymous"  # no credential to call it with
    REFUSED = "refused"  # a deploy token, or the API refused or failed: `error` says


@dataclass(frozen=True, slots=True)
class GitLabResolution:
    project: GitLabProject | None = None
    why: NoAPI = NoAPI.USED
    error: E.RegistryError | None = None

    @property
    def problem(self) -> str:
        """Why the GitLab API is not used, in words ("" when it is, or none is configured)."""
        if self.why is NoAPI.ANONYMOUS:
            return ANONYMOUS_PROBLEM
        if self.error is not None:
            return self.error.message
        return ""


async def resolve_gitlab(
    endpoint: Endpoint,
    credentials: Credentials | None,
    repository: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> GitLabResolution:
    """The GitLab project behind `repository`, through `endpoint.api_url` with `credentials`.

    Never raises for an environment failure: a refusal or an unreachable API is the
    resolution's `error` (the caller decides whether to fall back or to stop)."""
    if not endpoint.api_url:
        return GitLabResolution(why=NoAPI.NOT_CONFIGURED)
    if credentials is None or credentials.kind is CredentialKind.ANONYMOUS:
        return GitLabResolution(why=NoAPI.ANONYMOUS)
    try:
        api = GitLabAPI(
            endpoint.api_url,
            credentials,
            insecure=endpoint.insecure,
            ca_file=endpoint.ca_file,
            transport=transport,
        )
    except E.DeployTokenNoAPI as exc:
        return GitLabResolution(why=NoAPI.REFUSED, error=exc)
    try:
        t = await locate(api, repository)
    except E.RegistryError as exc:
        await api.aclose()
        return GitLabResolution(why=NoAPI.REFUSED, error=exc)
    except BaseException:  # cancelled: its connections must not outlive it
        await api.aclose()
        raise
    project = GitLabProject(api, t.project_id, t.repository_id, t.project_path, t.repository_path)
    return GitLabResolution(project)


# -- the registry opened for deleting -------------------------------------------------------------


@dataclass(slots=True, eq=False)  # an open resource: compared (and hashed) by identity
class DeletionTarget:
    """One repository's registry opened for deleting. Owns the GitLab and vendor API clients
    it opened (`aclose`); the registry client is the caller's."""

    port: ClientPort
    gitlab: GitLabProject | None = None
    api_problem: str = ""
    resolution: GitLabResolution | None = None

    @property
    def client(self) -> RegistryClient:
        return self.port.client

    @property
    def vendor(self) -> VendorAPI | None:
        return self.port.vendor

    async def aclose(self) -> None:
        gitlab, vendor = self.gitlab, self.port.vendor
        self.gitlab = None
        for api in (gitlab.api if gitlab is not None else None, vendor):
            if api is not None:
                await api.aclose()


async def open_target(
    endpoint: Endpoint,
    credentials: Credentials | None,
    client: RegistryClient,
    repository: str = "",
    *,
    use_gitlab: bool = True,
    api_token: str = "",
    gitlab_transport: httpx.AsyncBaseTransport | None = None,
) -> DeletionTarget:
    """The port to delete through: the registry client, the vendor's management API where the
    registry kind has one (Docker Hub, GHCR, Harbor, Quay: it deletes where /v2 does not), and
    — `use_gitlab` with a repository — the GitLab project behind `repository`."""
    vendor = open_vendor(context_for(endpoint, credentials, client, api_token=api_token))
    resolution: GitLabResolution | None = None
    try:
        if use_gitlab and repository:
            resolution = await resolve_gitlab(
                endpoint, credentials, repository, transport=gitlab_transport
            )
    except BaseException:
        if vendor is not None:
            await vendor.aclose()
        raise
    project = resolution.project if resolution is not None else None
    port = ClientPort(client, project.api if project is not None else None, vendor=vendor)
    problem = resolution.problem if resolution is not None else ""
    return DeletionTarget(port, project, problem, resolution)


# -- facts and the plan ---------------------------------------------------------------------------


async def gather(
    target: DeletionTarget,
    repository: str,
    *,
    known: Sequence[TagInfo] = (),
    names: list[str] | None = None,
    referrers_for: Selection | None = None,
) -> RepositoryFacts:
    """Facts to plan with: every tag (`known` rows revalidated, one conditional GET each),
    capabilities inferred without probes, referrers of what `referrers_for` touches."""
    gl = target.gitlab
    return await gather_facts(
        target.port,
        repository,
        known=known,
        names=names,
        referrers_for=referrers_for,
        gitlab_project_id=gl.project_id if gl is not None else None,
        gitlab_repository_id=gl.repository_id if gl is not None else None,
    )


async def facts_from_rows(
    target: DeletionTarget, repository: str, rows: Sequence[TagInfo]
) -> RepositoryFacts:
    """Facts from rows already loaded, as they are (a preview; a plan made from them
    revalidates every tag it acts on)."""
    gl = target.gitlab
    return RepositoryFacts(
        registry=target.client.registry,
        repository=repository,
        tags=tuple(rows),
        capabilities=await target.port.capabilities(repository, gitlab_tag_api=gl is not None),
        gitlab_project_id=gl.project_id if gl is not None else None,
        gitlab_repository_id=gl.repository_id if gl is not None else None,
    )


#: the app's delete dialog's two checkboxes; a plan's warning names them as they read
APP_MANIFESTS_LABEL = "Also delete manifests left untagged"
APP_REFERRERS_LABEL = "…and their signatures and SBOMs"
APP_OPTION_NAMES = OptionNames(
    delete_manifests=f"“{APP_MANIFESTS_LABEL}”", delete_referrers=f"“{APP_REFERRERS_LABEL}”"
)
#: the command line's flags for the same options
CLI_OPTION_NAMES = OptionNames(
    delete_manifests="--delete-manifests", delete_referrers="--delete-referrers"
)


def plan_deletion(
    facts: RepositoryFacts,
    selection: Selection,
    options: PlanOptions,
    *,
    profile: Profile | None = None,
    api_problem: str = "",
    credential_fix: str = APP_FIX,
    option_names: OptionNames = APP_OPTION_NAMES,
) -> DeletePlan:
    """The plan the person confirms: the planner's, plus what the plan must say up front —
    that the credential's last Test showed it cannot delete here, and why GitLab's API is not
    used (`api_problem`); `credential_fix` says what to do about the credential in the front
    end's words, `option_names` its words for the plan's options. Pure: runs on a worker
    thread for big repositories."""
    plan = make_plan(facts, selection, options, option_names)
    plan = with_credential_warning(plan, profile, credential_fix)
    if api_problem and not plan.refusal:
        note = f"GitLab's API is not used ({api_problem}): deleting through the registry API"
        if note not in plan.warnings:
            plan = replace(plan, warnings=(*plan.warnings, note))
    return plan


# -- executing, restoring -------------------------------------------------------------------------


def executor_for(
    target: DeletionTarget, journal: Journal, *, on_result: ResultCallback | None = None
) -> Executor:
    """The executor of a confirmed plan (progress through `on_result`, `cancel()` to stop
    starting new items: the rest are reported as not started)."""
    return Executor(target.port, journal, on_result=on_result)


def removed_tags(report: ExecutionReport, *, this_run_only: bool = False) -> tuple[str, ...]:
    """The tags the report counts as deleted (`this_run_only`: not those an earlier run of a
    resumed entry settled)."""
    return tuple(
        r.name
        for r in report.results
        if r.kind == "tag" and r.outcome is Outcome.DELETED and not (this_run_only and r.earlier)
    )


async def restore_entry(
    journal: Journal, entry_id: str, target: DeletionTarget, *, tags: list[str] | None = None
) -> list[RestoreResult]:
    """Push a recycle-bin entry's manifests and tags back (all, or `tags`)."""
    return await restore(journal, entry_id, target.port, tags=tags)


def profile_for_registry(profiles: Iterable[Profile], registry: str) -> Profile | None:
    """The profile a recycle-bin entry's registry belongs to: its host now, or an address it
    answered at before (local mode moved)."""
    for p in profiles:
        if p.answers_to(registry):
            return p
    return None


# -- GitLab's own ways ----------------------------------------------------------------------------


async def gitlab_dates(
    target: DeletionTarget, tags: tuple[TagInfo, ...]
) -> tuple[tuple[TagInfo, ...], str]:
    """The tags with the creation times GitLab's API reports — what GitLab's cleanup decides
    by (it does not read image annotations) — and "" ; unchanged without the API, or with the
    reason when the API failed. One request per tag, eight at a time."""
    gl = target.gitlab
    if gl is None or gl.repository_id is None or not tags:
        return tags, ""
    sem = asyncio.Semaphore(8)
    pid, rid = gl.project_id, gl.repository_id

    async def one(info: TagInfo) -> TagInfo:
        async with sem:
            details = await gl.api.tag_details(pid, rid, info.tag)
        return replace(info, created=details.created_at) if details.created_at else info

    try:
        return tuple(await asyncio.gather(*(one(i) for i in tags))), ""
    except E.RegistryError as exc:
        return tags, exc.message


async def delete_repository_on_gitlab(
    target: DeletionTarget, facts: RepositoryFacts, journal: Journal, *, wait: float
) -> tuple[str, bool]:
    """Save every tagged manifest (and index child) to the recycle bin, then have GitLab delete
    the repository. Returns (recycle-bin id, gone). When GitLab is still working after `wait`,
    the items stay `started` ("check the registry"), which is the truth."""
    gl = target.gitlab
    if gl is None:
        raise E.GitLabAPIError(
            f"{target.client.registry}: deleting a whole repository through GitLab needs its API"
        )
    items = [
        JournalItem(
            f"tag:{t.tag}", "tag", t.tag, t.digest, t.media_type, method="gitlab-repository"
        )
        for t in facts.tags
        if t.digest
    ]
    writer = journal.begin(
        facts.registry,
        facts.repository,
        items,
        {"registry": facts.registry, "repository": facts.repository, "whole_repository": True},
    )
    sem = asyncio.Semaphore(8)

    async def keep(digest: str) -> None:
        async with sem:
            got = await target.port.fetch_manifest(facts.repository, digest)
            await writer.keep_manifest(got.digest, got.media_type, got.data)

    # index children go with the repository too: restore needs them before their index
    digests = {i.digest for i in items} | {c for t in facts.tags for c in t.child_digests}
    status = "cancelled"
    try:
        await asyncio.gather(*(keep(d) for d in sorted(digests)))
        for i in items:
            writer.started(i.key)
        gone = await delete_repository(gl.api, gl.target, wait=max(0.0, wait))
        if gone:
            for i in items:
                writer.outcome(i.key, ItemState.DELETED, "deleted with the repository (GitLab API)")
        status = "finished"
    finally:
        writer.close(status)
    return writer.id, gone
