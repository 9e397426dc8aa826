"""What `rm`, `prune` and `trash` share: options, a registry session with the GitLab API where
it can be used, gathering facts, printing a plan, running it.

    async with open_session(args, registry, repository) as s:
        s.port            ClientPort (with the GitLab API when usable)
        s.gitlab          GitLabAPI | None;  s.target: GitLabTarget | None (project, repo ids)
        s.vendor          VendorAPI | None: the management API of Docker Hub, GHCR, Harbor, Quay
        facts = await gather(s, repository, with_referrers=..., selection=...)

The GitLab API is used when the profile (or `--api`, or `CI_API_V4_URL` in a CI job) names
one and the credential may call it. A deploy token may not: the reason is said once and the
registry API is used instead, unless the command needs the API (`need_api`), which then fails
with that reason.

A registry whose kind has a management API (`regview.core.vendors`: the profile's kind, or what
the `/v2/` check said) gets it opened with the same login: the plan then deletes through it
where `/v2` refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TextIO

from regview.cli import common as C
from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import ExecutionReport, Executor, ItemResult, Status
from regview.core.deletion.plan import (
    DeletePlan,
    DeleteSupport,
    PlanOptions,
    RepositoryFacts,
    Selection,
)
from regview.core.deletion.policy import PolicyError
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import GitLabTarget, locate
from regview.core.journal.journal import Journal, JournalError
from regview.core.model import TagInfo
from regview.core.vendors import (
    API_TOKEN_ENV,
    API_TOKEN_USER,
    VendorAPI,
    context_for,
    needs_api_token,
    open_vendor,
)
from regview.settings.errors import SettingsError
from regview.settings.secrets import KeyringStore
from regview.spec.reference import Reference
from regview.util.units import human_size

CI_EXAMPLE = """\
A GitLab CI job removing a branch's images (the `delete_image` job of GitLab's registry docs,
with regview instead of reg):

  delete_image:
    image: python:3.12-slim
    stage: clean
    script:
      - pip install regview
      - regview rm "$CI_REGISTRY_IMAGE:$CI_COMMIT_REF_SLUG" --yes
      - regview prune "$CI_REGISTRY_IMAGE" --delete-regex "$CI_COMMIT_REF_SLUG-.*" --yes
    only:
      - branches
    except:
      - main

