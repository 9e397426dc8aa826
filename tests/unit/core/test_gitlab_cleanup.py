"""core.gitlab_cleanup over httpx.MockTransport: what goes on the wire for saving a policy, a
bulk delete and a repository delete, and the refusals made before anything is sent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from regview.core import errors as E
from regview.core.deletion.policy import KeepList, Policy, PolicyError
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import (
    GitLabTarget,
    bulk_delete,
    check_gitlab_policy,
    delete_repository,
    locate,
    save_policy,
)
from regview.core.model import CredentialKind, Credentials

API = "https://gitlab.example.com/api/v4"
TOKEN = Credentials("me", "glpat-secret", CredentialKind.PERSONAL)
TARGET = GitLabTarget(7, "g/app", 42, "g/app/img")


class Recorder:
    def __init__(self, answer: Any) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        result: httpx.Response = self.answer(request)
        return result


def api_with(answer: Any) -> tuple[GitLabAPI, Recorder]:
    rec = Recorder(answer)
    return GitLabAPI(API, TOKEN, transport=httpx.MockTransport(rec)), rec


async def test_save_sends_every_rule_and_reads_next_run_back() -> None:
    stored: dict[str, Any] = {"keep_n": 10, "older_than": "90d"}

    def answer(r: httpx.Request) -> httpx.Response:
        if r.method == "PUT":
            stored.update(json.loads(r.content)["container_expiration_policy_attributes"])
            stored["next_run_at"] = "2030-01-02T03:04:05.000Z"
        return httpx.Response(200, json={"id": 7, "container_expiration_policy": stored})

    api, rec = api_with(answer)
    async with api:
        saved = await save_policy(api, TARGET, Policy("dev-.*", keep_n=5), cadence="7d")
    put = next(r for r in rec.requests if r.method == "PUT")
    assert put.url.path == "/api/v4/projects/7"
    sent = json.loads(put.content)["container_expiration_policy_attributes"]
    # unset rules go as null, so the older keep_n/older_than do not linger
    assert sent == {
        "enabled": True,
        "name_regex": "dev-.*",
        "name_regex_keep": None,
        "keep_n": 5,
        "older_than": None,
        "cadence": "7d",
    }
    assert put.headers["PRIVATE-TOKEN"] == "glpat-secret"
    assert saved.enabled and saved.next_run_at is not None and saved.next_run_at.year == 2030


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (Policy(".*", keep_n=3), "1, 5, 10, 25, 50 or 100"),
        (Policy(".*", older_than="3d"), "7d, 14d, 30d or 90d"),
        (Policy(".*", protected=("v1",)), "protected tags"),
        (Policy(".*", keep_list=KeepList(tags={"v1": "app:v1"})), "keep-list"),
    ],
)
async def test_refused_before_anything_is_sent(policy: Policy, words: str) -> None:
    api, rec = api_with(lambda r: httpx.Response(500))
    async with api:
        with pytest.raises(PolicyError, match=words):
            await save_policy(api, TARGET, policy)
    assert rec.requests == []


async def test_bulk_delete_parameters_and_once_an_hour_in_words() -> None:
    calls = 0

    def answer(r: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(202)
        return httpx.Response(
            400,
            json={
                "message": "This request has already been made. You can run this at most once an hour for a given container repository"
            },
        )

    api, rec = api_with(answer)
    policy = Policy("dev-.*|feature-.*", name_regex_keep="keep", keep_n=2, older_than="7d")
    async with api:
        await bulk_delete(api, TARGET, policy)
        with pytest.raises(E.GitLabAPIError) as info:
            await bulk_delete(api, TARGET, policy)
    r = rec.requests[0]
    assert r.method == "DELETE" and r.url.path == "/api/v4/projects/7/registry/repositories/42/tags"
    assert dict(r.url.params) == {
        "name_regex_delete": "dev-.*|feature-.*",
        "name_regex_keep": "keep",
        "keep_n": "2",
        "older_than": "7d",
    }
    assert "one bulk delete per repository per hour" in info.value.message
    assert "glpat-secret" not in info.value.message
    with pytest.raises(PolicyError):
        check_gitlab_policy(Policy(".*", protected_regex="v.*"), "GitLab's bulk delete")


async def test_locate_and_delete_repository_waits_until_gone() -> None:
    seen: list[str] = []

    def answer(r: httpx.Request) -> httpx.Response:
        seen.append(f"{r.method} {r.url.path}")
        path = r.url.path
        if path == "/api/v4/projects/g%2Fapp%2Fimg" or path == "/api/v4/projects/g/app/img":
            return httpx.Response(404, json={"message": "404 Project Not Found"})
        if path.startswith("/api/v4/projects/g") and r.method == "GET" and "registry" not in path:
            return httpx.Response(200, json={"id": 7, "path_with_namespace": "g/app"})
        if path == "/api/v4/projects/7/registry/repositories":
            rows = [{"id": 41, "path": "g/app"}, {"id": 42, "path": "g/app/img"}]
            return httpx.Response(200, json=rows)
        if r.method == "DELETE":
            return httpx.Response(202)
        if path == "/api/v4/registry/repositories/42":
            gets = sum(1 for s in seen if s == "GET /api/v4/registry/repositories/42")
            if gets < 3:
                return httpx.Response(200, json={"id": 42, "status": "delete_ongoing"})
            return httpx.Response(404, json={"message": "404 Repository Not Found"})
        return httpx.Response(418)

    api, _ = api_with(answer)
    async with api:
        target = await locate(api, "g/app/img")
        assert target == TARGET
        assert await delete_repository(api, target, wait=5.0, poll=0.01)
    assert "DELETE /api/v4/projects/7/registry/repositories/42" in seen


async def test_delete_repository_without_waiting_and_unknown_repository() -> None:
    api, rec = api_with(lambda r: httpx.Response(202))
    async with api:
        assert not await delete_repository(api, TARGET)
        with pytest.raises(E.GitLabAPIError, match="no registry repository"):
            await delete_repository(api, GitLabTarget(7, "g/app", None, "g/app/new"))
    assert len(rec.requests) == 1
