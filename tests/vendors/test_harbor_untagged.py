"""Untagged artifacts' bytes where the registry lists them (issue 13): Harbor's API lists
artifacts without tags, against the Harbor imitation over real sockets (a counting proxy in
between). `regview du` and `core.untagged` count only the blobs no tag keeps — de-duplicated
by reading the untagged manifests through /v2 — or, when they cannot, the API's sum marked as
an upper bound. Expected figures come from the images as pushed, not from regview."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cli_support import Cli
from harbor_untagged_seed import held_only_by_old_dev_2, rebuild_dev_2
from vendor_seed import LAYOUT
from vendor_sites import CLEANER, Site, harbor_site, open_port
from vendor_sites import HARBOR_REPO as REPO

from regview.core.deletion.port import ClientPort
from regview.core.model import Credentials, RegistryKind
from regview.core.untagged import Untagged, untagged_usage

pytestmark = pytest.mark.integration


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with harbor_site(tmp_path) as s:
        yield s


@pytest.fixture
async def cleaner(site: Site) -> AsyncIterator[ClientPort]:
    async with open_port(site, RegistryKind.HARBOR, Credentials(*CLEANER)) as port:
        yield port


async def test_harbor_lists_untagged_artifacts_and_only_their_own_blobs_count(
    site: Site, cleaner: ClientPort
) -> None:
    assert cleaner.vendor is not None
    # The index's children have no tag but the index keeps them: not untagged.
    assert await cleaner.vendor.untagged_artifacts(REPO) == {}
    new = rebuild_dev_2(site)
    old = site.pushed["dev-2"]
    api_size = site.vendor.store.repos[REPO].manifests[old].size
    assert await cleaner.vendor.untagged_artifacts(REPO) == {old: api_size}

    rows = await cleaner.vendor.list_tags(REPO)
    assert rows is not None and all(r.blobs for r in rows)
    expected = held_only_by_old_dev_2(new)
    mark = site.proxy.mark()
    figure = await untagged_usage(cleaner.client, REPO, rows)
    assert figure == Untagged(expected, 1, upper_bound=False)
    assert 0 < expected < api_size  # the shared base layer (and the manifest) left out
    reads = [p for m, p in site.proxy.since(mark) if "/manifests/" in p]
    assert reads and all(old in p for p in reads), reads  # the untagged manifest only
    assert not site.mutations(mark)
    # Too many to read (or one unreadable): Harbor's sizes summed, said to be an upper bound.
    capped = await untagged_usage(cleaner.client, REPO, rows, read_limit=0)
    assert capped == Untagged(api_size, 1, upper_bound=True)


async def test_a_registry_that_lists_tags_only_says_unknown(cleaner: ClientPort) -> None:
    from regview.core.client.client import RegistryClient

    # The same registry reached as a plain one (no vendor API): nothing to list untagged.
    plain = cleaner.client.endpoint.__class__(cleaner.client.endpoint.url)
    async with RegistryClient(plain, cleaner.client.credentials) as client:
        assert await untagged_usage(client, REPO, []) is None


def test_du_shows_the_untagged_bytes_harbor_lists(site: Site, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    host = site.url.split("://", 1)[1]
    login = cli("login", host, "-u", CLEANER[0], "--password-stdin", stdin=CLEANER[1])
    assert login.code == 0, login.err
    expected = held_only_by_old_dev_2(rebuild_dev_2(site))
    mark = site.proxy.mark()
    r = cli("du", f"{host}/team", "--json")
    assert r.code == 0, r.err
    [row] = r.json()
    assert row["repository"] == REPO
    assert row["untagged"] == expected and row["untagged_exact"] is True
    assert row["tags"] == len(LAYOUT) and row["complete"] is True
    assert not site.mutations(mark)
    r = cli("du", f"{host}/team")
    assert r.code == 0, r.err
    header, line = r.out.splitlines()[:2]
    assert header.split() == ["REPOSITORY", "TAGS", "STORED", "UNTAGGED"]
    assert line.startswith(REPO)
    assert "untagged manifests: unknown" not in r.err
    assert "only manifests without a tag hold" in r.err
    assert "Traceback" not in r.err
