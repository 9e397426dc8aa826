"""`regview local user|group|project|member|token` against a data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from regview.cli.main import run
from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import RegistryAccess, Role, TokenKind, Visibility


def test_local_admin_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    assert run(["local", "user", "add", "alice", "--data", data]) == 0
    assert run(["local", "user", "add", "root", "--admin", "--data", data]) == 0
    assert run(["local", "group", "add", "acme/tools", "--data", data]) == 0
    argv = ["local", "project", "add", "acme/tools/app", "--visibility", "internal"]
    assert run([*argv, "--registry-access", "private", "--data", data]) == 0
    assert run(["local", "member", "add", "acme", "alice", "developer", "--data", data]) == 0
    capsys.readouterr()
    argv = ["local", "token", "add", "--user", "alice", "--kind", "personal"]
    assert run([*argv, "--scopes", "read_registry,write_registry", "--data", data]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "username: alice" and out[1].startswith("token: glpat-")
    secret = out[1].split(": ", 1)[1]
    argv = ["local", "token", "add", "--kind", "deploy", "--scopes", "read_registry"]
    assert (
        run([*argv, "--project", "acme/tools/app", "--expires", "2099-01-01", "--data", data]) == 0
    )
    out = capsys.readouterr().out
    assert "username: gitlab+deploy-token-2" in out
    argv = [
        "local",
        "token",
        "add",
        "--user",
        "alice",
        "--kind",
        "job",
        "--project",
        "acme/tools/app",
    ]
    assert run([*argv, "--data", data]) == 0
    assert "username: gitlab-ci-token" in capsys.readouterr().out
    assert run(["local", "token", "revoke", "1", "--data", data]) == 0
    assert run(["local", "token", "list", "--data", data]) == 0
    listing = capsys.readouterr().out
    assert "revoked" in listing and secret not in listing

    store = GitLabStore(Path(data))
    try:
        project = store.project("acme/tools/app")
        assert (project.visibility, project.registry_access) == (
            Visibility.INTERNAL,
            RegistryAccess.PRIVATE,
        )
        assert store.role(store.user("alice").id, project) is Role.DEVELOPER
        assert store.user("root").admin
        token = store.find_token(secret)
        assert token is not None and token.kind is TokenKind.PERSONAL and not token.active()
    finally:
        store.close()


def test_local_admin_errors_are_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(tmp_path / "data")
    assert run(["local", "member", "add", "acme", "bob", "guest", "--data", data]) == 1
    assert "there is no user 'bob'" in capsys.readouterr().err
    assert run(["local", "project", "add", "lonely", "--data", data]) == 1
    assert "needs a namespace" in capsys.readouterr().err
    assert run(["local", "user", "add", "alice", "--data", data]) == 0
    assert run(["local", "member", "add", "nowhere", "alice", "boss", "--data", data]) == 1
    assert "unknown role" in capsys.readouterr().err
    argv = ["local", "token", "add", "--user", "alice", "--scopes", "sudo", "--data", data]
    assert run(argv) == 1
    assert "unknown scope(s) sudo" in capsys.readouterr().err
    assert run(["local", "token", "revoke", "42", "--data", data]) == 1
