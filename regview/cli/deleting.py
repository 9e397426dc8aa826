"""What `rm`, `prune` and `trash` share: options, a registry session opened for deleting,
printing a plan and the progress. The use case itself — the GitLab project behind a path, the
facts, the plan and its warnings, executing, restoring, the failure policy — is
`regview.services.deletion`, shared with the app; this module renders it for a terminal.

    async with open_session(args, registry, repository) as s:
        s.deletion        services.deletion.DeletionTarget: .port (ClientPort), .gitlab
                          (GitLabProject | None: .api, project and repository ids, .target),
                          .vendor (the management API of Docker Hub, GHCR, Harbor, Quay),
                          .api_problem (why GitLab's API is not used)
        s.port            its ClientPort
        facts = await gather(s, repository, with_referrers=..., selection=...)
        plan = plan(s, facts, selection, options)   (+ the credential's doubt, in CLI words)

The GitLab API is used when the profile (or `--api`, or `CI_API_V4_URL` in a CI job) names
one and the credential may call it. When it cannot be used (a deploy token, the API refusing
or unreachable) the reason is said once and the registry API is used instead, unless the
command needs the API (`need_api`), which then fails with that reason.

A registry whose kind has a management API (`regview.core.vendors`: the profile's kind, or what
the `/v2/` check said) gets it opened with the same login: the plan then deletes through it
where `/v2` refuses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from regview.cli import common as C
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
from regview.core.deletion.port import ClientPort
from regview.core.journal.journal import Journal, JournalError
from regview.core.model import TagInfo
from regview.core.vendors import (
    API_TOKEN_ENV,
    API_TOKEN_USER,
    needs_api_token,
)
from regview.services.deletion import (
    CLI_OPTION_NAMES,
    DeletionTarget,
    NoAPI,
    executor_for,
    open_target,
    plan_deletion,
)
from regview.services.deletion import gather as services_gather
from regview.services.deletion import gitlab_dates as services_gitlab_dates
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

#: what to do about a credential that cannot delete, in the command line's words
CREDENTIAL_FIX = "log in again with a token that may delete (`regview login`)"


@dataclass
class Session:
    """A registry opened for deleting in one repository (`services.deletion.DeletionTarget`)."""

    conn: C.Connection
    client: RegistryClient
    deletion: DeletionTarget

    @property
    def port(self) -> ClientPort:
        return self.deletion.port


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
        if getattr(args, "recheck", False):
            ClientPort(client).knowledge.forget(client.registry)
        token = (
            await asyncio.to_thread(api_token, conn) if needs_api_token(conn.endpoint.kind) else ""
        )
        target = await open_target(
            conn.endpoint,
            conn.credentials,
            client,
            repository,
            use_gitlab=use_gitlab or need_api,
            api_token=token,
        )
        try:
            _say_gitlab(conn, target, need_api=need_api)
            yield Session(conn, client, target)
        finally:
            await target.aclose()


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


def _say_gitlab(conn: C.Connection, target: DeletionTarget, *, need_api: bool) -> None:
    """A command that needs GitLab's API fails with the reason it cannot be used; any other
    says the reason once and goes on through the registry API (the policy of
    `services.deletion`)."""
    found = target.resolution
    if found is None or found.project is not None:
        return
    if need_api:
        if found.why is NoAPI.NOT_CONFIGURED:
            raise C.CliError(
                f"this needs the GitLab API of {conn.host}, and none is known: log in with "
                f"`regview login {conn.host} --api https://GITLAB/api/v4`, or pass --api URL",
                C.EXIT_USAGE,
            )
        if found.why is NoAPI.ANONYMOUS:
            raise C.CliError(
                f"{conn.host}: the GitLab API needs a token; log in first (`regview login`)",
                C.EXIT_AUTH,
            )
        assert found.error is not None
        raise found.error
    if found.why is NoAPI.REFUSED:
        C.note(f"{found.problem}. Using the registry API instead.")


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
    return await services_gather(
        session.deletion,
        repository,
        referrers_for=(selection or Selection.repository()) if with_referrers else None,
    )


def plan(
    session: Session, facts: RepositoryFacts, selection: Selection, options: PlanOptions
) -> DeletePlan:
    """The services' plan, with what the profile's last Test knows about the credential (the
    GitLab API's problem was said when the session opened)."""
    return plan_deletion(
        facts,
        selection,
        options,
        profile=session.conn.profile,
        credential_fix=CREDENTIAL_FIX,
        option_names=CLI_OPTION_NAMES,
    )


async def gitlab_dates(session: Session, tags: tuple[TagInfo, ...]) -> tuple[TagInfo, ...]:
    """The tags with the creation times GitLab's API reports (`services.deletion`)."""
    dated, problem = await services_gitlab_dates(session.deletion, tags)
    if problem:
        C.note(f"{problem}; the preview uses the creation times recorded in the images")
    return dated


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
    """Run a confirmed plan. Ctrl-C stops it as the app's Cancel does (`first_interrupt_cancels`):
    the report still accounts for every item."""
    executor = executor_for(session.deletion, Journal(), on_result=None if quiet else progress)
    with first_interrupt_cancels(executor):
        report = await executor.run(plan)
    if report.stopped:  # said on stderr with --json too: the JSON has it per item
        C.error(
            f"stopped: the registry stopped answering ({report.stopped}); "
            f"{len(report.not_started)} item(s) were not started — when it answers again, "
            f"finish with: regview trash resume {report.journal_id}"
        )
    return report


@contextlib.contextmanager
def first_interrupt_cancels(executor: Executor) -> Iterator[None]:
    """The first Ctrl-C during a run cancels it: the deletions under way finish and are read
    back, the rest are reported "not started", and the report is printed. A second Ctrl-C
    interrupts at once (the journal keeps what was started: `regview trash resume`)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # pragma: no cover - always called from the command's loop
        yield
        return

    def first() -> None:
        # back to Python's own handler: the next Ctrl-C raises KeyboardInterrupt
        loop.remove_signal_handler(signal.SIGINT)
        C.note(
            "stopping: the deletions under way finish, the rest are not started "
            "(Ctrl-C again to stop at once)"
        )
        executor.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, first)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


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
