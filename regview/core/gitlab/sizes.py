"""GitLab's own size of registry repositories (`GET /registry/repositories/:id?size=true`).

    repository_sizes(api, repos, concurrency=4, on_size=None) -> GitLabSizes

GitLab answers `size` only where its registry has the metadata database (gitlab.com does,
self-managed instances mostly do not): the de-duplicated bytes of everything the repository
stores, untagged manifests included — a figure to show beside ours (`regview.core.frees`),
which counts what the tags hold. One request per repository listed through the API (with a
GitLab id); a few at a time, since the caller asked for all of them (`regview du`, the
Storage overview). A refusal for one repository is a warning, not the end of the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from regview.core import errors as E
from regview.core.gitlab.api import GitLabAPI
from regview.core.model import RepositoryInfo


@dataclass
class GitLabSizes:
    sizes: dict[str, int] = field(default_factory=dict)  # path → bytes GitLab says it holds
    unknown: list[str] = field(default_factory=list)  # asked, GitLab gave no size
    warnings: list[str] = field(default_factory=list)  # "path: what went wrong"


async def repository_sizes(
    api: GitLabAPI,
    repos: Sequence[RepositoryInfo],
    concurrency: int = 4,
    on_size: Callable[[str, int], None] | None = None,
) -> GitLabSizes:
    out = GitLabSizes()
    ids = [(r.path, r.gitlab_id) for r in repos if r.gitlab_id is not None]
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(path: str, repo_id: int) -> None:
        async with gate:
            try:
                info = await api.repository(repo_id, size=True)
            except E.GitLabAPIError as exc:
                out.warnings.append(f"GitLab's size of {path}: {exc.message}")
                return
        if info.size is None:
            out.unknown.append(path)
            return
        out.sizes[path] = info.size
        if on_size is not None:
            on_size(path, info.size)

    await asyncio.gather(*(one(path, repo_id) for path, repo_id in ids))
    return out
