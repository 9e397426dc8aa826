"""Tags a management API listed, completed with what only the manifests say.

    rows = await complete(ctx, repository, listed)     listed: [ApiTag(tag, digest, pushed)]

Harbor's artifact listing and Quay's tag listing give every tag's digest, size and push time in
a few requests, but not the layers, platforms and index children the planner's blast radius and
the "frees" figures are computed from. Those come from the manifests through `/v2` (the
regview listing cache makes a second look at a digest free); the API's push time is the
registry metadata `created` prefers. Without a `/v2` client the API's own rows are returned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from regview.core.inventory import load_tags
from regview.core.model import ArtifactKind, TagInfo
from regview.core.vendors.base import VendorContext


@dataclass(frozen=True, slots=True)
class ApiTag:
    tag: str
    digest: str
    pushed: datetime | None
    size: int | None = None
    is_index: bool = False


async def complete(ctx: VendorContext, repository: str, listed: list[ApiTag]) -> list[TagInfo]:
    if ctx.client is None:
        return [
            TagInfo(
                repository,
                t.tag,
                t.digest,
                "",
                ArtifactKind.INDEX if t.is_index else ArtifactKind.IMAGE,
                size=t.size,
                created=t.pushed,
            )
            for t in listed
        ]
    hints = {t.tag: t.pushed for t in listed if t.pushed is not None}
    rows = await load_tags(
        ctx.client,
        repository,
        tags=[t.tag for t in listed],
        created_hints=hints,
        through_vendor=False,
    )
    by_tag = {t.tag: t for t in listed}
    out: list[TagInfo] = []
    for row in rows:
        api = by_tag.get(row.tag)
        if api is not None and row.size is None and api.size is not None and not row.error:
            row = replace(row, size=api.size)
        out.append(row)
    return out
