"""429s, Retry-After and rate-limit headers from a real loopback server in front of the embedded
registry: the listing completes and is correct, Retry-After holds every request back, a used-up
pull allowance stops at once with words, and the CLI says it was throttled."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Cli
from fault_servers import push_image, serve
from throttle_front import Front

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.inventory import load_tags
from regview.core.model import Endpoint
from regview.server.runner import LocalRegistry

pytestmark = pytest.mark.integration
REPO = "team/app"
TAGS = [f"t{i:02d}" for i in range(12)]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with LocalRegistry(tmp_path_factory.mktemp("throttle") / "data") as reg:
        for i, tag in enumerate(TAGS):  # a digest per tag: every manifest is fetched
            push_image(reg.url, REPO, [tag], created=f"2024-05-01T10:00:{i:02d}Z")
        yield reg.url


def _summary(infos: list) -> list[tuple[str, str, int | None]]:  # type: ignore[type-arg]
    return sorted((t.tag, t.digest, t.size) for t in infos if not t.error)


async def _listing(
    url: str, cache: Path | None = None, concurrency: int | None = None
) -> tuple[list, RegistryClient]:  # type: ignore[type-arg]
    async with RegistryClient(Endpoint(url), cache_dir=cache, concurrency=concurrency) as client:
        infos = await load_tags(client, REPO)
    return infos, client


async def test_a_manifest_refused_five_times_still_loads(registry: str, tmp_path: Path) -> None:
    # four attempts were all a request got before; a throttling server is alive, so regview
    # keeps trying (slowing down) and the listing completes, complete and correct
    clean, _ = await _listing(registry)
    front = Front(registry, refuse_first={f"/v2/{REPO}/manifests/t03": 5})
    with serve(front.app) as url:
        infos, client = await asyncio.wait_for(_listing(url, tmp_path / "cache"), 120)
    assert _summary(infos) == _summary(clean)
    assert len(_summary(infos)) == len(TAGS)
    assert client.limiter.throttled == 5
    assert sum(1 for _, _, p, s in front.log if p.endswith("/t03") and s == 429) == 5


async def test_retry_after_holds_back_every_request(registry: str) -> None:
    front = Front(registry, retry_after_once=f"/v2/{REPO}/manifests/t01")
    with serve(front.app) as url:
        # two at a time: the other worker has more tags to ask for while t01 waits
        infos, client = await asyncio.wait_for(_listing(url, concurrency=2), 60)
    assert len(_summary(infos)) == len(TAGS)
    refused = next(t for t, _, p, s in front.log if s == 429)
    # the other worker had tags left to ask for; none of its requests may arrive within the
    # Retry-After second (20 ms of slack for one sent just before the 429 came back)
    arrived_meanwhile = [p for t, _, p, _ in front.log if refused + 0.02 < t < refused + 0.9]
    assert arrived_meanwhile == []
    assert max(t for t, _, _, _ in front.log) > refused + 0.9
    assert client.limiter.throttled == 1


async def test_a_used_up_pull_allowance_stops_at_once_with_words(registry: str) -> None:
    front = Front(registry, remaining=0)
    with serve(front.app) as url, pytest.raises(E.TooManyRequests) as caught:
        async with RegistryClient(Endpoint(url)) as client:
            await client.get_manifest(REPO, "t01")
    assert "0 of 100 pulls left (per 6 h)" in caught.value.message
    assert "used up" in caught.value.message
    assert caught.value.allowance is not None and caught.value.allowance.remaining == 0
    gets = [p for _, m, p, _ in front.log if m == "GET" and p.endswith("/t01")]
    assert gets == [f"/v2/{REPO}/manifests/t01"]  # one request: no retries into a closed door


async def test_where_pulls_count_a_second_look_is_heads(registry: str, tmp_path: Path) -> None:
    # Docker Hub counts GETs (even conditional ones) as pulls, not HEADs: once the registry
    # announced an allowance, tags whose digest is known cost nothing
    front = Front(registry, remaining=90)
    with serve(front.app) as url:
        first, _ = await _listing(url, tmp_path / "cache")
        spent = 90 - (front.remaining or 0)
        front.log.clear()
        second, client = await _listing(url, tmp_path / "cache")
    assert _summary(second) == _summary(first)
    manifest_gets = [p for _, m, p, _ in front.log if m == "GET" and "/manifests/" in p]
    assert manifest_gets == []
    assert spent <= len(TAGS) + 1  # the first listing: a GET per tag at most
    assert client.limiter.allowance is not None and client.limiter.allowance.remaining == 90 - spent


def test_the_cli_says_it_was_throttled(registry: str, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    cli.env["REGVIEW_BASEDIR"] = str(tmp_path / "base")
    front = Front(registry, refuse_first={f"/v2/{REPO}/manifests/t05": 2}, remaining=50)
    with serve(front.app) as url:
        result = cli("tags", f"{url.split('://')[1]}/{REPO}", "--json")
    assert result.code == 0, result.err
    assert sorted(t["tag"] for t in result.json()) == TAGS
    assert "throttled 2 request(s)" in result.err
    assert "pulls left (per 6 h)" in result.err


def test_json_says_what_is_left_when_the_allowance_is_used_up(
    registry: str, tmp_path: Path
) -> None:
    cli = Cli(tmp_path)
    cli.env["REGVIEW_BASEDIR"] = str(tmp_path / "base")
    front = Front(registry, remaining=0)
    with serve(front.app) as url:
        result = cli("tags", f"{url.split('://')[1]}/{REPO}", "--json")
    assert result.code == 1
    said = result.json()
    assert said["pull_allowance"] == {"remaining": 0, "limit": 100, "window_seconds": 21600}
    assert "pull allowance is used up (0 of 100 pulls left (per 6 h))" in said["error"]
    assert "used up" in result.err and "Traceback" not in result.err
