"""The command line keeps the deletion failure policy the app keeps (`services.deletion`), with the
real `regview` entry point against the embedded registry over loopback:

- a GitLab API that cannot be reached is a reason to delete through the registry API, said
  once — not a failed command (the app always fell back; the command line stopped with "cannot
  reach" although the registry itself answered);
- the plan says what the profile's last Test knows — this credential cannot delete — before
  asking (the app said it; the command line did not), in the command line's words;
- a confirmation declined with several repositories named still accounts for every tag in the
  JSON output (the command returned without any output), and nothing is deleted;
- Ctrl-C during a run stops it as the app's Cancel does: the deletions under way finish, the
  rest are reported not started, and the JSON report accounts for every tag, true to what the
  registry holds (a Ctrl-C used to end the command with "interrupted" and no report).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from cli_support import Cli
from fault_servers import forward, proxy_app, serve
from gitlab_delete_support import seed_tags
from tiny_images import seed_tiny_tags

from regview.core.client.client import RegistryClient
from regview.core.model import CredentialKind, Credentials, Endpoint
from regview.server.runner import LocalRegistry
from regview.settings.profiles import Profile, SettingsStore, with_updates

pytestmark = [pytest.mark.integration]

NOW = datetime.now(UTC).replace(microsecond=0)
DEAD_API = "http://127.0.0.1:1/api/v4"  # nothing listens there


def host_of(reg: LocalRegistry) -> str:
    return reg.url.split("://", 1)[1]


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "gitlab", demo=True, auth="token") as reg:
        assert reg.demo_credentials is not None
        yield reg


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "plain") as reg:
        yield reg


async def tags_of(url: str, repository: str, creds: Credentials | None = None) -> set[str]:
    async with RegistryClient(Endpoint(url), creds) as client:
        return set(await client.list_tags(repository))


async def test_an_unreachable_gitlab_api_falls_back_and_says_so(
    gitlab: LocalRegistry, tmp_path: Path
) -> None:
    user, token = gitlab.demo_credentials or ("", "")
    creds = Credentials(user, token, CredentialKind.PERSONAL)
    repo = "oss/tools/fallback"
    async with RegistryClient(Endpoint(gitlab.url), creds) as client:
        await seed_tags(client, repo, {"a": NOW - timedelta(days=2), "b": NOW})
    cli = Cli(tmp_path)
    host = host_of(gitlab)
    r = cli("login", host, "-u", user, "--password-stdin", stdin=token)
    assert r.code == 0, r.err

    # the API named for this run does not answer (the registry does)
    r = cli("rm", f"{host}/{repo}:a", "--api", DEAD_API, "--yes", "--json")
    assert r.code == 0, r.err
    assert "127.0.0.1:1" in r.err and "Using the registry API instead" in r.err
    assert r.err.count("Using the registry API instead") == 1
    assert token not in r.err and "Traceback" not in r.err
    assert r.json()["deleted"] == ["a"]
    assert await tags_of(gitlab.url, repo, creds) == {"b"}

    # a command that needs GitLab's API still stops, with the reason, nothing deleted
    r = cli(
        "prune", f"{host}/{repo}", "--delete-regex", ".*", "--gitlab-bulk", "--api", DEAD_API,
        "--yes",
    )  # fmt: skip
    assert r.code != 0 and "127.0.0.1:1" in r.err and "Traceback" not in r.err
    assert await tags_of(gitlab.url, repo, creds) == {"b"}


async def test_the_plan_says_the_credential_cannot_delete(
    plain: LocalRegistry, tmp_path: Path
) -> None:
    async with RegistryClient(Endpoint(plain.url)) as client:
        await seed_tags(client, "team/app", {"v1": NOW, "v2": NOW - timedelta(days=1)})
    cli = Cli(tmp_path)
    profile = with_updates(
        Profile.for_endpoint(Endpoint(plain.url), username="reader"),
        cannot_delete="its scopes are read_registry",
        verified_at=NOW,
    )
    SettingsStore(cli.settings_file).update(lambda s: s.put(profile))
    r = cli("rm", f"{host_of(plain)}/team/app:v1", "--dry-run")
    assert r.code == 0, r.err
    assert "warning: This credential cannot delete here: its scopes are read_registry" in r.err
    assert "regview login" in r.err and "Manage tokens" not in r.err
    assert await tags_of(plain.url, "team/app") == {"v1", "v2"}


async def test_a_declined_confirmation_accounts_for_every_tag(
    plain: LocalRegistry, tmp_path: Path
) -> None:
    async with RegistryClient(Endpoint(plain.url)) as client:
        await seed_tags(client, "team/one", {"a": NOW, "b": NOW - timedelta(days=1)})
        await seed_tags(client, "team/two", {"c": NOW})
    host = host_of(plain)
    cli = Cli(tmp_path)
    # no --yes and no terminal: the first confirmation is declined
    r = cli("rm", f"{host}/team/one:a", f"{host}/team/one:b", f"{host}/team/two:c", "--json")
    assert r.code == 5, r.err
    assert "refusing" in r.err
    out = r.json()
    assert out["deleted"] == [] and out["failed"] == []
    skipped = {(s["repository"], s["tag"]): s["reason"] for s in out["skipped"]}
    assert set(skipped) == {("team/one", "a"), ("team/one", "b"), ("team/two", "c")}
    assert all("not confirmed" in why for why in skipped.values())
    assert await tags_of(plain.url, "team/one") == {"a", "b"}
    assert await tags_of(plain.url, "team/two") == {"c"}
    assert json.dumps(out)  # one JSON document on stdout, nothing else


def slow_deletes(upstream: str, delay: float) -> web.Application:
    """A proxy in front of `upstream` that holds every DELETE for `delay` seconds."""

    async def handle(session: ClientSession, request: web.Request) -> web.StreamResponse:
        if request.method == "DELETE":
            await asyncio.sleep(delay)
        return await forward(session, upstream, request)

    return proxy_app(handle)


def test_ctrl_c_cancels_the_run_and_still_reports_every_tag(
    plain: LocalRegistry, tmp_path: Path
) -> None:
    names = [f"t{i:04d}" for i in range(40)]

    async def seed() -> None:
        async with RegistryClient(Endpoint(plain.url)) as client:
            await seed_tiny_tags(client, "team/app", len(names))

    def listed() -> set[str]:
        return asyncio.run(tags_of(plain.url, "team/app"))

    asyncio.run(seed())
    cli = Cli(tmp_path)
    with serve(lambda: slow_deletes(plain.url, 0.5)) as proxy:
        host = proxy.split("://", 1)[1]
        images = [f"{host}/team/app:{t}" for t in names]
        proc = cli.spawn("rm", *images, "--yes", "--json")
        try:
            deadline = time.monotonic() + 60
            while len(listed()) == len(names):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no tag went"
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, err
    assert "stopping: the deletions under way finish" in err and "Traceback" not in err
    report = json.loads(out)
    tags = {t["name"]: t for t in report["tags"]}
    assert sorted(tags) == names  # every tag asked for, accounted for
    gone = {n for n, t in tags.items() if t["gone"]}
    waiting = {n for n, t in tags.items() if t["outcome"] == "not-started"}
    assert gone and waiting and gone | waiting == set(names), tags
    # true to the registry: what the report counts as gone is gone, the rest is still there
    assert listed() == waiting
    assert report["verified"] is False
    assert {s["tag"] for s in report["failed"]} == waiting
