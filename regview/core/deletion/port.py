"""The real client behind the executor's `DeletePort`, and gathering a repository's facts.

    port = ClientPort(client, gitlab=None, knowledge=None, vendor=None)   knowledge: default_store()
    facts = await gather_facts(port, repository, known=rows, referrers_for=selection, ...)
    facts = await add_referrers(port, facts, selection)      for facts gathered elsewhere

Errors from the client pass through unchanged: they already carry `temporary`, `status` and
`retry_after`, which is all the executor looks at.

Politeness: gathering facts sends no request that changes anything and no probe: capabilities
come from the `/v2/` headers (asked once per client), the registry's kind and what earlier
answers taught (`deletion.probe`, `registry_knowledge`); rows the caller already holds are
revalidated with one conditional GET per tag; referrers are looked up only for the manifests a
selection touches (`referrers`).

With a `vendor` (`regview.core.vendors`: Docker Hub, GHCR, Harbor, Quay) the vendor's API lists
the tags (where it offers that: Docker Hub's does not spend the pull rate limit), says what the
credential may delete, untags (`vendor_delete_tag`), deletes by digest where `/v2` refuses, and
restores the vendor's own way (`vendor_restore`); reads and pushes stay on `/v2`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from regview.core import errors as E
from regview.core.access import granted_actions
from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import FetchedManifest
from regview.core.deletion.plan import Capabilities, DeleteSupport, RepositoryFacts, Selection
from regview.core.deletion.probe import infer_capabilities
from regview.core.gitlab.api import GitLabAPI
from regview.core.inventory import load_tags
from regview.core.model import TagInfo
from regview.core.referrers import find_referrers
from regview.core.registry_knowledge import KnowledgeStore, default_store
from regview.core.vendors import VendorAccess, VendorAPI
from regview.spec.digest import is_digest

#: the `/v2/` answer's headers per client: asked once per connection
_HEADERS: weakref.WeakKeyDictionary[Any, Mapping[str, str]] = weakref.WeakKeyDictionary()


class ClientPort:
    def __init__(
        self,
        client: RegistryClient,
        gitlab: GitLabAPI | None = None,
        knowledge: KnowledgeStore | None = None,
        vendor: VendorAPI | None = None,
    ) -> None:
        self.client = client
        self.gitlab = gitlab
        self.vendor = vendor
        self.knowledge = knowledge if knowledge is not None else default_store()

    def learn(self, **facts: Any) -> None:
        """Remember what a deletion's answer said about this registry (executor fallback)."""
        self.knowledge.learn(self.client.registry, **facts)

    async def registry_headers(self) -> Mapping[str, str]:
        """The `/v2/` check's headers (features, versions), once per client."""
        known = _HEADERS.get(self.client)
        if known is None:
            known = _HEADERS[self.client] = dict(await self.client.ping())
        return known

    async def capabilities(self, repository: str, *, gitlab_tag_api: bool) -> Capabilities:
        """What this registry lets these credentials do, inferred: no probe request (on a
        token registry, the token service says which actions it grants)."""
        if self.vendor is not None:
            return await vendor_capabilities(self.vendor, repository)
        headers = await self.registry_headers()
        try:
            granted = await granted_actions(self.client, repository)
        except E.RegistryError:
            granted = None  # the deletion itself will tell
        return infer_capabilities(
            headers,
            self.client.endpoint.kind,
            self.knowledge.get(self.client.registry),
            gitlab_tag_api=gitlab_tag_api,
            granted=granted,
        )

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
        if self.vendor is not None and is_digest(reference):
            # `/v2` refuses (Docker Hub, GHCR) or bypasses the vendor's rules (Harbor)
            await self.vendor.delete_manifest(repository, reference)
            return
        await self.client.delete_manifest(repository, reference)

    async def vendor_delete_tag(
        self, repository: str, tag: str, digest: str, *, sole: bool
    ) -> None:
        if self.vendor is None:  # pragma: no cover - plans name VENDOR_API only with a vendor
            raise E.VendorAPIError(
                f"{self.client.registry}: no management API is open", registry=self.client.registry
            )
        await self.vendor.delete_tag(repository, tag, digest, sole=sole)

    async def vendor_restore(self, repository: str, digest: str) -> str:
        """The vendor's own undelete of `digest`: "" when it is back, else why not."""
        if self.vendor is None or not self.vendor.restorable:
            return "no management API with a restore"
        return await self.vendor.restore(repository, digest)

    async def blob_exists(self, repository: str, digest: str) -> bool:
        return await self.client.blob_exists(repository, digest)

    async def gitlab_delete_tag(self, project_id: int, repository_id: int, tag: str) -> None:
        if self.gitlab is None:
            raise E.GitLabAPIError(
                f"{self.client.registry}: no GitLab API is configured for tag deletion",
                registry=self.client.registry,
            )
        await self.gitlab.delete_tag(project_id, repository_id, tag)


