"""Deletion on GitLab through the command line, against the embedded GitLab-compatible instance
(`LocalRegistry(demo=True, auth="token")`) over loopback sockets:

- `prune --dry-run --json` predicts exactly what the server's bulk delete then deletes with the
  same rules: `core/deletion/policy.py` and `server/gitlab/policy.py` are two independent implementations
  of GitLab's rules and must agree (latest, keep_n with ties and unknown dates, older_than, keep
  patterns, a top-level '|');
- `--save-to-gitlab` round trip (read back by the API, next_run_at shown);
- a deploy token: refused by the API in words, the registry API used instead;
- `rm --repository` through GitLab's API (typed confirmation / --yes), and through the planner on
  a registry without GitLab;
- `rm` and `trash restore` with the credential `regview login` stored in the (file) keyring.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import Cli
from gitlab_delete_support import seed_tags

from regview.core.client.client import RegistryClient
from regview.core.deletion.executor import Executor
from regview.core.deletion.plan import Method, PlanOptions, Selection, make_plan
from regview.core.deletion.port import ClientPort, gather_facts
from regview.core.gitlab.api import GitLabAPI
from regview.core.gitlab.cleanup import locate
from regview.core.journal.journal import Journal
from regview.core.model import CredentialKind, Credentials, Endpoint
from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration]

NOW = datetime.now(UTC).replace(microsecond=0)


def days(n: float) -> datetime:
    return NOW - timedelta(days=n)


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "gitlab", demo=True, auth="token") as reg:
        assert reg.demo_credentials is not None
        yield reg


def host_of(reg: LocalRegistry) -> str:
    return reg.url.split("://", 1)[1]


def demo_creds(reg: LocalRegistry) -> Credentials:
    assert reg.demo_credentials is not None
    user, token = reg.demo_credentials
    return Credentials(user, token, CredentialKind.PERSONAL)


def login(cli: Cli, reg: LocalRegistry, user: str, token: str, *extra: str) -> None:
    api = f"{reg.url}/api/v4"
    r = cli(
        "login", host_of(reg), "-u", user, "--password-stdin", "--api", api, *extra, stdin=token
    )
    assert r.code == 0, r.err


async def tags_of(reg: LocalRegistry, repository: str) -> set[str]:
    async with RegistryClient(Endpoint(reg.url), demo_creds(reg)) as client:
        return set(await client.list_tags(repository))


async def wait_for_change(reg: LocalRegistry, repository: str, before: set[str]) -> set[str]:
    """GitLab's bulk delete runs in the background: poll (bounded) until the tags change."""
    for _ in range(60):
        now = await tags_of(reg, repository)
        if now != before:
            await asyncio.sleep(0.3)  # let the job finish the batch
            return await tags_of(reg, repository)
        await asyncio.sleep(0.25)
    return before


# name → (tags with their creation time, prune arguments)
CASES: dict[str, tuple[dict[str, datetime | None], list[str]]] = {
    "oss/tools/prune-a": (
        {
            "latest": days(100),
            "dev-1": days(30),
            "dev-alias": days(30),  # same manifest as dev-1: a tie for keep_n, broken by name
            "dev-2": days(20),
            "dev-3": days(10),
            "dev-4": days(2),
            "dev-5": days(1),
            "dev-unknown": None,  # no creation time: counts as newest
            "feature-x": days(40),
            "old-feature-z": days(50),  # top-level '|': only `\Adev-.*` and `feature-.*\z`
            "xdev-1": days(60),
            "main": days(90),
        },
        ["--delete-regex", "dev-.*|feature-.*", "--keep-n", "2", "--older-than", "7d"],
    ),
    "oss/tools/prune-b": (
        {
            "latest": None,
            "v1.0": days(100),
            "v1.0-rc": days(
                90
            ),  # the keep pattern's first alternative is anchored at the start only
            "v2": days(80),
            "main": days(70),
            "xmain": days(60),  # ... and its last at the end only
            "build-1": days(50),
            "build-2": days(40),
            "build-3": days(30),
            "build-4": days(20),
            "build-5": days(10),
            "nightly": None,
        },
        ["--delete-regex", ".*", "--keep-regex", r"v\d+\.\d+|main", "--keep-n", "3"],
    ),
}
EXPECTED_DELETE = {
    "oss/tools/prune-a": {"dev-1", "dev-alias", "dev-2", "dev-3", "feature-x", "old-feature-z"},
    "oss/tools/prune-b": {"build-1", "build-2", "build-3", "v2"},
}


