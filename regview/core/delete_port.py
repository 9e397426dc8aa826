"""The real client behind the executor's `DeletePort`, and gathering a repository's facts.

Errors from the client pass through unchanged: they already carry `temporary`, `status` and
`retry_after`, which is all the executor looks at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from regview.core import errors as E
from regview.core.client import RegistryClient
from regview.core.executor import FetchedManifest, probe_capabilities
from regview.core.gitlab import GitLabAPI
from regview.core.inventory import load_tags
from regview.core.model import ReferrerInfo, TagInfo
from regview.core.plan import RepositoryFacts


class ClientPort:
    def __init__(self, client: RegistryClient, gitlab: GitLabAPI | None = None) -> None:
        self.client = client
        self.gitlab = gitlab

    async def resolve_tag(self, repository: str, tag: str) -> str | None:
        try:
            head = await self.client.head_manifest(repository, tag)
        except E.NotFound:
            return None
        if head.digest:
            return head.digest
        return (await self.client.get_manifest(repository, tag)).digest

    async def manifest_exists(self, repository: str, digest: str) -> bool:
        try:
            await self.client.head_manifest(repository, digest)
        except E.NotFound:
            return False
        return True

    async def fetch_manifest(self, repository: str, reference: str) -> FetchedManifest:
        got = await self.client.get_manifest(repository, reference)
        return FetchedManifest(got.digest, got.media_type, got.data)

    async def push_manifest(
        self, repository: str, reference: str, data: bytes, media_type: str
    ) -> str:
        return await self.client.put_manifest(repository, reference, data, media_type)

    async def delete_manifest(self, repository: str, reference: str) -> None:
        await self.client.delete_manifest(repository, reference)

    async def blob_exists(self, repository: str, digest: str) -> bool:
        return await self.client.blob_exists(repository, digest)

    async def gitlab_delete_tag(self, project_id: int, repository_id: int, tag: str) -> None:
        if self.gitlab is None:
            raise E.GitLabAPIError(
                f"{self.client.registry}: no GitLab API is configured for tag deletion",
                registry=self.client.registry,
            )
        await self.gitlab.delete_tag(project_id, repository_id, tag)

    async def supports_tag_delete(self, repository: str) -> bool:
        return await self.client.supports_tag_delete(repository)


async def gather_facts(
    port: ClientPort,
    repository: str,
    *,
    with_referrers: bool = False,
    gitlab_project_id: int | None = None,
    gitlab_repository_id: int | None = None,
    on_batch: Callable[[list[TagInfo]], None] | None = None,
) -> RepositoryFacts:
    """Every tag of the repository (the blast radius needs all of them), probed capabilities,
    and optionally the referrers of every tagged manifest."""
    client = port.client
    tags = await load_tags(client, repository, on_batch=on_batch)
    caps = await probe_capabilities(
        port,
        repository,
        gitlab_tag_api=port.gitlab is not None and gitlab_project_id is not None,
    )
    referrers: dict[str, tuple[ReferrerInfo, ...]] = {}
    if with_referrers:
        sem = asyncio.Semaphore(8)
        digests = sorted({d for t in tags for d in (t.digest, *t.child_digests) if d})

        async def one(d: str) -> None:
            async with sem:
                try:
                    found = await client.referrers(repository, d)
                except E.RegistryError:
                    return
                if found:
                    referrers[d] = tuple(found)

        await asyncio.gather(*(one(d) for d in digests))
    return RepositoryFacts(
        registry=client.registry,
        repository=repository,
        tags=tuple(tags),
        capabilities=caps,
        referrers=referrers,
        gitlab_project_id=gitlab_project_id,
        gitlab_repository_id=gitlab_repository_id,
    )
