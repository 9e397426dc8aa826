"""Wiring a vendor imitation to regview's own deletion path, as the CLI and the window do:
the `/v2` client, the vendor from `vendors.open_vendor`, `ClientPort`, the planner, the
executor and the recycle bin.

    async with connected(url, RegistryKind.GHCR, ("alice", "pat")) as port:
        facts = await gather_facts(port, repo)
        report = await delete(port, repo, ["v1"])
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import ExecutionReport, Executor
from regview.core.deletion.plan import DeletePlan, PlanOptions, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.journal.journal import Journal
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.core.registry_knowledge import KnowledgeStore
from regview.core.vendors import context_for, open_vendor

NO_OPTIONS = PlanOptions()


@contextlib.asynccontextmanager
async def connected(
    url: str, kind: RegistryKind, login: tuple[str, str] | None
) -> AsyncIterator[ClientPort]:
    endpoint = Endpoint(url, kind=kind, vendor_api=url)
    creds = Credentials(login[0], login[1], CredentialKind.PASSWORD) if login else None
    async with RegistryClient(endpoint, creds) as client:
        vendor = open_vendor(context_for(endpoint, creds, client))
        assert vendor is not None, f"no vendor for {kind}"
        try:
            yield ClientPort(client, knowledge=KnowledgeStore(None), vendor=vendor)
        finally:
            await vendor.aclose()


async def plan_for(
    port: ClientPort, repository: str, tags: Iterable[str], options: PlanOptions = NO_OPTIONS
) -> DeletePlan:
    facts = await gather_facts(port, repository)
    return make_plan(facts, Selection.of_tags(tags), options)


async def delete(
    port: ClientPort, repository: str, tags: Iterable[str], options: PlanOptions = NO_OPTIONS
) -> ExecutionReport:
    plan = await plan_for(port, repository, tags, options)
    return await Executor(port, Journal(), backoff=0.01).run(plan)
