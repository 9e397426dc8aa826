"""The deletion use case of `services.deletion`, without a window or a subprocess: the registry
is regview's own app in-process (httpx.ASGITransport), GitLab's API an httpx.MockTransport.

- the one resolver of "the GitLab project behind this path": not configured, anonymous, a deploy
  token (no request), the API unreachable or refusing (the reason kept, its client closed),
  found (the ids);
- the plan says up front why GitLab's API is not used, and what the profile's last Test knows
  about the credential, in the front end's words;
- cancelled before it started, every item of the plan is accounted for and nothing is deleted;
  a run then a restore puts the tag back at its digest;
- a recycle-bin entry finds its profile at an address the profile had before.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tiny_images import seed_tiny_tags, snapshot

from regview.core import errors as E
from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Outcome, Status
from regview.core.deletion.plan import PlanOptions, Selection
from regview.core.journal.journal import Journal
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.paths import default_paths
from regview.server.config import ServerConfig
from regview.server.v2.app import create_app
from regview.services import deletion as D
from regview.settings.profiles import Profile, with_updates

REPO = "team/app/img"
PAT = Credentials("alice", "glpat-secret", CredentialKind.PERSONAL)
_ports = itertools.count(7100)


def gitlab_endpoint() -> Endpoint:
    """A fresh API URL per test: the GitLab client remembers answers per API URL."""
    url = f"http://127.0.0.1:{next(_ports)}"
    return Endpoint(url, kind=RegistryKind.GITLAB, api_url=f"{url}/api/v4")


def gitlab_api(
    seen: list[httpx.Request], status: int = 200
) -> Callable[[httpx.Request], httpx.Response]:
    """GitLab's answers for project `team/app` (id 7) with the registry repository 42."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.raw_path.decode().split("?")[0]
        if status != 200:
            return httpx.Response(status, json={"message": "401 Unauthorized"})
        if path.endswith("/projects/team%2Fapp%2Fimg"):
            return httpx.Response(404, json={"message": "404 Project Not Found"})
        if path.endswith("/projects/team%2Fapp"):
            return httpx.Response(200, json={"id": 7, "path_with_namespace": "team/app"})
        if path.endswith("/projects/7/registry/repositories"):
            return httpx.Response(200, json=[{"id": 42, "path": REPO, "location": "x"}])
        return httpx.Response(404, json={"message": "404 Not Found"})

    return handler


# -- the resolver -----------------------------------------------------------------------------------


async def test_no_api_url_is_not_a_problem() -> None:
    found = await D.resolve_gitlab(Endpoint("https://registry.example.com"), PAT, REPO)
    assert found.project is None and found.why is D.NoAPI.NOT_CONFIGURED
    assert found.problem == ""


@pytest.mark.parametrize("creds", [None, Credentials("", "", CredentialKind.ANONYMOUS)])
async def test_anonymous_has_no_api(creds: Credentials | None) -> None:
    found = await D.resolve_gitlab(gitlab_endpoint(), creds, REPO)
    assert found.project is None and found.why is D.NoAPI.ANONYMOUS
    assert "anonymous" in found.problem


async def test_a_deploy_token_is_refused_without_a_request() -> None:
    seen: list[httpx.Request] = []
    deploy = Credentials("gitlab+deploy-token-1", "gldt-x", CredentialKind.DEPLOY)
    found = await D.resolve_gitlab(
        gitlab_endpoint(), deploy, REPO, transport=httpx.MockTransport(gitlab_api(seen))
    )
    assert found.project is None and found.why is D.NoAPI.REFUSED
    assert isinstance(found.error, E.DeployTokenNoAPI)
    assert "deploy tokens cannot use the GitLab API" in found.problem
    assert seen == []


async def test_an_unreachable_api_is_a_reason_not_an_exception() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    endpoint = gitlab_endpoint()
    found = await D.resolve_gitlab(endpoint, PAT, REPO, transport=httpx.MockTransport(refuse))
    assert found.project is None and found.why is D.NoAPI.REFUSED
    assert isinstance(found.error, E.ConnectionFailed)
    assert httpx.URL(endpoint.api_url).netloc.decode() in found.problem


async def test_an_expired_token_is_a_reason_with_its_status() -> None:
    seen: list[httpx.Request] = []
    found = await D.resolve_gitlab(
        gitlab_endpoint(), PAT, REPO, transport=httpx.MockTransport(gitlab_api(seen, 401))
    )
    assert isinstance(found.error, E.GitLabAPIError) and found.error.status == 401
    assert "401" in found.problem and "glpat-secret" not in found.problem


async def test_the_project_behind_a_path() -> None:
    seen: list[httpx.Request] = []
    found = await D.resolve_gitlab(
        gitlab_endpoint(), PAT, REPO, transport=httpx.MockTransport(gitlab_api(seen))
    )
    project = found.project
    assert project is not None and found.why is D.NoAPI.USED and found.problem == ""
    try:
        assert (project.project_id, project.repository_id) == (7, 42)
        assert project.project_path == "team/app" and project.repository_path == REPO
        assert project.target.project_id == 7
        assert all(r.headers["PRIVATE-TOKEN"] == "glpat-secret" for r in seen)
    finally:
        await project.api.aclose()


