"""GitLab's own ways to clean up a registry repository, over `GitLabAPI`.

    target = await locate(api, "group/project/image")      project + registry repository ids
    check_gitlab_policy(policy, purpose)                    PolicyError when GitLab cannot take it
    saved = await save_policy(api, target, policy, cadence="1d")   -> SavedPolicy (next_run_at)
    await bulk_delete(api, target, policy)                  202: GitLab deletes in the background
    gone = await delete_repository(api, target, wait=30.0)  202, then polls until it is gone

The preview (`core.policy.preview`) and these calls use the same rules, so what regview shows is
what GitLab does. regview's own keep rules (protected tags, a keep-list, untagged manifests) do
not exist in GitLab: a policy using them is refused here rather than silently weakened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from regview.core import errors as E
from regview.core.deletion.policy import GITLAB_KEEP_N, GITLAB_OLDER_THAN, Policy, PolicyError
from regview.core.gitlab.api import GitLabAPI, KnownImage
from regview.spec.manifest import parse_time

#: GitLab's cleanup cadences (how often a saved policy runs).
CADENCES = ("1d", "7d", "14d", "1month", "3month")


@dataclass(frozen=True, slots=True)
class GitLabTarget:
    """Where an image lives in GitLab: its project and its registry repository."""

    project_id: int
    project_path: str
    repository_id: int | None
    repository_path: str


@dataclass(frozen=True, slots=True)
class SavedPolicy:
    """The project's cleanup policy as GitLab reports it after saving."""

    attributes: dict[str, Any]
    next_run_at: datetime | None

    @property
    def enabled(self) -> bool:
        return bool(self.attributes.get("enabled"))


async def locate(api: GitLabAPI, repository: str) -> GitLabTarget:
    """The project holding `repository` and the repository's id (None when it has no tags yet,
    so GitLab does not list it). An image whose ids an earlier answer gave costs no request."""
    known = api.remembered(repository)
    if known is not None and known.project_path:
        return GitLabTarget(known.project_id, known.project_path, known.repository_id, repository)
    project = await api.find_project(repository)
    try:
        pid = int(project["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise E.GitLabAPIError(
            f"{api.host}: the project of {repository} came back without an id",
            registry=api.host,
        ) from exc
    repo_id: int | None = None
    for r in await api.project_repositories(pid):
        if r.path == repository:
            repo_id = r.gitlab_id
    path = str(project.get("path_with_namespace") or "")
    api.remember(repository, KnownImage(pid, path, repo_id))
    return GitLabTarget(pid, path, repo_id, repository)


def require_repository(target: GitLabTarget, host: str) -> int:
    if target.repository_id is None:
        raise E.GitLabAPIError(
            f"{host}: project {target.project_path} has no registry repository "
            f"{target.repository_path}",
            registry=host,
            status=404,
        )
    return target.repository_id


def check_gitlab_policy(policy: Policy, purpose: str) -> None:
    """Raise PolicyError when GitLab cannot apply `policy` exactly as previewed.

    `purpose` completes "… cannot be used for <purpose>", e.g. "a policy saved to GitLab".
    """
    policy.validate()
    extras = []
    if policy.protected or policy.protected_regex:
        extras.append("protected tags")
    if policy.keep_list.tags or policy.keep_list.digests:
        extras.append("a keep-list of references in use")
    if policy.delete_untagged:
        extras.append("deleting untagged manifests")
    if extras:
        raise PolicyError(
            f"{' and '.join(extras)} are regview's own rules; GitLab does not know them, so "
            f"they cannot be used for {purpose} (GitLab would delete what they protect). "
            "Drop them, or run the policy through regview instead."
        )


def check_gitlab_values(policy: Policy) -> None:
    """A saved policy only takes the values GitLab's settings form offers."""
    if policy.keep_n is not None and policy.keep_n not in GITLAB_KEEP_N:
        raise PolicyError(
            f"GitLab's saved policies keep 1, 5, 10, 25, 50 or 100 tags, not {policy.keep_n}; "
            "choose one of those for --keep-n"
        )
    if policy.older_than and policy.older_than not in GITLAB_OLDER_THAN:
        raise PolicyError(
            f"GitLab's saved policies remove tags older than 7d, 14d, 30d or 90d, not "
            f"{policy.older_than!r}; choose one of those for --older-than"
        )


def policy_attributes(
    policy: Policy, *, cadence: str | None = None, enabled: bool = True
) -> dict[str, Any]:
    """`container_expiration_policy_attributes` for exactly this policy: unset rules are sent
    as null so an older saved keep_n or older_than does not linger."""
    attrs: dict[str, Any] = {
        "enabled": enabled,
        "name_regex": policy.name_regex_delete,
        "name_regex_keep": policy.name_regex_keep or None,
        "keep_n": policy.keep_n,
        "older_than": policy.older_than or None,
    }
    if cadence is not None:
        if cadence not in CADENCES:
            raise PolicyError(
                f"cadence {cadence!r}: GitLab runs policies every {', '.join(CADENCES)}"
            )
        attrs["cadence"] = cadence
    return attrs


async def save_policy(
    api: GitLabAPI,
    target: GitLabTarget,
    policy: Policy,
    *,
    cadence: str | None = None,
    enabled: bool = True,
) -> SavedPolicy:
    """Save the policy to the project, then read it back (GitLab sets `next_run_at`)."""
    check_gitlab_policy(policy, "a policy saved to GitLab")
    check_gitlab_values(policy)
    attrs = policy_attributes(policy, cadence=cadence, enabled=enabled)
    await api.set_cleanup_policy(target.project_id, **attrs)
    saved = await api.cleanup_policy(target.project_id)
    return SavedPolicy(saved, parse_time(saved.get("next_run_at")))


async def bulk_delete(api: GitLabAPI, target: GitLabTarget, policy: Policy) -> None:
    """Ask GitLab to delete the tags `policy` selects, in the background (202). GitLab allows
    one such request per repository per hour; the refusal comes back in words."""
    check_gitlab_policy(policy, "GitLab's bulk delete")
    repo_id = require_repository(target, api.host)
    await api.bulk_delete(
        target.project_id,
        repo_id,
        name_regex_delete=policy.name_regex_delete,
        name_regex_keep=policy.name_regex_keep or None,
        keep_n=policy.keep_n,
        older_than=policy.older_than or None,
    )


async def delete_repository(
    api: GitLabAPI, target: GitLabTarget, *, wait: float = 0.0, poll: float = 0.5
) -> bool:
    """Ask GitLab to delete the repository (asynchronous on GitLab's side). With `wait`, poll
    for up to that many seconds; True when it is gone, False when still being deleted."""
    repo_id = require_repository(target, api.host)
    await api.delete_repository(target.project_id, repo_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while wait > 0:
        try:
            info = await api.repository(repo_id)
        except E.GitLabAPIError as exc:
            if exc.status == 404:
                return True
            raise
        if info.status == "delete_failed":
            raise E.GitLabAPIError(
                f"{api.host}: GitLab could not delete the repository {target.repository_path} "
                "(status delete_failed); try again, or ask an administrator to look at it",
                registry=api.host,
            )
        if loop.time() >= deadline:
            break
        await asyncio.sleep(poll)
    return False
