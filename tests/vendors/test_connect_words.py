"""The Add-registry dialog's Test on Docker Hub and GHCR (their imitations): it says which API
deleting goes through, whether this token may delete there, and — when it may not — which
permission or scopes are missing, in words (`connect_backend`, no window needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ghcr_imitation import GhcrImitation
from hub_imitation import HubImitation
from imitation import Token, serve_asgi
from seed import push_image

from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.server.runner import LocalRegistry
from regview.services.connect import CoreBackend, ProbeSummary, vendor_hint

pytestmark = pytest.mark.integration

GH_TOKENS = {
    "ghp_full": Token("alice", ("delete:packages", "read:packages", "write:packages")),
    "ghp_read": Token("alice", ("read:packages",)),
}
HUB_TOKENS = {"dckr_pat_ro": Token("alice", ("repo:read",))}


@pytest.fixture
def underlying(tmp_path: Path) -> Iterator[str]:
    with LocalRegistry(tmp_path / "registry-data") as reg:
        push_image(reg.url, "acme/app", ["v1"], salt="a")
        push_image(reg.url, "alice/app", ["v1"], salt="a")
        yield reg.url


def _listed_once(url: str) -> None:
    """GitHub has listed the pushed images as versions by the time anyone looks."""
    httpx.get(
        f"{url}/orgs/acme/packages/container/app/versions",
        headers={"Authorization": "Bearer ghp_full"},
    ).raise_for_status()


def _lines(summary: object) -> str:
    return "\n".join(text for _ok, text in summary.lines())  # type: ignore[attr-defined]


async def test_ghcr_test_names_the_missing_scope(underlying: str) -> None:
    front = GhcrImitation(underlying, dict(GH_TOKENS), orgs={"acme": {"alice"}})
    with serve_asgi(front.app()) as url:
        endpoint = Endpoint(url, kind=RegistryKind.GHCR, vendor_api=url)
        await asyncio.to_thread(_listed_once, url)
        mark = front.mark()
        weak = await CoreBackend().test(
            endpoint, Credentials("alice", "ghp_read", CredentialKind.PASSWORD), "acme/app"
        )
        full = await CoreBackend().test(
            endpoint, Credentials("alice", "ghp_full", CredentialKind.PASSWORD), "acme/app"
        )
    assert weak.delete is False
    words = _lines(weak)
    assert "Cannot delete in acme/app through the GitHub packages API" in words
    assert "delete:packages" in words and "personal access token (classic)" in words
    assert "delete:packages" in weak.cannot_delete()
    assert full.delete is True
    assert "Can delete tags in acme/app through the GitHub packages API" in _lines(full)
    assert front.mutations(mark) == [], "Test sends nothing that changes anything"


async def test_hub_test_says_which_api_and_permission_deleting_needs(underlying: str) -> None:
    front = HubImitation(underlying, dict(HUB_TOKENS))
    with serve_asgi(front.app()) as url:
        endpoint = Endpoint(url, kind=RegistryKind.DOCKER_HUB, vendor_api=url)
        mark = front.mark()
        summary = await CoreBackend().test(
            endpoint, Credentials("alice", "dckr_pat_ro", CredentialKind.PASSWORD), "alice/app"
        )
    words = _lines(summary)
    assert summary.delete is None, "Docker Hub does not say a token's permission up front"
    assert "Delete through the Docker Hub API: not known until the first deletion" in words
    assert "Read, Write, Delete" in words and "personal access token" in words
    assert front.mutations(mark) == []


def test_the_dialog_hint_names_the_api_for_each_vendor() -> None:
    hub = vendor_hint(ProbeSummary("https://registry-1.docker.io", RegistryKind.DOCKER_HUB, True))
    gh = vendor_hint(ProbeSummary("https://ghcr.io", RegistryKind.GHCR, True))
    assert "Docker Hub API" in hub and "Read, Write, Delete" in hub
    assert "packages API" in gh and "read:packages" in gh and "delete:packages" in gh
    assert vendor_hint(ProbeSummary("https://r.example", RegistryKind.GENERIC, True)) == ""
