"""`regview login --api` and `regview repos` against regview's GitLab-compatible instance: the
catalog is refused to non-admins, so repositories come from the REST API confirmed at login;
a deploy token (no API) falls back to the repository paths saved in its profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Cli
from gitlab_support import gitlab_registry, host_of
from support_images import build_image, push_layout

from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import Role, TokenKind, Visibility

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]


def test_login_with_api_then_repos_through_gitlab(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = GitLabStore(data)
    store.add_user("root", admin=True)
    store.add_user("dev")
    store.add_group("g")
    store.add_member("g", "dev", Role.DEVELOPER)
    store.add_project("g/app", Visibility.PRIVATE)
    store.add_project("g/web", Visibility.PRIVATE)
    store.close()
    img = build_image(tmp_path / "img", layer_sizes=[1024], seed=21)
    cli = Cli(tmp_path)
    with gitlab_registry(data) as (reg, admin):
        _, root = admin.add_token(TokenKind.PERSONAL, username="root", scopes={"api"})
        _, dev = admin.add_token(
            TokenKind.PERSONAL, username="dev", scopes={"read_api", "read_registry"}
        )
        deploy_tok, deploy = admin.add_token(
            TokenKind.DEPLOY, scopes={"read_registry"}, project="g/app"
        )
        host = host_of(reg.url)
        for path in ("g/app/img", "g/app", "g/web/site"):
            push_layout(img, f"{host}/{path}:v1", creds=("root", root))
        api = f"{reg.url}/api/v4"

        # without --api and no terminal: login works, the API is only suggested
        r = cli("login", host, "-u", "dev", "--password-stdin", stdin=dev)
        assert r.code == 0, r.err
        assert f"--api {api}" in r.err
        profile = json.loads(cli.settings_file.read_text())["profiles"][0]
        assert profile["kind"] == "gitlab" and profile["api_url"] == ""
        r = cli("repos", host)
        assert r.code == 3 and "GitLab" in r.err and "Traceback" not in r.err

        r = cli("login", host, "-u", "dev", "--password-stdin", "--api", api, stdin=dev)
        assert r.code == 0, r.err
        profile = json.loads(cli.settings_file.read_text())["profiles"][0]
        assert profile["api_url"] == api and profile["credential_kind"] == "personal"
        assert "GitLab API answers" in profile["verified"]
        assert dev not in cli.settings_file.read_text()

        r = cli("repos", f"{host}/g", "--json")
        assert r.code == 0, r.err
        rows = r.json()
        assert [x["path"] for x in rows] == ["g/app", "g/app/img", "g/web/site"]
        assert all(x["gitlab_project_id"] for x in rows)
        r = cli("repos", f"{host}/g/web")  # a project, not a group
        assert r.code == 0 and r.out.split()[-2:] == ["g/web/site", "1"]
        r = cli("repos", f"{host}/nope")
        assert r.code == 4 and "nope" in r.err
        r = cli("tags", f"{host}/g/app/img", "--json")
        assert r.code == 0 and [t["tag"] for t in r.json()] == ["v1"]

        # a deploy token: the API is never called; saved repository paths are listed
        cli("logout", host, "--forget")
        r = cli(
            "login",
            host,
            "-u",
            deploy_tok.username,
            "--password-stdin",
            "--api",
            api,
            stdin=deploy,
        )
        assert r.code == 0, r.err
        settings = json.loads(cli.settings_file.read_text())
        assert settings["profiles"][0]["credential_kind"] == "deploy"
        settings["profiles"][0]["repositories"] = ["g/app", "g/app/img"]
        cli.settings_file.write_text(json.dumps(settings))
        r = cli("repos", f"{host}/g/app")
        assert r.code == 0, r.err
        assert r.out.split() == ["g/app", "g/app/img"]
        r = cli("tags", f"{host}/g/app/img", "--json")
        assert r.code == 0 and r.json()[0]["digest"] == img.digest
