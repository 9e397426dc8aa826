"""The embedded GitLab instance through python-gitlab, a real GitLab API client: if it can sign
in, read the token's own record, list projects and registry repositories, read and delete tags,
then GitLab's own clients agree that the instance speaks GitLab's API (not only regview's reading
of it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gitlab
import gitlab.exceptions
import pytest

from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import TokenKind
from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration]


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[tuple[LocalRegistry, GitLabStore, str]]:
    """The demo GitLab instance (groups acme, oss; user demo) and the demo user's token."""
    store = GitLabStore(tmp_path / "data")
    try:
        with LocalRegistry(tmp_path / "data", auth="token", demo=True) as reg:
            assert reg.demo_credentials is not None
            yield reg, store, reg.demo_credentials[1]
    finally:
        store.close()


def client(url: str, token: str) -> gitlab.Gitlab:
    return gitlab.Gitlab(url, private_token=token, retry_transient_errors=False)


def test_auth_user_and_the_tokens_own_record(
    instance: tuple[LocalRegistry, GitLabStore, str],
) -> None:
    reg, store, token = instance
    with client(reg.url, token) as gl:
        gl.auth()
        user = gl.user
        assert user is not None
        assert user.username == "demo" and user.state == "active" and user.bot is False
        assert user.web_url == f"{reg.url}/demo"

        me = gl.personal_access_tokens.get("self")
        assert me.name == "regview demo"
        assert me.scopes == ["api", "read_registry", "write_registry"]
        assert me.active is True and me.revoked is False and me.expires_at is None
        assert me.user_id == user.id
        same = gl.personal_access_tokens.get(me.id)
        assert same.id == me.id and same.scopes == me.scopes

        # someone else's token is not found (GitLab does not say it exists)
        other, _ = store.add_token(TokenKind.PERSONAL, username="root", scopes={"api"})
        with pytest.raises(gitlab.exceptions.GitlabGetError) as caught:
            gl.personal_access_tokens.get(other.id)
        assert caught.value.response_code == 404


def test_a_registry_only_token_reads_its_record_but_not_the_user(
    instance: tuple[LocalRegistry, GitLabStore, str],
) -> None:
    reg, store, _ = instance
    expires = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    _, secret = store.add_token(
        TokenKind.PERSONAL,
        username="demo",
        scopes={"read_registry"},
        expires_at=expires,
        name="pull only",
    )
    with client(reg.url, secret) as gl:
        me = gl.personal_access_tokens.get("self")
        assert me.scopes == ["read_registry"] and me.expires_at == expires and me.active
        with pytest.raises(gitlab.exceptions.GitlabGetError) as caught:
            gl.auth()
        assert caught.value.response_code == 403  # insufficient_scope, as GitLab answers


def test_an_expired_token_gets_gitlabs_invalid_token_answer(
    instance: tuple[LocalRegistry, GitLabStore, str],
) -> None:
    reg, store, _ = instance
    _, secret = store.add_token(
        TokenKind.PERSONAL, username="demo", scopes={"api"}, expires_at="2020-01-01"
    )
    with (
        client(reg.url, secret) as gl,
        pytest.raises(gitlab.exceptions.GitlabAuthenticationError) as caught,
    ):
        gl.auth()
    assert caught.value.response_code == 401
    assert caught.value.error_message == "invalid_token"
    assert b"Token has expired." in caught.value.response_body


def test_projects_repositories_tags_and_deletes(
    instance: tuple[LocalRegistry, GitLabStore, str],
) -> None:
    reg, _, token = instance
    with client(reg.url, token) as gl:
        paths = {p.path_with_namespace for p in gl.projects.list(membership=True, get_all=True)}
        assert {"acme/webshop", "oss/tools"} <= paths
        project = gl.projects.get("acme/webshop")
        repos = project.repositories.list(get_all=True)
        assert repos, "the demo project has registry repositories"
        repo = repos[0]
        assert repo.path.startswith("acme/webshop")
        tags = repo.tags.list(get_all=True)
        assert len(tags) >= 2
        detail = repo.tags.get(tags[0].name)
        assert detail.name == tags[0].name and detail.digest.startswith("sha256:")
        assert detail.total_size > 0

        detail.delete()
        after = {t.name for t in repo.tags.list(get_all=True)}
        assert tags[0].name not in after and len(after) == len(tags) - 1

        assert len(after) > 2, "the bulk delete below has something to delete"
        repo.tags.delete_in_bulk(name_regex_delete=".*", keep_n=1)
        # GitLab deletes in the background (the instance within its async delay); it keeps the
        # newest tag (keep_n=1) and never deletes `latest`
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(repo.tags.list(get_all=True)) > 2:
            time.sleep(0.1)
        left = {t.name for t in repo.tags.list(get_all=True)}
        assert "latest" in left and len(left) == 2
