"""The GitLab instance's SQLite model: users, groups, projects, memberships, tokens."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from regview.server.errors import SchemaTooNew
from regview.server.gitlab.model import DB_NAME, GitLabStore
from regview.server.gitlab.perms import CallerKind, RegistryAccess, Role, TokenKind, Visibility
from regview.server.gitlab.records import Conflict, NotFound, hash_token


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GitLabStore]:
    s = GitLabStore(tmp_path)
    yield s
    s.close()


def test_projects_groups_and_inherited_roles(store: GitLabStore) -> None:
    alice = store.add_user("alice")
    store.add_user("bob")
    p = store.add_project("acme/tools/app", Visibility.INTERNAL, RegistryAccess.PRIVATE)
    assert store.group("acme/tools").path == "acme/tools"  # parents created
    assert store.group("acme").visibility is Visibility.PUBLIC
    assert (p.visibility, p.registry_access) == (Visibility.INTERNAL, RegistryAccess.PRIVATE)
    assert store.role(alice.id, p) is Role.NONE
    store.add_member("acme", "alice", Role.REPORTER)
    assert store.role(alice.id, p) is Role.REPORTER
    store.add_member("acme/tools/app", "alice", Role.MAINTAINER)
    assert store.role(alice.id, p) is Role.MAINTAINER
    assert store.role(store.user("bob").id, p) is Role.NONE
    assert store.role(None, p) is Role.NONE
    with pytest.raises(Conflict):
        store.add_project("acme/tools/app")
    with pytest.raises(NotFound):
        store.add_member("nope", "alice", Role.GUEST)
    with pytest.raises(ValueError, match="namespace"):
        store.add_project("lonely")


def test_personal_namespace_project_is_owned_by_its_user(store: GitLabStore) -> None:
    alice = store.add_user("alice")
    p = store.add_project("alice/sandbox")
    assert store.role(alice.id, p) is Role.OWNER
    with pytest.raises(NotFound):
        store.group("alice")


def test_image_paths_map_to_projects_up_to_two_levels_below(store: GitLabStore) -> None:
    store.add_project("acme/webshop")
    store.add_project("acme/webshop-api")
    for image in ("acme/webshop", "acme/webshop/frontend", "acme/webshop/frontend/nightly"):
        found = store.project_for_image(image)
        assert found is not None and found.path == "acme/webshop"
    assert store.project_for_image("acme/webshop/a/b/c") is None
    assert store.project_for_image("acme") is None
    assert store.project_for_image("other/thing") is None
    api = store.project_for_image("acme/webshop-api/x")
    assert api is not None and api.path == "acme/webshop-api"


def test_tokens_are_stored_hashed_and_resolve_to_callers(
    store: GitLabStore, tmp_path: Path
) -> None:
    store.add_user("alice", admin=True)
    store.add_project("acme/app")
    tok, secret = store.add_token(
        TokenKind.PERSONAL, username="alice", scopes={"read_registry", "api"}
    )
    assert secret.startswith("glpat-") and len(secret) > 25
    raw = sqlite3.connect(tmp_path / DB_NAME).execute("SELECT token_sha256 FROM tokens").fetchall()
    assert raw == [(hash_token(secret),)]
    assert secret not in (tmp_path / DB_NAME).read_bytes().decode("latin-1")
    found = store.find_token(secret)
    assert found == tok and found.active()
    ident = store.identify(found)
    assert ident.caller.kind is CallerKind.PERSONAL and ident.caller.admin
    assert ident.username == "alice"
    assert store.find_token(secret + "x") is None

    dep, dsecret = store.add_token(TokenKind.DEPLOY, scopes={"read_registry"}, project="acme/app")
    assert dep.username == f"gitlab+deploy-token-{dep.id}" and dsecret.startswith("gldt-")
    assert store.identify(dep).caller.bound_project_id == store.project("acme/app").id

    job, jsecret = store.add_token(TokenKind.JOB, username="alice", project="acme/app")
    assert job.username == "gitlab-ci-token" and jsecret.startswith("glcbt-")
    assert not store.identify(job).caller.admin  # only personal tokens carry admin rights


def test_project_tokens_get_a_bot_member(store: GitLabStore) -> None:
    p = store.add_project("acme/app")
    tok, _ = store.add_token(
        TokenKind.PROJECT, username="acme-bot", scopes={"read_registry"}, project="acme/app"
    )
    bot = store.user("acme-bot")
    assert bot.bot and store.role(bot.id, p) is Role.MAINTAINER
    assert store.identify(tok).caller.bound_project_id == p.id
    gtok, _ = store.add_token(
        TokenKind.GROUP, username="g-bot", scopes={"api"}, group="acme", role=Role.DEVELOPER
    )
    assert store.identify(gtok).caller.bound_group == "acme"
    assert store.role(store.user("g-bot").id, p) is Role.DEVELOPER


def test_expiry_and_revocation(store: GitLabStore) -> None:
    store.add_user("alice")
    past = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    tok, _ = store.add_token(TokenKind.PERSONAL, username="alice", scopes={"api"}, expires_at=past)
    assert not tok.active()
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    tok2, _ = store.add_token(
        TokenKind.PERSONAL, username="alice", scopes={"api"}, expires_at=future
    )
    assert tok2.active()
    assert not store.revoke_token(tok2.id).active()
    with pytest.raises(NotFound):
        store.revoke_token(999)


def test_bad_token_requests(store: GitLabStore) -> None:
    store.add_user("alice")
    with pytest.raises(ValueError, match="unknown scope"):
        store.add_token(TokenKind.PERSONAL, username="alice", scopes={"sudo"})
    with pytest.raises(ValueError, match="--project"):
        store.add_token(TokenKind.JOB, username="alice")
    with pytest.raises(ValueError, match="--project"):
        store.add_token(TokenKind.DEPLOY, scopes={"read_registry"})
    with pytest.raises(NotFound):
        store.add_token(TokenKind.PERSONAL, username="carol", scopes={"api"})


def test_bulk_delete_lease_is_once_an_hour(store: GitLabStore) -> None:
    p = store.add_project("acme/app")
    repo = store.ensure_repository("acme/app/web", p.id)
    assert store.ensure_repository("acme/app/web", p.id).id == repo.id
    assert store.claim_bulk_delete(repo.id, 1000.0)
    assert not store.claim_bulk_delete(repo.id, 1000.0 + 3599)
    assert store.claim_bulk_delete(repo.id, 1000.0 + 3600)


def test_schema_version_is_recorded_and_newer_refused(tmp_path: Path) -> None:
    GitLabStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / DB_NAME)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(SchemaTooNew, match="newer regview"):
        GitLabStore(tmp_path)


def test_data_survives_reopening(tmp_path: Path) -> None:
    s = GitLabStore(tmp_path)
    s.add_project("acme/app", Visibility.PUBLIC)
    s.close()
    s2 = GitLabStore(tmp_path)
    assert s2.project("acme/app").visibility is Visibility.PUBLIC
    s2.close()
