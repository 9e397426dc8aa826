"""The referrers (signatures, SBOMs) of a set of manifests, with as few requests as possible.

    await find_referrers(client, repository, digests, tag_digests, knowledge) -> {digest: (ReferrerInfo, …)}

- The tag-schema fallback (`sha256-<hex>` tags) needs no request to know it is absent: the tag
  list the caller already holds (`tag_digests`, tag → manifest digest) says which exist; only an
  existing one is read (by digest: the content cache may already have it).
- The OCI referrers API is asked once per registry whether it exists (the first lookup's answer:
  a registry with the API never answers 404; 404/405/UNSUPPORTED mean it has none), remembered
  in `registry_knowledge`, and only then asked once per manifest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.client.manifests import referrer_infos
from regview.core.model import ReferrerInfo
from regview.core.registry_knowledge import KnowledgeStore
from regview.log import get_logger

log = get_logger("core.referrers")
CONCURRENCY = 8


def fallback_tag(digest: str) -> str:
    return digest.replace(":", "-", 1)


async def find_referrers(
    client: RegistryClient,
    repository: str,
    digests: Iterable[str],
    tag_digests: Mapping[str, str],
    knowledge: KnowledgeStore,
) -> dict[str, tuple[ReferrerInfo, ...]]:
    wanted = sorted(set(digests))
    found: dict[str, dict[str, ReferrerInfo]] = {}

    def add(subject: str, infos: Iterable[ReferrerInfo]) -> None:
        for r in infos:
            found.setdefault(subject, {})[r.digest] = r

    sem = asyncio.Semaphore(CONCURRENCY)

    async def by_tag(subject: str, index_digest: str) -> None:
        async with sem:
            try:
                got = await client.get_manifest(repository, index_digest)
            except (E.NotFound, E.ProtocolError):
                return
            add(subject, referrer_infos(got.manifest))

    async def by_api(subject: str) -> None:
        async with sem:
            try:
                add(subject, await client.referrers_from_api(repository, subject))
            except (E.NotFound, E.Unsupported, E.ProtocolError):
                return

    jobs = [
        by_tag(d, tag_digests[fallback_tag(d)]) for d in wanted if fallback_tag(d) in tag_digests
    ]
    registry = client.registry
    has_api = knowledge.get(registry).referrers_api
    rest = wanted
    if has_api is None and wanted:
        first, rest = wanted[0], wanted[1:]
        try:
            add(first, await client.referrers_from_api(repository, first))
            has_api = True
        except (E.NotFound, E.Unsupported) as exc:
            log.info("%s has no referrers API (HTTP %s)", registry, exc.status)
            has_api = False
        knowledge.learn(registry, referrers_api=has_api)
    if has_api:
        jobs += [by_api(d) for d in rest]
    await asyncio.gather(*jobs)
    return {s: tuple(refs.values()) for s, refs in found.items() if refs}
