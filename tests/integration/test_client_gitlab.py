"""The client core against regview's GitLab-compatible instance over loopback sockets:
probe → API candidate, the REST API client, catalog refusal, tags with GitLab's created times."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitlab_support import gitlab_registry, host_of
from support_images import build_image, push_layout

from regview.core import errors as E
from regview.core import inventory
from regview.core.client.client import RegistryClient
from regview.core.gitlab.api import GitLabAPI
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.core.probe import probe
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import Role, TokenKind, Visibility

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]


@dataclass
class GitLabEnv:
    url: str
    host: str
    root: Credentials
    dev: Credentials
    deploy: Credentials


@pytest.fixture(scope="module")
def gitlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitLabEnv]:
    tmp = tmp_path_factory.mktemp("gitlab-client")
    data = tmp / "data"
    store = GitLabStore(data)
    store.add_user("root", admin=True)
    store.add_user("dev")
    store.add_group("g")
    store.add_member("g", "dev", Role.MAINTAINER)
    store.add_project("g/app", Visibility.PRIVATE)
    store.close()
    img = build_image(tmp / "img", layer_sizes=[2048], seed=11)
    with gitlab_registry(data) as (reg, admin):
        _, root = admin.add_token(TokenKind.PERSONAL, username="root", scopes={"api"})
        _, dev = admin.add_token(
            TokenKind.PERSONAL, username="dev", scopes={"api", "read_registry", "write_registry"}
        )
        deploy_tok, deploy = admin.add_token(
            TokenKind.DEPLOY, scopes={"read_registry"}, project="g/app"
        )
        host = host_of(reg.url)
        for tag in ("v1", "v2", "latest"):
            push_layout(img, f"{host}/g/app/img:{tag}", creds=("root", root))
        yield GitLabEnv(
            reg.url,
            host,
            Credentials("root", root, CredentialKind.PERSONAL),
            Credentials("dev", dev, CredentialKind.PERSONAL),
            Credentials(deploy_tok.username, deploy, CredentialKind.DEPLOY),
        )


async def test_probe_finds_gitlab_and_its_api(gitlab: GitLabEnv) -> None:
    result = await probe(Endpoint(gitlab.url))
    assert result.kind == RegistryKind.GITLAB
    assert result.api_url == f"{gitlab.url}/api/v4"
    async with GitLabAPI(result.api_url, gitlab.dev) as api:
        assert (await api.version())["version"]
    endpoint = Endpoint(gitlab.url, api_url=result.api_url, kind=RegistryKind.GITLAB)
    async with RegistryClient(endpoint, gitlab.dev) as c:
        access = await c.check_access("g/app/img")
    assert access.pull and access.push and access.delete and access.api
    assert "GitLab API: yes" in access.words
    async with RegistryClient(endpoint, gitlab.deploy) as c:
        access = await c.check_access("g/app/img")
    assert access.pull and access.push is False and access.api is False


async def test_api_repositories_tags_and_created_times(gitlab: GitLabEnv, tmp_path: Path) -> None:
    async with GitLabAPI(f"{gitlab.url}/api/v4", gitlab.dev) as api:
        project = await api.find_project("g/app/img")
        assert project["path_with_namespace"] == "g/app"
        [repo] = await api.project_repositories(project["id"])
        assert repo.path == "g/app/img" and repo.tag_count == 3
        assert [r.path for r in await api.group_repositories("g")] == ["g/app/img"]
        assert repo.gitlab_id is not None
        names = sorted(t.name for t in await api.tags(project["id"], repo.gitlab_id))
        assert names == ["latest", "v1", "v2"]
        details = {n: await api.tag_details(project["id"], repo.gitlab_id, n) for n in names}
    hints = {n: d.created_at for n, d in details.items() if d.created_at}
    async with RegistryClient(Endpoint(gitlab.url), gitlab.dev, cache_dir=tmp_path) as c:
        tags = await inventory.load_tags(c, "g/app/img", created_hints=hints)
    for t in tags:
        assert t.digest == details[t.tag].digest
        assert t.created == details[t.tag].created_at  # GitLab's metadata wins


async def test_catalog_refused_to_non_admins_in_words(gitlab: GitLabEnv) -> None:
    async with RegistryClient(Endpoint(gitlab.url, kind=RegistryKind.GITLAB), gitlab.dev) as c:
        with pytest.raises(E.CatalogRefused, match="GitLab API"):
            async for _ in c.iter_repositories():
                pass


async def test_deploy_token_reads_the_registry_but_never_the_api(gitlab: GitLabEnv) -> None:
    async with RegistryClient(Endpoint(gitlab.url), gitlab.deploy) as c:
        assert sorted(await c.list_tags("g/app/img")) == ["latest", "v1", "v2"]
    with pytest.raises(E.DeployTokenNoAPI):
        GitLabAPI(f"{gitlab.url}/api/v4", gitlab.deploy)


async def test_delete_tag_policy_and_visibility_through_the_api(gitlab: GitLabEnv) -> None:
    async with GitLabAPI(f"{gitlab.url}/api/v4", gitlab.dev) as api:
        project = await api.find_project("g/app/img")
        [repo] = await api.project_repositories(project["id"])
        assert repo.gitlab_id is not None
        await api.delete_tag(project["id"], repo.gitlab_id, "v2")
        names = sorted(t.name for t in await api.tags(project["id"], repo.gitlab_id))
        assert names == ["latest", "v1"]
        policy = await api.set_cleanup_policy(
            project["id"], enabled=True, cadence="7d", keep_n=5, older_than="14d", name_regex=".*"
        )
        assert policy["keep_n"] == 5 and policy["enabled"] is True
        assert (await api.cleanup_policy("g/app"))["cadence"] == "7d"
        await api.set_registry_access_level("g/app", "private")
        assert await api.registry_access_level("g/app") == "private"
        await api.set_registry_access_level("g/app", "enabled")