@pytest.mark.slow
async def test_prune_preview_matches_gitlab_bulk_delete(
    gitlab: LocalRegistry, tmp_path: Path
) -> None:
    cli = Cli(tmp_path)
    user, token = gitlab.demo_credentials or ("", "")
    async with RegistryClient(Endpoint(gitlab.url), demo_creds(gitlab)) as client:
        for repo, (tags, _) in CASES.items():
            await seed_tags(client, repo, tags)
    login(cli, gitlab, user, token)
    host = host_of(gitlab)
    for repo, (tags, rules) in CASES.items():
        r = cli("prune", f"{host}/{repo}", *rules, "--dry-run", "--json")
        assert r.code == 0, r.err
        preview = r.json()
        predicted = {d["tag"] for d in preview["delete"]}
        assert predicted == EXPECTED_DELETE[repo]
        assert predicted | {d["tag"] for d in preview["keep"]} == set(tags)
        assert {d["tag"]: d["reason"] for d in preview["keep"]}["latest"].startswith("'latest'")
        if repo.endswith("-a"):
            assert "top-level '|'" in r.err

        r = cli("prune", f"{host}/{repo}", *rules, "--gitlab-bulk", "--yes", "--json")
        assert r.code == 0, r.err
        assert r.json()["bulk_delete"] == "accepted"
        after = await wait_for_change(gitlab, repo, set(tags))
        # the server's own implementation of GitLab's rules deleted exactly the preview
        assert after == set(tags) - predicted

        # once an hour per repository: GitLab's 400 comes back in words, exit 1 (the old
        # rules select nothing now, so '.*' makes regview send the request)
        r = cli("prune", f"{host}/{repo}", "--delete-regex", ".*", "--gitlab-bulk", "--yes")
        assert r.code == 1, r.err
        assert "one bulk delete per repository per hour" in r.err
        assert "Traceback" not in r.err and token not in r.err