In a job, CI_REGISTRY, CI_REGISTRY_USER and CI_REGISTRY_PASSWORD log in to the registry, and
CI_API_V4_URL with the job token reaches the GitLab API; nothing else needs configuring. A tag
that does not exist is reported as skipped, not as an error.
"""


def parse_image(text: str, *, need_tag: bool) -> Reference:
    ref = Reference.parse(text)
    if need_tag and not ref.tag:
        raise C.CliError(f"{text!r} names no tag: use IMAGE:TAG", C.EXIT_USAGE)
    return ref


def add_delete_options(p: argparse.ArgumentParser, *, manifests: bool = True) -> None:
    p.add_argument("--dry-run", action="store_true", help="show what would happen, change nothing")
    p.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="do not ask (needed when standard input is not a terminal, e.g. in CI)",
    )
    C.add_json_option(p)
    C.add_network_options(p)
    p.add_argument(
        "--api", metavar="URL", help="GitLab API base to use (else the saved one, or CI_API_V4_URL)"
    )
    p.add_argument(
        "--recheck",
        action="store_true",
        help="forget what earlier deletions taught about this registry (a refused tag delete, "
        "deletion switched off) and decide again from what it says",
    )
    if manifests:
        p.add_argument(
            "--delete-manifests",
            action="store_true",
            help="also delete manifests left untagged and unreferenced (default: leave to GC)",
        )
        p.add_argument(
            "--delete-referrers",
            action="store_true",
            help="also delete signatures/SBOMs of deleted manifests (default: keep and warn)",
        )
        p.add_argument(
            "--referrers",
            action="store_true",
            help="look up referrers of every manifest first (one request per manifest)",
        )


def options_from(args: argparse.Namespace) -> PlanOptions:
    return PlanOptions(
        delete_manifests=bool(getattr(args, "delete_manifests", False)),
        delete_referrers=bool(getattr(args, "delete_referrers", False)),
    )


def run(args: argparse.Namespace, body: Callable[[argparse.Namespace], Awaitable[int]]) -> int:
    """`common.run` plus the failures of the deletion layers (journal, policy) in words."""

    async def guarded() -> int:
        try:
            return await body(args)
        except JournalError as exc:
            raise C.CliError(f"the recycle bin could not be used: {exc}") from exc
        except PolicyError as exc:
            raise C.CliError(str(exc), C.EXIT_USAGE) from exc

    return C.run(guarded)


# -- sessions -------------------------------------------------------------------------------------


@dataclass
class Session:
    conn: C.Connection
    client: RegistryClient
    gitlab: GitLabAPI | None = None
    target: GitLabTarget | None = None
    #: why the GitLab API is not used ("" when it is, or when there is none)
    api_problem: str = ""
    vendor: VendorAPI | None = None

    @property
    def port(self) -> ClientPort:
        return ClientPort(self.client, self.gitlab, vendor=self.vendor)

    @property
    def is_gitlab_api(self) -> bool:
        return self.gitlab is not None and self.target is not None


@contextlib.asynccontextmanager
async def open_session(
    args: argparse.Namespace,
    registry: str,
    repository: str,
    *,
    use_gitlab: bool = True,
    need_api: bool = False,
) -> AsyncIterator[Session]:
    # settings, keyring and credential helpers block: off the event loop
    conn = await asyncio.to_thread(C.connect, args, registry, repository)
    async with conn.client() as client:
        session = Session(conn, client)
        if getattr(args, "recheck", False):
            session.port.knowledge.forget(client.registry)
        try:
            token = (
                await asyncio.to_thread(api_token, conn)
                if needs_api_token(conn.endpoint.kind)
                else ""
            )
            session.vendor = open_vendor(
                context_for(conn.endpoint, conn.credentials, client, api_token=token)
            )
            if use_gitlab or need_api:
                await _attach_gitlab(session, repository, need_api=need_api)
            yield session
        finally:
            if session.gitlab is not None:
                await session.gitlab.aclose()
            if session.vendor is not None:
                await session.vendor.aclose()


def api_token(conn: C.Connection) -> str:
    """The management API's own token (Quay): REGVIEW_API_TOKEN, else the profile's keyring
    entry `api-token@<host>#<secret_id>` ("" when there is none: the vendor says what is
    missing). Blocks on the keyring: call it off the event loop."""
    if os.environ.get(API_TOKEN_ENV):
        return os.environ[API_TOKEN_ENV]
    profile = conn.profile
    if profile is None or not profile.secret_id:
        return ""
    try:
        return KeyringStore().get(conn.host, API_TOKEN_USER, profile.secret_id) or ""
    except SettingsError:
        return ""


async def _attach_gitlab(session: Session, repository: str, *, need_api: bool) -> None:
    conn = session.conn
    endpoint, creds = conn.endpoint, conn.credentials
    if not endpoint.api_url:
        if need_api:
            raise C.CliError(
                f"this needs the GitLab API of {conn.host}, and none is known: log in with "
                f"`regview login {conn.host} --api https://GITLAB/api/v4`, or pass --api URL",
                C.EXIT_USAGE,
            )
        return
    if creds is None:
        session.api_problem = "no credential for the GitLab API (anonymous)"
        if need_api:
            raise C.CliError(
                f"{conn.host}: the GitLab API needs a token; log in first (`regview login`)",
                C.EXIT_AUTH,
            )
        return
    try:
        api = GitLabAPI(
            endpoint.api_url, creds, insecure=endpoint.insecure, ca_file=endpoint.ca_file
        )
    except E.DeployTokenNoAPI as exc:
        if need_api:
            raise
        session.api_problem = exc.message
        C.note(f"{exc.message}. Using the registry API instead.")
        return
    try:
        target = await locate(api, repository)
    except E.GitLabAPIError as exc:
        await api.aclose()
        if need_api:
            raise
        session.api_problem = exc.message
        C.note(f"{exc.message}. Using the registry API instead.")
        return
    session.gitlab, session.target = api, target


async def gather(
    session: Session,
    repository: str,
    *,
    with_referrers: bool,
    selection: Selection | None = None,
) -> RepositoryFacts:
    """Facts to plan with: the tag listing is revalidated against the listing cache (one
    conditional GET per tag); referrers of what `selection` touches (default: every manifest)
    only `with_referrers`."""
    t = session.target
    return await gather_facts(
        session.port,
        repository,
        referrers_for=(selection or Selection.repository()) if with_referrers else None,
        gitlab_project_id=t.project_id if t is not None else None,
        gitlab_repository_id=t.repository_id if t is not None else None,
    )


async def gitlab_dates(session: Session, tags: tuple[TagInfo, ...]) -> tuple[TagInfo, ...]:
    """The tags with the creation times GitLab's API reports, which are what GitLab's cleanup
    decides by (it does not read image annotations); unchanged without the API. One API
    request per tag, eight at a time."""
    gl, t = session.gitlab, session.target
    if gl is None or t is None or t.repository_id is None or not tags:
        return tags
    sem = asyncio.Semaphore(8)
    pid, rid = t.project_id, t.repository_id

    async def one(info: TagInfo) -> TagInfo:
        async with sem:
            details = await gl.tag_details(pid, rid, info.tag)
        return replace(info, created=details.created_at) if details.created_at else info

    try:
        return tuple(await asyncio.gather(*(one(i) for i in tags)))
    except E.RegistryError as exc:
        C.note(f"{exc.message}; the preview uses the creation times recorded in the images")
        return tags


def refusal_code(facts: RepositoryFacts) -> int:
    """Exit code for a registry that cannot delete: 3 when these credentials may not."""
    if facts.capabilities.manifest_delete is DeleteSupport.DENIED:
        return C.EXIT_AUTH
    return C.EXIT_ERROR


# -- output -------------------------------------------------------------------------------------


def print_plan(plan: DeletePlan, out: TextIO | None = None) -> None:
    out = out if out is not None else sys.stderr
    if plan.refusal:
        print(f"regview: {plan.refusal}", file=out)
        return
    print(f"Plan for {plan.registry}/{plan.repository}:", file=out)
    for a in plan.tag_actions:
        extra = f" (manifest stays: {a.note})" if a.note else ""
        print(f"  delete tag {a.tag}  [{a.how}] — {a.reason}{extra}", file=out)
    for m in plan.manifest_actions:
        print(f"  delete {m.role} {m.digest} — {m.reason}", file=out)
    for r in plan.refused:
        print(f"  cannot delete {r.tag}: {r.reason}", file=out)
    blast = plan.blast
    if blast is not None:
        for digest, tags in blast.shared_digests.items():
            print(f"  note: {digest[:19]} stays, also tagged {', '.join(tags)}", file=out)
        if blast.orphaned_children:
            print(
                f"  note: {len(blast.orphaned_children)} index child(ren) left untagged", file=out
            )
        print(
            f"  frees {human_size(blast.reclaimable_bytes, unknown='-')} ({blast.reclaimable_blobs} "
            f"blob(s) no kept tag uses) after garbage collection. {blast.gc_note}",
            file=out,
        )
    for w in plan.warnings:
        print(f"  warning: {w}", file=out)


def progress(result: ItemResult) -> None:
    label = result.name if result.kind == "tag" else f"manifest {result.name[:19]}"
    print(f"  {result.verdict.label}: {label} — {result.reason}", file=sys.stderr)
    if result.evidence and result.verdict is not Status.DELETED and not result.earlier:
        print(f"      evidence: {result.evidence}", file=sys.stderr)


async def execute(session: Session, plan: DeletePlan, *, quiet: bool) -> ExecutionReport:
    executor = Executor(session.port, Journal(), on_result=None if quiet else progress)
    return await executor.run(plan)


def journal_note(report: ExecutionReport) -> None:
    if report.journal_id:
        C.note(
            f"recycle bin: {report.journal_id} "
            f"(put it back with: regview trash restore {report.journal_id})"
        )


def merge(out: dict[str, Any], part: dict[str, Any], repository: str | None = None) -> None:
    """Add one report's `deleted/failed/skipped` to the command's JSON output."""
    extra = {"repository": repository} if repository is not None else {}
    out["deleted"].extend(part.get("deleted", []))
    out["failed"].extend({**f, **extra} for f in part.get("failed", []))
    out["skipped"].extend({**s, **extra} for s in part.get("skipped", []))
