"""First contact with a token registry: `load_tags(tags=…)` on a client that has not talked to the
registry yet sends one manifest read alone — it learns the realm and gets the token — and then
fans out with that token. Before, it started 16 reads at once and each was answered 401 first.

Counted at a real server: the embedded registry with its GitLab token realm behind a proxy that
records every answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from counting_proxy import CountingProxy
from fault_servers import serve, sha256
from tiny_images import EMPTY_CONFIG, tiny_manifest

from regview.core.client.client import RegistryClient
from regview.core.inventory import load_tags
from regview.core.model import Credentials, Endpoint
from regview.server.runner import LocalRegistry
from regview.spec import mediatypes as mt

REPO = "acme/infra/ci-runner"


def test_the_first_read_gets_the_token_then_the_rest_fan_out(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "gl", auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        creds = Credentials(*reg.demo_credentials)
        proxy = CountingProxy(reg.url)
        with serve(proxy.app) as url:

            async def scenario() -> None:
                async with RegistryClient(Endpoint(url=url), creds) as lister:
                    names = await lister.list_tags(REPO)
                assert len(names) > 16
                mark = proxy.mark()
                async with RegistryClient(Endpoint(url=url), creds) as client:
                    rows = await load_tags(client, REPO, tags=names)
                assert sorted(r.tag for r in rows) == sorted(names)
                assert not [r.error for r in rows if r.error]
                challenged = [(m, p) for m, p, status in proxy.answers[mark:] if status == 401]
                assert len(challenged) == 1, challenged
                assert client.auth.token_requests == 1

            asyncio.run(scenario())


def _open_registry(tags: list[str], seen: list[str]) -> Callable[[], web.Application]:
    """An anonymous registry of `tags` (tiny OCI images sharing the empty config). The first
    manifest read is answered only once a second one has arrived, or after 1.5 s: whether the
    client fans out at once is in `seen` ("second-while-first" when it did)."""

    def make() -> web.Application:
        second = asyncio.Event()
        reads = 0

        async def tag_list(request: web.Request) -> web.Response:
            return web.json_response({"name": REPO, "tags": tags})

        async def read(request: web.Request) -> web.Response:
            nonlocal reads
            reads += 1
            if reads == 1:
                try:
                    await asyncio.wait_for(second.wait(), 1.5)
                    seen.append("second-while-first")
                except TimeoutError:
                    seen.append("first-alone")
            else:
                second.set()
            body = tiny_manifest(tags.index(request.match_info["ref"]))
            return web.Response(
                body=body,
                content_type=mt.OCI_MANIFEST,
                headers={"Docker-Content-Digest": sha256(body)},
            )

        async def blob(request: web.Request) -> web.Response:
            return web.Response(body=EMPTY_CONFIG, content_type=mt.OCI_CONFIG)

        app = web.Application()
        app.router.add_get(f"/v2/{REPO}/tags/list", tag_list)
        app.router.add_get(f"/v2/{REPO}/manifests/{{ref}}", read)
        app.router.add_get(f"/v2/{REPO}/blobs/{mt.OCI_EMPTY_DIGEST}", blob)
        return app

    return make


def test_a_tag_list_read_unchallenged_lets_the_manifest_reads_fan_out_at_once(
    tmp_path: Path,
) -> None:
    """The client that read the tag list without being asked for credentials knows the
    manifests need nothing more (the same pull scope): no read alone first, which over a
    150 ms link cost two round trips (the manifest, then its config) before the rest. A client
    handed the names from elsewhere still sends its first read alone."""
    tags = [f"t{i}" for i in range(20)]
    seen: list[str] = []
    with serve(_open_registry(tags, seen)) as url:

        async def scenario() -> None:
            async with RegistryClient(Endpoint(url=url), cache_dir=tmp_path / "a") as client:
                names = await client.list_tags(REPO)
                rows = await load_tags(client, REPO, tags=names)
                assert sorted(r.tag for r in rows) == sorted(tags)
                assert not [r.error for r in rows if r.error]
                assert client.listed_openly(REPO)

        asyncio.run(scenario())
        assert seen == ["second-while-first"]

    seen.clear()
    with serve(_open_registry(tags, seen)) as url:

        async def handed_names() -> None:
            async with RegistryClient(Endpoint(url=url), cache_dir=tmp_path / "b") as client:
                rows = await load_tags(client, REPO, tags=tags)
                assert not [r.error for r in rows if r.error]
                assert not client.listed_openly(REPO)

        asyncio.run(handed_names())
        assert seen == ["first-alone"]