async def vendor_capabilities(vendor: VendorAPI, repository: str) -> Capabilities:
    """Capabilities through a management API: what it says the credential may do there (a read,
    never a probe that deletes)."""
    try:
        access = await vendor.access(repository)
    except E.VendorAPIError as exc:
        if exc.status not in (401, 403) and not isinstance(exc, E.VendorScopeMissing):
            raise
        # the API does not take this login at all: a refusal in its words, nothing sent
        access = VendorAccess(can_list=None, can_delete=False, words=exc.message)
    support = {
        True: DeleteSupport.ALLOWED,
        False: DeleteSupport.DENIED,
        None: DeleteSupport.UNKNOWN,
    }[access.can_delete]
    return Capabilities(
        manifest_delete=support,
        vendor_api=vendor.title,
        vendor_notes=access.notes,
        vendor_storage_note=vendor.storage_note,
        can_push=False,
        detail=access.words,
    )


def selection_digests(tags: Sequence[TagInfo], selection: Selection) -> set[str]:
    """The manifests a selection touches: its tags' manifests, their index children and the
    untagged manifests it picked — the only ones whose referrers can change the plan."""
    chosen = tags if selection.whole_repository else [t for t in tags if t.tag in selection.tags]
    return {d for t in chosen for d in (t.digest, *t.child_digests) if d} | set(selection.untagged)


async def add_referrers(
    port: ClientPort, facts: RepositoryFacts, selection: Selection
) -> RepositoryFacts:
    """`facts` with the referrers of what `selection` touches (those not looked up yet)."""
    wanted = selection_digests(facts.tags, selection) - set(facts.referrers)
    if not wanted:
        return facts
    tag_digests = {t.tag: t.digest for t in facts.tags if t.digest}
    found = await find_referrers(port.client, facts.repository, wanted, tag_digests, port.knowledge)
    if not found:
        return facts
    return replace(facts, referrers={**facts.referrers, **found})


async def gather_facts(
    port: ClientPort,
    repository: str,
    *,
    known: Sequence[TagInfo] = (),
    referrers_for: Selection | None = None,
    gitlab_project_id: int | None = None,
    gitlab_repository_id: int | None = None,
    on_batch: Callable[[list[TagInfo]], None] | None = None,
    names: list[str] | None = None,
) -> RepositoryFacts:
    """Every tag of the repository (the blast radius needs all of them; `known` rows are
    revalidated, one conditional GET each), capabilities inferred without a request beyond the
    `/v2/` check, and the referrers of what `referrers_for` touches."""
    client = port.client
    listed = await port.vendor.list_tags(repository) if port.vendor is not None else None
    if listed is not None:
        if names is not None:
            wanted = set(names)
            listed = [t for t in listed if t.tag in wanted]
        if on_batch is not None:
            on_batch(listed)
        tags = listed
    else:
        tags = await load_tags(client, repository, on_batch=on_batch, known=known, tags=names)
    caps = await port.capabilities(
        repository, gitlab_tag_api=port.gitlab is not None and gitlab_project_id is not None
    )
    facts = RepositoryFacts(
        registry=client.registry,
        repository=repository,
        tags=tuple(tags),
        capabilities=caps,
        gitlab_project_id=gitlab_project_id,
        gitlab_repository_id=gitlab_repository_id,
        protected=await port.vendor.protected_tags(repository) if port.vendor else {},
    )
    if referrers_for is not None:
        facts = await add_referrers(port, facts, referrers_for)
    return facts
