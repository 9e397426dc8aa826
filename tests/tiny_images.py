"""Many small, distinct images fast, over the client's own API (no skopeo): for tests and
benchmarks that need hundreds of tags rather than realistic content.

    tiny_manifest(i) -> bytes                       the i-th OCI manifest: empty config, no layers
    await seed_tiny_tags(client, repo, n, tag=...)  push the empty config once, then n manifests
    await snapshot(client, repo) -> {tag: digest}
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from regview.spec import mediatypes as mt

if TYPE_CHECKING:
    from regview.core.client.client import RegistryClient

EMPTY_CONFIG = b"{}"


def tiny_manifest(i: int) -> bytes:
    body = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": mt.OCI_EMPTY_DIGEST, "size": 2},
        "layers": [],
        "annotations": {"n": str(i)},  # what makes each digest distinct
    }
    return json.dumps(body).encode()


async def push_empty_config(client: RegistryClient, repo: str) -> None:
    """The `{}` config blob, monolithic (201) or in two steps where the registry asks (202)."""
    response, _ = await client.send(
        "POST",
        f"v2/{repo}/blobs/uploads/?digest={mt.OCI_EMPTY_DIGEST}",
        what="upload",
        ok=(201, 202),
        content=EMPTY_CONFIG,
        headers={"Content-Type": "application/octet-stream"},
    )
    if response.status_code == 202:
        location = response.headers["Location"]
        sep = "&" if "?" in location else "?"
        await client.send(
            "PUT",
            f"{location}{sep}digest={mt.OCI_EMPTY_DIGEST}",
            what="upload",
            ok=(201,),
            content=EMPTY_CONFIG,
            headers={"Content-Type": "application/octet-stream"},
        )


async def seed_tiny_tags(
    client: RegistryClient,
    repo: str,
    count: int,
    tag: Callable[[int], str] = lambda i: f"t{i:04d}",
    concurrency: int = 16,
) -> None:
    await push_empty_config(client, repo)
    limit = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with limit:
            await client.put_manifest(repo, tag(i), tiny_manifest(i), mt.OCI_MANIFEST)

    await asyncio.gather(*(one(i) for i in range(count)))


async def snapshot(client: RegistryClient, repo: str, concurrency: int = 16) -> dict[str, str]:
    """Every tag of `repo` with the digest it points at now."""
    limit = asyncio.Semaphore(concurrency)

    async def one(tag: str) -> tuple[str, str]:
        async with limit:
            return tag, (await client.head_manifest(repo, tag)).digest

    return dict(await asyncio.gather(*(one(t) for t in await client.list_tags(repo))))
