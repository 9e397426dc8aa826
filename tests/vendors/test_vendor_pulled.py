"""Last pull times (issue 17: Harbor gives them, and Docker Hub's `tag_last_pulled`): Harbor's
tag pull time reaches `TagInfo.pulled` (never pulled: None, not Go's zero time) and
`regview tags --json` as "pulled"; regview's own reads of the manifests to complete a listing
do not show up as pulls of the tags."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cli_support import Cli
from vendor_seed import token_client
from vendor_sites import CLEANER, MAINTAINER, Site, harbor_site, open_port
from vendor_sites import HARBOR_REPO as REPO

from regview.core.model import Credentials, RegistryKind

pytestmark = pytest.mark.integration

ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with harbor_site(tmp_path) as s:
        yield s


def _pull(site: Site, tag: str) -> float:
    """Someone pulls `tag` (a manifest GET by tag, as docker pull does); Harbor's time of it."""
    with token_client(site.url, MAINTAINER, REPO, "pull") as http:
        http.get(f"/v2/{REPO}/manifests/{tag}", headers={"Accept": ACCEPT}).raise_for_status()
    return site.vendor.store.repos[REPO].tags[tag].pulled


async def test_harbor_pull_times_in_the_listing(site: Site) -> None:
    when = _pull(site, "dev-1")
    async with open_port(site, RegistryKind.HARBOR, Credentials(*CLEANER)) as port:
        assert port.vendor is not None
        first = await port.vendor.list_tags(REPO)
        again = await port.vendor.list_tags(REPO)
    assert first is not None and again is not None
    pulled = {r.tag: r.pulled for r in first}
    assert pulled["dev-1"] is not None and abs(pulled["dev-1"].timestamp() - when) < 0.01
    assert pulled["dev-1"].tzinfo is not None
    assert pulled["dev-2"] is None, "never pulled: Go's zero time is no date"
    assert {r.tag: r.pulled for r in again} == pulled, (
        "regview's own manifest reads while listing are not pulls of the tags"
    )


def test_tags_json_says_pulled(site: Site, tmp_path: Path) -> None:
    when = _pull(site, "old")
    cli = Cli(tmp_path / "cli")
    host = site.url.split("://", 1)[1]
    login = cli("login", host, "-u", CLEANER[0], "--password-stdin", stdin=CLEANER[1])
    assert login.code == 0, login.err
    listed = cli("tags", f"{host}/{REPO}", "--json", "--sort", "pulled")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert rows[0]["tag"] == "old", "most recently pulled first"
    said = datetime.fromisoformat(rows[0]["pulled"].replace("Z", "+00:00"))
    assert said.tzinfo is not None and abs(said.timestamp() - when) < 0.01
    assert rows[0]["pulled"].endswith("Z")
    assert [r["pulled"] for r in rows[1:]] == [None] * (len(rows) - 1)
