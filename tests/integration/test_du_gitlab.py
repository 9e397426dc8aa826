"""`regview du` on regview's GitLab-compatible instance: repositories come from the REST API,
and GitLab's own size of each stands beside what regview counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli
from gitlab_support import gitlab_registry, host_of
from support_images import build_image, push_layout

from regview.cli.cmd_du import DU_KEYS_DOC
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import Role, TokenKind, Visibility

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]


def test_du_through_the_gitlab_api_with_gitlabs_size(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = GitLabStore(data)
    store.add_user("dev")
    store.add_group("g")
    store.add_member("g", "dev", Role.DEVELOPER)
    store.add_project("g/app", Visibility.PRIVATE)
    store.close()
    small = build_image(tmp_path / "small", layer_sizes=[2_000], seed=1)
    big = build_image(tmp_path / "big", layer_sizes=[50_000, 30_000], seed=2)
    cli = Cli(tmp_path)
    with gitlab_registry(data) as (reg, admin):
        _, token = admin.add_token(
            TokenKind.PERSONAL, username="dev", scopes={"api", "read_registry", "write_registry"}
        )
        host = host_of(reg.url)
        push_layout(small, f"{host}/g/app:1", creds=("dev", token))
        push_layout(big, f"{host}/g/app/worker:1", creds=("dev", token))
        push_layout(big, f"{host}/g/app/worker:2", creds=("dev", token))  # the same digest
        env = {"REGVIEW_USERNAME": "dev", "REGVIEW_PASSWORD": token}
        r = cli("du", f"{host}/g", "--api", f"{reg.url}/api/v4", "--json", env=env)
        assert r.code == 0, r.err
        rows = r.json()
        assert [row["repository"] for row in rows] == ["g/app/worker", "g/app"]  # largest first
        assert all(set(row) == DU_KEYS_DOC for row in rows)
        worker, app = rows
        assert worker["tags"] == 2 and worker["stored"] == big.blob_bytes()  # counted once
        assert app["stored"] == small.blob_bytes()
        assert worker["gitlab_size"] is not None and app["gitlab_size"] is not None
        r = cli("du", f"{host}/g", "--api", f"{reg.url}/api/v4", env=env)
        assert r.code == 0, r.err
        assert "GITLAB SAYS" in r.out.splitlines()[0]
