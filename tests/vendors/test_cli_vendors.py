"""`regview rm`, `prune` and `trash restore` on Docker Hub and GHCR (their imitations), through
the real entry point: the profile says which registry it is and where its API answers; the
login comes from REGVIEW_USERNAME/REGVIEW_PASSWORD. Before issue 17 the same commands pushed a
throw-away manifest over `/v2`, were refused the delete and deleted nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cli_support import Cli
from ghcr_imitation import GhcrImitation
from hub_imitation import HubImitation
from imitation import Front, Token, serve_asgi
from seed import push_image, push_index, tags_now

from regview.core.model import CredentialKind, RegistryKind
from regview.server.runner import LocalRegistry
from regview.settings.profiles import Profile, Settings, SettingsStore

pytestmark = pytest.mark.integration


@dataclass
class Site:
    kind: RegistryKind
    front: Front
    url: str
    underlying: str
    repo: str
    cli: Cli

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def tags(self) -> dict[str, str]:
        return tags_now(self.underlying, self.repo)

    def run(self, *args: str) -> tuple[int, dict[str, object], str]:
        result = self.cli(*args)
        try:
            out = json.loads(result.out) if result.out.strip() else {}
        except ValueError:
            out = {}
        return result.code, out, result.err


SITES = {
    RegistryKind.DOCKER_HUB: (
        "alice/app",
        lambda u: HubImitation(
            u,
            {
                "dckr_pat_rwd": Token("alice", ("repo:admin",)),
                "dckr_pat_ro": Token("alice", ("repo:read",)),
            },
        ),
        "dckr_pat_rwd",
    ),
    RegistryKind.GHCR: (
        "acme/app",
        lambda u: GhcrImitation(
            u,
            {
                "ghp_full": Token("alice", ("delete:packages", "read:packages", "write:packages")),
                "ghp_ro": Token("alice", ("read:packages",)),
            },
            orgs={"acme": {"alice"}},
        ),
        "ghp_full",
    ),
}


@pytest.fixture(params=[RegistryKind.DOCKER_HUB, RegistryKind.GHCR], ids=["dockerhub", "ghcr"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    kind: RegistryKind = request.param
    repo, make, secret = SITES[kind]
    with LocalRegistry(tmp_path / "registry-data") as reg:
        u = reg.url
        push_image(u, repo, ["v1", "v1.0", "stable"], salt="a")
        push_image(u, repo, ["v2"], salt="b")
        push_image(u, repo, ["v3"], salt="c")
        push_index(u, repo, ["multi", "multi-latest"], salt="m")
        front = make(u)
        with serve_asgi(front.app()) as url:
            if kind is RegistryKind.GHCR:  # GitHub has listed them as versions by now
                httpx.get(
                    f"{url}/orgs/acme/packages/container/app/versions",
                    headers={"Authorization": f"Bearer {secret}"},
                ).raise_for_status()
            cli = Cli(tmp_path)
            cli.env.update(REGVIEW_USERNAME="alice", REGVIEW_PASSWORD=secret)
            host = url.split("://", 1)[1]
            settings = Settings()
            settings.put(
                Profile(
                    name=host,
                    url=url,
                    kind=kind,
                    vendor_api=url,
                    username="alice",
                    credential_kind=CredentialKind.PASSWORD,
                )
            )
            SettingsStore(cli.settings_file).save(settings)
            yield Site(kind, front, url, u, repo, cli)


def test_rm_deletes_one_tag_and_its_siblings_stay(site: Site) -> None:
    before = site.tags()
    mark = site.front.mark()
    code, out, err = site.run("rm", f"{site.host}/{site.repo}:v1", "--yes", "--json")
    assert code == 0, err
    assert out["deleted"] == ["v1"], out
    assert site.tags() == {t: d for t, d in before.items() if t != "v1"}
    assert not [p for m, p in site.front.mutations(mark) if m == "DELETE" and "/manifests/" in p]


def test_prune_then_trash_restore(site: Site) -> None:
    before = site.tags()
    code, out, err = site.run(
        "prune",
        f"{site.host}/{site.repo}",
        "--delete-regex",
        "^(v3|stable|multi)$",
        "--yes",
        "--json",
    )
    assert code == 0, err
    assert site.tags() == {t: d for t, d in before.items() if t not in ("v3", "stable", "multi")}
    journal = str(out.get("journal") or "")
    if not journal:  # prune reports one entry per repository
        entries = out.get("journals") or [
            r.get("journal") for r in out.get("repositories", []) if isinstance(r, dict)
        ]
        journal = str(entries[0]) if entries else ""
    assert journal, out
    code, _out, err = site.run("trash", "restore", journal, "--json")
    assert code == 0, err
    assert site.tags() == before


READ_ONLY = {RegistryKind.DOCKER_HUB: "dckr_pat_ro", RegistryKind.GHCR: "ghp_ro"}
NEEDED = {RegistryKind.DOCKER_HUB: "Read, Write, Delete", RegistryKind.GHCR: "delete:packages"}


def test_rm_with_a_read_only_token_deletes_nothing_and_says_what_is_missing(site: Site) -> None:
    before = site.tags()
    site.cli.env["REGVIEW_PASSWORD"] = READ_ONLY[site.kind]
    mark = site.front.mark()
    code, _out, err = site.run(
        "rm", f"{site.host}/{site.repo}:v2", f"{site.host}/{site.repo}:v3", "--yes"
    )
    assert code != 0
    assert "Traceback" not in err and "nothing was deleted" in err.lower(), err
    assert NEEDED[site.kind] in err, err
    # GitHub says the scopes up front: nothing sent; Docker Hub's first DELETE is refused (403)
    # and stops the run
    sent = site.front.mutations(mark)
    assert len(sent) == (0 if site.kind is RegistryKind.GHCR else 1), sent
    assert site.tags() == before


def test_tags_on_docker_hub_lists_through_the_api_without_a_pull(site: Site) -> None:
    mark = site.front.mark()
    result = site.cli("tags", f"{site.host}/{site.repo}", "--json")
    assert result.code == 0, result.err
    rows = result.json()
    assert {r["tag"] for r in rows} == set(site.tags())
    multi = next(r for r in rows if r["tag"] == "multi")
    assert sorted(p["architecture"] for p in multi["platforms"]) == ["amd64", "arm64"]
    gets = [p for m, p in site.front.since(mark) if m == "GET" and "/manifests/" in p]
    if site.kind is RegistryKind.DOCKER_HUB:
        assert gets == [], "Docker Hub counts manifest GETs as pulls; its API lists for free"
