"""Tags a management API listed, completed with what only the manifests say.

    rows = await complete(ctx, repository, listed)     listed: [ApiTag(tag, digest, pushed)]

Harbor's artifact listing and Quay's tag listing give every tag's digest, size and push time in
a few requests, but not the layers, platforms and index children the planner's blast radius and
the "frees" figures are computed from. Those come from the manifests through `/v2`, read once
per digest: a digest whose summary the listing cache already holds (content-addressed, so it
cannot have changed) costs no request at all, which makes a repeated listing of a large Harbor
or Quay repository cost only the API's pages. The API's push time is the registry metadata
`created` prefers; its last pull time (Harbor) becomes `TagInfo.pulled`. Without a `/v2` client the API's own rows are returned.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from regview.core.client.cache import Listing
from regview.core.inventory import load_tags, tag_info
from regview.core.model import ArtifactKind, TagInfo
from regview.core.vendors.base import VendorContext


@dataclass(frozen=True, slots=True)
class ApiTag:
    tag: str
    digest: str
    pushed: datetime | None
    size: int | None = None
    is_index: bool = False
    pulled: datetime | None = None  # last pull, where the API says (Harbor)


async def complete(ctx: VendorContext, repository: str, listed: list[ApiTag]) -> list[TagInfo]:
    client = ctx.client
    if client is None:
        return [
            TagInfo(
                repository,
                t.tag,
                t.digest,
                "",
                ArtifactKind.INDEX if t.is_index else ArtifactKind.IMAGE,
                size=t.size,
                created=t.pushed,
                pulled=t.pulled,
            )
            for t in listed
        ]
    listings = client.listings
    cache = (
        await asyncio.to_thread(listings.load, client.registry, repository)
        if listings is not None
        else Listing()
    )
    known: dict[str, dict[str, Any]] = {
        t.digest: cache.summaries[t.digest]
        for t in listed
        if t.digest in cache.summaries and not cache.summaries[t.digest].get("error")
    }
    rest = [t for t in listed if t.digest not in known]
    if rest and client.auth.challenge is None:
        # Learn how the registry signs in first: the manifest reads start many at once, and
        # without this each would be answered 401 before the first token came back.
        await client.ping()
    fresh = (
        await load_tags(
            client,
            repository,
            tags=[t.tag for t in rest],
            created_hints={t.tag: t.pushed for t in rest if t.pushed is not None},
            through_vendor=False,
            digests={t.tag: t.digest for t in rest if t.digest},
        )
        if rest
        else []
    )
    if listings is not None and known:
        # load_tags kept only what it read: the rows known already stay in the cache too
        merged = await asyncio.to_thread(listings.load, client.registry, repository)
        for t in listed:
            if t.digest in known:
                merged.tags[t.tag] = t.digest
                merged.summaries.setdefault(t.digest, known[t.digest])
        await asyncio.to_thread(listings.save, client.registry, repository, merged)
    by_tag = {row.tag: row for row in fresh}
    out: list[TagInfo] = []
    for t in listed:
        if t.digest in known:
            row = tag_info(repository, t.tag, t.digest, known[t.digest], t.pushed)
        else:
            found = by_tag.get(t.tag)
            if found is None:
                continue
            row = found
            if row.size is None and t.size is not None and not row.error:
                row = replace(row, size=t.size)
        out.append(replace(row, pulled=t.pulled) if t.pulled is not None else row)
    return out
