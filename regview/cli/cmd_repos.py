"""`regview repos REGISTRY[/NAMESPACE]`: list repositories.

Generic registries: the `_catalog` (filtered to NAMESPACE). GitLab refuses the catalog to
non-admins, so with a confirmed API base (`regview login --api URL`, or `CI_API_V4_URL` in a CI
job) the repositories of the group or project NAMESPACE come from the REST API. Repository
paths saved in the profile (deploy tokens cannot call the API) are listed when both fail.
"""

from __future__ import annotations

import argparse
from typing import Any

from regview.cli import common as C
from regview.cli.help import with_examples
from regview.core import errors as E
from regview.core.access import catalog_known_refused
from regview.core.model import RepositoryInfo

EXAMPLES = """\
  regview repos registry.example.com
  regview repos registry.example.com/team --json
  regview repos gitlab.example.com:5050/group --api https://gitlab.example.com/api/v4
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "repos",
        help="list the repositories of a registry (or of a namespace)",
        description="List repositories: the registry catalog, or for GitLab the group's or "
        "project's repositories through the GitLab API.",
        **with_examples(EXAMPLES),
    )
    p.add_argument("target", metavar="REGISTRY[/NAMESPACE]")
    C.add_network_options(p)
    p.add_argument("--api", metavar="URL", help="GitLab API base to use (else the saved one)")
    C.add_json_option(p)
    p.set_defaults(func=lambda args: C.run(lambda: _repos(args)))


def split_target(text: str) -> tuple[str, str]:
    """`https://host:5000/group/sub` → (`https://host:5000`, `group/sub`)."""
    value = text.strip().rstrip("/")
    scheme = ""
    if "://" in value:
        scheme, value = value.split("://", 1)
        scheme += "://"
    host, _, namespace = value.partition("/")
    if not host:
        raise C.CliError(f"{text!r} names no registry", C.EXIT_USAGE)
    return scheme + host, namespace.strip("/")


def repo_json(r: RepositoryInfo) -> dict[str, Any]:
    return {
        "path": r.path,
        "tag_count": r.tag_count,
        "size": r.size,
        "created": C.rfc3339(r.created),
        "status": r.status or None,
        "gitlab_id": r.gitlab_id,
        "gitlab_project_id": r.gitlab_project_id,
        "location": r.location or None,
    }


async def _repos(args: argparse.Namespace) -> int:
    registry, namespace = split_target(args.target)
    conn = await _connect(args, registry, namespace)
    repos = await list_repositories(conn, namespace)
    if args.json:
        C.print_json([repo_json(r) for r in repos])
        return C.EXIT_OK
    if any(r.tag_count is not None or r.status for r in repos):
        rows = [[r.path, "-" if r.tag_count is None else str(r.tag_count), r.status] for r in repos]
        C.table(rows, ["REPOSITORY", "TAGS", "STATUS"])
    else:
        for r in repos:
            print(r.path)
    if not repos:
        C.note(f"no repositories found in {args.target}")
    return C.EXIT_OK


async def _connect(args: argparse.Namespace, registry: str, namespace: str) -> C.Connection:
    import asyncio

    # settings, keyring and credential helpers block: keep them off the event loop
    return await asyncio.to_thread(C.connect, args, registry, namespace)


async def list_repositories(conn: C.Connection, namespace: str) -> list[RepositoryInfo]:
    endpoint, creds = conn.endpoint, conn.credentials
    if endpoint.api_url and namespace and (creds is None or creds.can_call_gitlab_api):
        return await _gitlab_repositories(conn, namespace)
    try:
        why = catalog_known_refused(endpoint.kind, creds)
        if why:  # GitLab refuses it to this credential anyway: not asked (issue 18)
            raise E.CatalogRefused(f"{conn.host}: {why}", registry=conn.host)
        names: list[str] = []
        async with conn.client(concurrency=2) as client:
            async for page in client.iter_repositories(namespace):
                names.extend(page)
        return [RepositoryInfo(path=n) for n in names]
    except E.CatalogRefused as exc:
        saved = conn.profile.repositories if conn.profile is not None else ()
        chosen = [
            r for r in saved if not namespace or r == namespace or r.startswith(namespace + "/")
        ]
        if chosen:
            C.note(f"{exc.message}; listing the repository paths saved for {conn.host}")
            return [RepositoryInfo(path=r) for r in chosen]
        if endpoint.api_url and not namespace:
            raise C.CliError(
                f"{exc.message}. With the GitLab API, name a group or project: "
                f"regview repos {conn.host}/GROUP",
                C.EXIT_AUTH,
            ) from exc
        raise


async def _gitlab_repositories(conn: C.Connection, namespace: str) -> list[RepositoryInfo]:
    from regview.core.gitlab.api import GitLabAPI

    async with GitLabAPI(
        conn.endpoint.api_url,
        conn.credentials,
        insecure=conn.endpoint.insecure,
        ca_file=conn.endpoint.ca_file,
    ) as api:
        try:
            repos = await api.group_repositories(namespace)
        except E.GitLabAPIError as exc:
            if exc.status != 404:
                raise
            try:
                repos = await api.project_repositories(namespace)
            except E.GitLabAPIError as inner:
                if inner.status != 404:
                    raise
                raise E.GitLabAPIError(
                    f"{api.host}: no group or project {namespace!r} is visible to this credential",
                    registry=api.host,
                    status=404,
                ) from inner
    return sorted(repos, key=lambda r: r.path)