async def test_save_policy_to_gitlab_round_trip(gitlab: LocalRegistry, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    user, token = gitlab.demo_credentials or ("", "")
    async with RegistryClient(Endpoint(gitlab.url), demo_creds(gitlab)) as client:
        await seed_tags(client, "oss/tools/app", {"dev-1": days(20), "dev-2": days(1)})
        await seed_tags(client, "acme/webshop/app", {"dev-1": days(20)})
    login(cli, gitlab, user, token)
    host = host_of(gitlab)
    rules = ["--delete-regex", "dev-.*", "--keep-n", "5", "--older-than", "14d"]

    # without --yes and no terminal: refused, nothing saved
    r = cli("prune", f"{host}/oss/tools/app", *rules, "--save-to-gitlab")
    assert r.code == 5 and "refusing" in r.err

    r = cli(
        "prune",
        f"{host}/oss/tools/app",
        *rules,
        "--save-to-gitlab",
        "--cadence",
        "7d",
        "--yes",
        "--json",
    )
    assert r.code == 0, r.err
    out = r.json()
    assert out["project"] == "oss/tools"
    saved = out["policy"]
    assert (saved["name_regex"], saved["keep_n"], saved["older_than"]) == ("dev-.*", 5, "14d")
    assert saved["enabled"] is True and saved["cadence"] == "7d"
    next_run = datetime.fromisoformat(out["next_run_at"].replace("Z", "+00:00"))
    assert timedelta(days=6) < next_run - datetime.now(UTC) <= timedelta(days=7)
    # read back independently through the API
    async with GitLabAPI(f"{gitlab.url}/api/v4", demo_creds(gitlab)) as api:
        policy = await api.cleanup_policy("oss/tools")
    assert policy["name_regex"] == "dev-.*" and policy["keep_n"] == 5
    assert policy["older_than"] == "14d" and policy["next_run_at"]
    # nothing was deleted by saving
    assert await tags_of(gitlab, "oss/tools/app") == {"dev-1", "dev-2"}

    r = cli("prune", f"{host}/oss/tools/app", *rules, "--save-to-gitlab", "--yes")
    assert r.code == 0 and "next run: " in r.out

    # a value GitLab's policy form does not offer: refused before anything is sent
    r = cli(
        "prune",
        f"{host}/oss/tools/app",
        "--delete-regex",
        ".*",
        "--keep-n",
        "3",
        "--save-to-gitlab",
        "--yes",
    )
    assert r.code == 2 and "1, 5, 10, 25, 50 or 100" in r.err
    # regview's own rules cannot be saved to GitLab
    r = cli(
        "prune",
        f"{host}/oss/tools/app",
        "--delete-regex",
        ".*",
        "--protect",
        "dev-1",
        "--save-to-gitlab",
        "--yes",
    )
    assert r.code == 2 and "protected tags" in r.err
    # demo is only a developer of acme: GitLab refuses, in words, exit 3
    r = cli("prune", f"{host}/acme/webshop/app", *rules, "--save-to-gitlab", "--yes")
    assert r.code == 3, r.err
    assert "Maintainer" in r.err and "Traceback" not in r.err


async def test_deploy_token_falls_back_to_registry_api(
    gitlab: LocalRegistry, tmp_path: Path
) -> None:
    cli = Cli(tmp_path)
    async with RegistryClient(Endpoint(gitlab.url), demo_creds(gitlab)) as client:
        await seed_tags(
            client, "oss/tools/svc", {"dev-1": days(20), "dev-2": days(10), "v1": days(5)}
        )
    r = cli(
        "local", "token", "add", "--kind", "deploy", "--project", "oss/tools",
        "--scopes", "read_registry,write_registry", "--data", str(gitlab.data_dir),
    )  # fmt: skip
    assert r.code == 0, r.err
    fields = dict(line.split(": ", 1) for line in r.out.splitlines())
    login(cli, gitlab, fields["username"], fields["token"])
    host = host_of(gitlab)

    r = cli("prune", f"{host}/oss/tools/svc", "--delete-regex", "dev-.*", "--yes", "--json")
    assert r.code == 0, r.err
    assert "deploy tokens cannot use the GitLab API" in r.err
    assert "Using the registry API instead" in r.err
    assert sorted(r.json()["deleted"]) == ["dev-1", "dev-2"]
    assert await tags_of(gitlab, "oss/tools/svc") == {"v1"}

    # GitLab's own paths need the API: a clear refusal, exit 3, nothing deleted
    r = cli("prune", f"{host}/oss/tools/svc", "--delete-regex", ".*", "--gitlab-bulk", "--yes")
    assert r.code == 3 and "deploy tokens cannot use the GitLab API" in r.err
    assert fields["token"] not in r.err
    assert await tags_of(gitlab, "oss/tools/svc") == {"v1"}


@pytest.mark.slow
async def test_rm_tags_and_repository_with_the_saved_login(
    gitlab: LocalRegistry, tmp_path: Path
) -> None:
    cli = Cli(tmp_path)
    user, token = gitlab.demo_credentials or ("", "")
    repo, doomed = "oss/tools/web", "oss/tools/old"
    async with RegistryClient(Endpoint(gitlab.url), demo_creds(gitlab)) as client:
        before = await seed_tags(client, repo, {"v1": days(3), "v1-alias": days(3), "v2": days(1)})
        await seed_tags(client, doomed, {"a": days(9), "b": days(8)})
    host = host_of(gitlab)
    # before login: anonymous may not delete in a token-auth registry
    r = cli("rm", f"{host}/{repo}:v1", "--yes")
    assert r.code == 3, r.err

    login(cli, gitlab, user, token)  # the token goes to the (file) keyring
    assert token in json.dumps(cli.keyring()) and token not in cli.settings_file.read_text()
    r = cli("rm", f"{host}/{repo}:v1", "--yes", "--json")
    assert r.code == 0, r.err
    assert r.json()["deleted"] == ["v1"]
    assert await tags_of(gitlab, repo) == {"v1-alias", "v2"}
    r = cli("trash", "list", "--json")
    entry = next(e for e in r.json() if e["repository"] == repo)
    r = cli("trash", "restore", entry["id"])
    assert r.code == 0 and "restored: v1" in r.out, r.out + r.err
    async with RegistryClient(Endpoint(gitlab.url), demo_creds(gitlab)) as client:
        assert (await client.head_manifest(repo, "v1")).digest == before["v1"]

    # a whole repository: no --yes and no terminal → refused, nothing deleted
    r = cli("rm", "--repository", f"{host}/{doomed}")
    assert r.code == 5 and "refusing" in r.err
    r = cli("rm", "--repository", f"{host}/{doomed}", "--dry-run", "--json")
    assert r.code == 0 and r.json()["method"] == "gitlab-api" and r.json()["tags"] == ["a", "b"]
    assert await tags_of(gitlab, doomed) == {"a", "b"}
    r = cli("rm", "--repository", f"{host}/{doomed}", "--yes", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["status"] == "deleted" and sorted(out["deleted"]) == ["a", "b"]
    r = cli("repos", f"{host}/oss/tools", "--json")
    assert doomed not in {x["path"] for x in r.json()}
    r = cli("trash", "list", "--json")
    (gone,) = [e for e in r.json() if e["repository"] == doomed]
    assert {i["name"]: i["state"] for i in gone["items"]} == {"a": "deleted", "b": "deleted"}
    assert all(i["saved"] for i in gone["items"])
    # GitLab dropped the repository's layers with it: restore says so per tag, exit 1
    r = cli("trash", "restore", gone["id"])
    assert r.code == 1 and "NOT restored: a" in r.out and "blob" in r.out, r.out + r.err


async def test_gitlab_tag_api_path_gets_project_and_repository_ids(gitlab: LocalRegistry) -> None:
    """Where the planner chooses GitLab's tag API, the ids reach the plan and the executor
    deletes through `DELETE /projects/:id/registry/repositories/:rid/tags/:tag`."""
    creds = demo_creds(gitlab)
    repo = "oss/tools/api"
    async with RegistryClient(Endpoint(gitlab.url), creds) as client:
        before = await seed_tags(client, repo, {"a": days(2), "a-alias": days(2), "b": days(1)})
        async with GitLabAPI(f"{gitlab.url}/api/v4", creds) as api:
            target = await locate(api, repo)
            assert target.project_path == "oss/tools" and target.repository_id is not None
            port = ClientPort(client, api)
            facts = await gather_facts(
                port,
                repo,
                gitlab_project_id=target.project_id,
                gitlab_repository_id=target.repository_id,
            )
            assert facts.capabilities.gitlab_tag_api
            # as on a GitLab without the OCI tag delete route
            facts = replace(facts, capabilities=replace(facts.capabilities, tag_delete=False))
            plan = make_plan(facts, Selection.of_tags(["a"]), PlanOptions())
            assert [x.method for x in plan.tag_actions] == [Method.GITLAB_API]
            report = await Executor(port, Journal()).run(plan)
            assert report.ok, report.results
        assert set(await client.list_tags(repo)) == {"a-alias", "b"}
        assert (await client.head_manifest(repo, "a-alias")).digest == before["a"]


async def test_rm_repository_without_gitlab_goes_through_the_planner(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    with LocalRegistry(tmp_path / "plain") as reg:
        async with RegistryClient(Endpoint(reg.url)) as client:
            await seed_tags(client, "team/old", {"a": days(3), "a2": days(3), "b": days(1)})
            await seed_tags(client, "team/keep", {"x": days(1)})
        host = host_of(reg)
        r = cli("rm", "--repository", f"{host}/team/old", "--yes", "--json")
        assert r.code == 0, r.err
        assert sorted(r.json()["deleted"]) == ["a", "a2", "b"]
        async with RegistryClient(Endpoint(reg.url)) as client:
            assert await client.list_tags("team/old") == []
            assert await client.list_tags("team/keep") == ["x"]
        r = cli("rm", "--repository", f"{host}/team/keep:x", "--yes")
        assert r.code == 2 and "without a tag" in r.err
        r = cli("rm", f"{host}/team/keep:x", "--repository", f"{host}/team/keep")
        assert r.code == 2
