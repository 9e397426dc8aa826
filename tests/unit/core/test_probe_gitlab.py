"""probe() classification and the GitLab REST client's wire format, over MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from regview.core import errors as E
from regview.core.gitlab.api import GitLabAPI
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.core.probe import probe


def answering(status: int, headers: dict[str, str], body: bytes = b"{}") -> httpx.MockTransport:
    return httpx.MockTransport(lambda r: httpx.Response(status, headers=headers, content=body))


async def test_probe_gitlab_from_header_and_realm() -> None:
    t = answering(
        401,
        {
            "Gitlab-Container-Registry-Version": "v4.9.0-gitlab",
            "WWW-Authenticate": 'Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry"',
        },
    )
    result = await probe(Endpoint("https://registry.example.com"), transport=t)
    assert result.kind == RegistryKind.GITLAB
    assert result.auth_required and result.auth_scheme == "bearer"
    assert result.api_url == "https://gitlab.example.com/api/v4"
    assert result.version == "v4.9.0-gitlab"
    assert "confirm" in result.message


async def test_probe_anonymous_generic_and_basic() -> None:
    open_reg = await probe(
        Endpoint("http://127.0.0.1:5000"),
        transport=answering(200, {"Docker-Distribution-API-Version": "registry/2.0"}),
    )
    assert open_reg.kind == RegistryKind.GENERIC and not open_reg.auth_required
    basic = await probe(
        Endpoint("https://r.example"),
        transport=answering(401, {"WWW-Authenticate": 'Basic realm="x"'}),
    )
    assert basic.auth_scheme == "basic" and "username and password" in basic.message


async def test_probe_known_hosts() -> None:
    hub = await probe(
        Endpoint("https://registry-1.docker.io"),
        transport=answering(
            401, {"WWW-Authenticate": 'Bearer realm="https://auth.docker.io/token"'}
        ),
    )
    assert hub.kind == RegistryKind.DOCKER_HUB
    harbor = await probe(
        Endpoint("https://harbor.example"),
        transport=answering(
            401, {"WWW-Authenticate": 'Bearer realm="https://harbor.example/service/token"'}
        ),
    )
    assert harbor.kind == RegistryKind.HARBOR
    gl = await probe(Endpoint("https://registry.gitlab.com"), transport=answering(200, {}))
    assert gl.api_url == "https://gitlab.com/api/v4"


async def test_probe_html_page_is_not_a_registry() -> None:
    t = answering(200, {"Content-Type": "text/html"}, b"<!doctype html><html></html>")
    with pytest.raises(E.NotARegistry, match="web UI"):
        await probe(Endpoint("https://gitlab.example.com"), transport=t)


async def test_probe_refuses_plain_http_to_remote_hosts() -> None:
    with pytest.raises(E.InsecureRefused):
        await probe(Endpoint("http://registry.example.com"), transport=answering(200, {}))


class FakeGitLab:
    def __init__(self) -> None:
        self.log: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.log.append(request)
        path = request.url.raw_path.decode().split("?")[0]
        if path == "/api/v4/version":
            return httpx.Response(200, json={"version": "17.5.0", "revision": "x"})
        if path == "/api/v4/projects/group%2Fproject":
            return httpx.Response(
                200,
                json={
                    "id": 7,
                    "path_with_namespace": "group/project",
                    "container_registry_access_level": "private",
                    "container_expiration_policy": {"cadence": "1d", "keep_n": 10, "enabled": True},
                },
            )
        if (
            path.startswith("/api/v4/projects/")
            and request.method == "GET"
            and "registry" not in path
        ):
            return httpx.Response(404, json={"message": "404 Project Not Found"})
        if path == "/api/v4/projects/7/registry/repositories":
            page = int(request.url.params.get("page", "1"))
            items = [
                {
                    "id": page * 10 + i,
                    "name": "",
                    "path": f"group/project/r{page}{i}",
                    "project_id": 7,
                    "location": f"reg/group/project/r{page}{i}",
                    "created_at": "2024-01-01T00:00:00Z",
                    "tags_count": i,
                    "status": None,
                }
                for i in range(2)
            ]
            return httpx.Response(
                200, headers={"x-next-page": "2" if page == 1 else ""}, json=items
            )
        if path.endswith("/tags/v1") and request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "name": "v1",
                    "digest": "sha256:" + "a" * 64,
                    "revision": "b" * 64,
                    "created_at": "2024-02-02T00:00:00Z",
                    "total_size": 1234,
                },
            )
        if path.endswith("/tags") and request.method == "DELETE":
            return httpx.Response(
                400,
                json={
                    "message": "This request has already been made. You can run this at most once an hour for a given container repository"
                },
            )
        if request.method in ("DELETE", "PUT"):
            return httpx.Response(
                200,
                json={
                    "container_expiration_policy": json.loads(request.content or b"{}").get(
                        "container_expiration_policy_attributes"
                    )
                },
            )
        return httpx.Response(404, json={"message": "404 Not Found"})


async def test_gitlab_api_wire_format() -> None:
    gl = FakeGitLab()
    creds = Credentials("alice", "glpat-secret", CredentialKind.PERSONAL)
    async with GitLabAPI(
        "https://gitlab.example.com/api/v4", creds, transport=httpx.MockTransport(gl.handler)
    ) as api:
        assert (await api.version())["version"] == "17.5.0"
        project = await api.find_project("group/project/sub/image")
        assert project["id"] == 7
        repos = await api.project_repositories(7)
        assert [r.path for r in repos] == [
            f"group/project/r{p}{i}" for p in (1, 2) for i in range(2)
        ]
        assert repos[1].tag_count == 1 and repos[0].gitlab_project_id == 7
        tag = await api.tag_details(7, 10, "v1")
        assert tag.digest.startswith("sha256:") and tag.total_size == 1234 and tag.created_at
        with pytest.raises(E.GitLabAPIError, match="one bulk delete per repository per hour"):
            await api.bulk_delete(7, 10, name_regex_delete=".*", keep_n=5, older_than="7d")
        policy = await api.set_cleanup_policy(7, enabled=True, keep_n=5)
        assert policy == {"enabled": True, "keep_n": 5}
        assert await api.registry_access_level("group/project") == "private"
    assert all(r.headers["PRIVATE-TOKEN"] == "glpat-secret" for r in gl.log)
    tried = [
        r.url.raw_path.decode() for r in gl.log if "/projects/group" in r.url.raw_path.decode()
    ]
    assert tried[:3] == [
        "/api/v4/projects/group%2Fproject%2Fsub%2Fimage",
        "/api/v4/projects/group%2Fproject%2Fsub",
        "/api/v4/projects/group%2Fproject",
    ]
    bulk = next(r for r in gl.log if r.method == "DELETE")
    assert bulk.url.params["name_regex_delete"] == ".*" and bulk.url.params["keep_n"] == "5"


def test_deploy_tokens_never_reach_the_api() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    creds = Credentials("gitlab+deploy-token-1", "gldt-x", CredentialKind.DEPLOY)
    with pytest.raises(E.DeployTokenNoAPI, match="deploy tokens cannot use the GitLab API"):
        GitLabAPI(
            "https://gitlab.example.com/api/v4", creds, transport=httpx.MockTransport(handler)
        )


async def test_job_token_header_and_401_hint() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("JOB-TOKEN"))
        return httpx.Response(401, json={"message": "401 Unauthorized"})

    creds = Credentials("gitlab-ci-token", "job-secret", CredentialKind.JOB)
    async with GitLabAPI(
        "https://gitlab.example.com/api/v4", creds, transport=httpx.MockTransport(handler)
    ) as api:
        with pytest.raises(E.GitLabAPIError, match="wrong, expired or revoked") as info:
            await api.project(7)
    assert seen == ["job-secret"]
    assert "job-secret" not in info.value.message
