"""The Add-registry dialog on Harbor and Quay (their imitations): the probe recognises them,
the hint names the API and what the credential needs, and Test asks the API — reads only —
whether this login may delete there, saying what is missing in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from vendor_sites import (
    CLEANER,
    HARBOR_REPO,
    QUAY_REPO,
    READER,
    ROBOT,
    Site,
    harbor_site,
    oauth,
    quay_site,
)

from regview.core.model import Credentials, Endpoint, RegistryKind
from regview.core.probe import probe
from regview.services.connect import CoreBackend, ProbeSummary, vendor_hint

pytestmark = pytest.mark.integration


@pytest.fixture
def harbor(tmp_path: Path) -> Iterator[Site]:
    with harbor_site(tmp_path / "harbor") as site:
        yield site


@pytest.fixture
def quay(tmp_path: Path) -> Iterator[Site]:
    with quay_site(tmp_path / "quay") as site:
        yield site


def _lines(summary: object) -> str:
    return "\n".join(text for _ok, text in summary.lines())  # type: ignore[attr-defined]


async def test_probe_recognises_harbor_and_quay(harbor: Site, quay: Site) -> None:
    assert (await probe(Endpoint(harbor.url))).kind is RegistryKind.HARBOR
    found = await probe(Endpoint(quay.url))
    assert found.kind is RegistryKind.QUAY
    assert "a Quay registry" in found.message


async def test_harbor_test_names_the_missing_permissions(harbor: Site) -> None:
    endpoint = Endpoint(harbor.url, kind=RegistryKind.HARBOR)
    mark = harbor.proxy.mark()
    weak = await CoreBackend().test(endpoint, Credentials(*READER), HARBOR_REPO)
    full = await CoreBackend().test(endpoint, Credentials(*CLEANER), HARBOR_REPO)
    assert weak.delete is False
    words = _lines(weak)
    assert f"Cannot delete in {HARBOR_REPO} through the Harbor API" in words
    assert "Tag: Delete" in words and "Artifact: Delete" in words and "Robot Accounts" in words
    assert "Tag: Delete" in weak.cannot_delete()
    assert full.delete is True
    assert f"Can delete tags in {HARBOR_REPO} through the Harbor API" in _lines(full)
    assert harbor.mutations(mark) == [], "Test sends nothing that changes anything"


async def test_quay_test_names_the_oauth_token_and_its_scope(quay: Site) -> None:
    endpoint = Endpoint(quay.url, kind=RegistryKind.QUAY)
    mark = quay.proxy.mark()
    read_only = await CoreBackend().test(endpoint, oauth(quay, "repo:read"), QUAY_REPO)
    robot = await CoreBackend().test(endpoint, Credentials(*ROBOT), QUAY_REPO)
    full = await CoreBackend().test(endpoint, oauth(quay, "repo:read", "repo:write"), QUAY_REPO)
    assert read_only.delete is False and "repo:write" in _lines(read_only)
    assert robot.delete is False
    assert "OAuth access token" in _lines(robot) and "repo:write" in _lines(robot)
    assert full.delete is True
    assert f"Can delete tags in {QUAY_REPO} through the Quay API" in _lines(full)
    assert quay.mutations(mark) == []


def test_the_dialog_hint_names_the_api_for_harbor_and_quay() -> None:
    harbor = vendor_hint(ProbeSummary("https://harbor.example", RegistryKind.HARBOR, True))
    quay = vendor_hint(ProbeSummary("https://quay.io", RegistryKind.QUAY, True))
    assert "robot account" in harbor and "Tag: Delete" in harbor and "immutable" in harbor.lower()
    assert "OAuth access token" in quay and "repo:write" in quay and "repo:read" in quay