# -- against the registry app in-process --------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[RegistryClient]:
    app = create_app(ServerConfig(tmp_path / "data", gc_delay=-1), online_gc=False)
    async with RegistryClient(
        Endpoint("http://127.0.0.1:5999"),
        transport=httpx.ASGITransport(app=app),
        cache_dir=tmp_path / "cache",
    ) as c:
        await seed_tiny_tags(c, REPO, 3)
        yield c


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(default_paths(tmp_path / "base"))


async def test_open_target_falls_back_and_the_plan_says_why(client: RegistryClient) -> None:
    seen: list[httpx.Request] = []
    endpoint = gitlab_endpoint()
    target = await D.open_target(
        endpoint,
        PAT,
        client,
        REPO,
        gitlab_transport=httpx.MockTransport(gitlab_api(seen, 401)),
    )
    try:
        assert target.gitlab is None and target.port.gitlab is None
        assert "401" in target.api_problem
        facts = await D.gather(target, REPO)
        plan = D.plan_deletion(
            facts, Selection.of_tags(["t0000"]), PlanOptions(), api_problem=target.api_problem
        )
        said = [w for w in plan.warnings if "GitLab's API is not used" in w]
        assert len(said) == 1 and target.api_problem in said[0]
        assert "registry API" in said[0]
        # a front end that said it already passes "": said once, not twice
        quiet = D.plan_deletion(facts, Selection.of_tags(["t0000"]), PlanOptions())
        assert not [w for w in quiet.warnings if "GitLab" in w]
    finally:
        await target.aclose()


async def test_open_target_closes_the_gitlab_client_it_found(client: RegistryClient) -> None:
    seen: list[httpx.Request] = []
    target = await D.open_target(
        gitlab_endpoint(), PAT, client, REPO, gitlab_transport=httpx.MockTransport(gitlab_api(seen))
    )
    assert target.gitlab is not None and target.port.gitlab is target.gitlab.api
    api = target.gitlab.api
    facts = await D.gather(target, REPO)
    assert (facts.gitlab_project_id, facts.gitlab_repository_id) == (7, 42)
    await target.aclose()
    assert api.http.is_closed and target.gitlab is None


async def test_the_credentials_doubt_in_the_front_ends_words(client: RegistryClient) -> None:
    target = await D.open_target(Endpoint("http://127.0.0.1:5999"), None, client, REPO)
    facts = await D.gather(target, REPO)
    profile = with_updates(
        Profile.for_endpoint(Endpoint("http://127.0.0.1:5999"), username="alice"),
        cannot_delete="its scopes are read_registry",
        verified_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    plan = D.plan_deletion(
        facts,
        Selection.of_tags(["t0001"]),
        PlanOptions(),
        profile=profile,
        credential_fix="log in again (`regview login`)",
    )
    (warning,) = [w for w in plan.warnings if "cannot delete here" in w]
    assert "read_registry" in warning and "regview login" in warning
    assert "Manage tokens" not in warning


async def test_cancelled_before_it_started_accounts_for_every_item(
    client: RegistryClient, journal: Journal
) -> None:
    before = await snapshot(client, REPO)
    target = await D.open_target(Endpoint("http://127.0.0.1:5999"), None, client, REPO)
    facts = await D.gather(target, REPO)
    plan = D.plan_deletion(facts, Selection.of_tags(["t0000", "t0001"]), PlanOptions())
    seen: list[str] = []
    executor = D.executor_for(target, journal, on_result=lambda r: seen.append(r.name))
    executor.cancel()
    report = await executor.run(plan)
    assert sorted(seen) == sorted(r.name for r in report.results)
    assert sorted(r.name for r in report.results if r.kind == "tag") == ["t0000", "t0001"]
    assert all(r.outcome is Outcome.NOT_STARTED for r in report.results)
    assert report.cancelled and not report.ok and D.removed_tags(report) == ()
    assert await snapshot(client, REPO) == before


async def test_run_then_restore_puts_the_tag_back(client: RegistryClient, journal: Journal) -> None:
    before = await snapshot(client, REPO)
    target = await D.open_target(Endpoint("http://127.0.0.1:5999"), None, client, REPO)
    facts = await D.gather(target, REPO)
    plan = D.plan_deletion(facts, Selection.of_tags(["t0002"]), PlanOptions())
    report = await D.executor_for(target, journal).run(plan)
    assert report.ok and report.all_gone and D.removed_tags(report) == ("t0002",)
    assert [r.verdict for r in report.results if r.kind == "tag"] == [Status.DELETED]
    assert set(await snapshot(client, REPO)) == {"t0000", "t0001"}
    results = await D.restore_entry(journal, report.journal_id, target)
    assert [r.name for r in results if r.restored and r.name == "t0002"] == ["t0002"]
    assert await snapshot(client, REPO) == before


def test_a_recycle_bin_entry_finds_its_profile_at_an_earlier_address() -> None:
    moved = with_updates(
        Profile.for_endpoint(Endpoint("http://127.0.0.1:5002"), name="local"),
        aliases=("127.0.0.1:5001",),
    )
    other = Profile.for_endpoint(Endpoint("https://registry.example.com"), name="other")
    assert D.profile_for_registry([other, moved], "127.0.0.1:5001") is moved
    assert D.profile_for_registry([other, moved], "127.0.0.1:5002") is moved
    assert D.profile_for_registry([other, moved], "127.0.0.1:5003") is None
    assert D.profile_for_registry([other], "registry.example.com") is other
