from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from regview.core.model import CredentialKind
from regview.settings.errors import CredentialImportError
from regview.settings.importers import (
    ImportedLogin,
    best_match,
    containers_auth_paths,
    docker_config_path,
    find_login,
    import_all,
    import_containers_auth,
    import_docker_config,
    import_gitlab_ci,
    run_credential_helper,
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


HELPER = """#!/bin/sh
# fake docker-credential-test: answers from $FAKE_HELPER_DB (JSON {server: [user, secret]})
verb="$1"
read -r server || true
echo "$verb $server" >> "$FAKE_HELPER_LOG"
if [ "$verb" = list ]; then
  exec python3 -c 'import json,os; d=json.load(open(os.environ["FAKE_HELPER_DB"])); print(json.dumps({k: v[0] for k, v in d.items()}))'
fi
if [ "$verb" = get ]; then
  exec python3 -c '
import json, os, sys
d = json.load(open(os.environ["FAKE_HELPER_DB"]))
s = sys.argv[1]
if s == "slow":
    import time; time.sleep(30)
if s not in d:
    print("credentials not found in native keychain"); sys.exit(1)
print(json.dumps({"ServerURL": s, "Username": d[s][0], "Secret": d[s][1]}))' "$server"
fi
exit 1
"""


@pytest.fixture
def helper_env(tmp_path: Path) -> dict[str, str]:
    """A PATH holding a real `docker-credential-test` program, and its data files."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    program = bindir / "docker-credential-test"
    program.write_text(HELPER)
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    db = _write(
        tmp_path / "helper-db.json",
        {
            "registry.example.com": ["alice", "from-helper"],
            "https://index.docker.io/v1/": ["<token>", "identity-xyz"],
        },
    )
    return {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "FAKE_HELPER_DB": str(db),
        "FAKE_HELPER_LOG": str(tmp_path / "helper.log"),
    }


def test_docker_config_auths(tmp_path: Path) -> None:
    cfg = _write(
        tmp_path / "docker" / "config.json",
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": _b64("hubuser:hubpass")},
                "registry.example.com:5000": {"auth": _b64("bob:pa:ss")},
                "ghcr.io": {"auth": _b64("x:"), "identitytoken": "refresh-me"},
                "broken.example": {"auth": "!!!notbase64"},
                "empty.example": {},
            }
        },
    )
    env = {"DOCKER_CONFIG": str(cfg.parent), "HOME": str(tmp_path)}
    assert docker_config_path(env) == cfg
    logins = import_docker_config(env=env)
    by_reg = {lg.registry: lg for lg in logins}
    assert set(by_reg) == {"docker.io", "registry.example.com:5000", "ghcr.io"}
    assert (by_reg["docker.io"].username, by_reg["docker.io"].secret) == ("hubuser", "hubpass")
    assert by_reg["registry.example.com:5000"].secret == "pa:ss"
    assert by_reg["ghcr.io"].kind is CredentialKind.IDENTITY
    assert by_reg["ghcr.io"].secret == "refresh-me"
    assert str(cfg) in by_reg["docker.io"].source
    assert "hubpass" not in repr(by_reg["docker.io"])


def test_containers_auth_paths_order(tmp_path: Path) -> None:
    env = {
        "REGISTRY_AUTH_FILE": "/a/auth.json",
        "XDG_RUNTIME_DIR": "/run/user/1",
        "HOME": "/home/me",
    }
    assert containers_auth_paths(env) == [
        Path("/a/auth.json"),
        Path("/run/user/1/containers/auth.json"),
        Path("/home/me/.config/containers/auth.json"),
    ]


def test_containers_most_specific_key_wins(tmp_path: Path) -> None:
    auth = _write(
        tmp_path / "run" / "containers" / "auth.json",
        {
            "auths": {
                "registry.example.com": {"auth": _b64("whole:1")},
                "registry.example.com/team": {"auth": _b64("team:2")},
                "registry.example.com/team/app": {"auth": _b64("app:3")},
            }
        },
    )
    env = {"XDG_RUNTIME_DIR": str(tmp_path / "run"), "HOME": str(tmp_path / "home")}
    logins = import_containers_auth(env=env)
    assert len(logins) == 3
    assert best_match(logins, "registry.example.com", "team/app/x").username == "app"  # type: ignore[union-attr]
    assert best_match(logins, "registry.example.com", "team/other").username == "team"  # type: ignore[union-attr]
    assert best_match(logins, "registry.example.com", "teamx/app").username == "whole"  # type: ignore[union-attr]
    assert best_match(logins, "registry.example.com").username == "whole"  # type: ignore[union-attr]
    assert best_match(logins, "other.example.com") is None
    found = find_login("registry.example.com", "team/app", env=env)
    assert found is not None and found.username == "app" and str(auth) in found.source


def test_first_containers_file_wins_over_later_ones(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.json", {"auths": {"r.example": {"auth": _b64("one:1")}}})
    _write(
        tmp_path / "home" / ".config" / "containers" / "auth.json",
        {"auths": {"r.example": {"auth": _b64("two:2")}}},
    )
    env = {"REGISTRY_AUTH_FILE": str(first), "HOME": str(tmp_path / "home")}
    assert [lg.username for lg in import_containers_auth(env=env)] == ["one"]
    assert find_login("r.example", env=env).username == "one"  # type: ignore[union-attr]


def test_gitlab_ci_variables() -> None:
    env = {
        "CI_REGISTRY": "registry.gitlab.example.com",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "job-secret",
        "CI_JOB_TOKEN": "job-secret",
    }
    [login] = import_gitlab_ci(env)
    assert login == ImportedLogin(
        "registry.gitlab.example.com",
        "gitlab-ci-token",
        "job-secret",
        CredentialKind.JOB,
        "GitLab CI variables",
    )
    [only_job] = import_gitlab_ci({"CI_REGISTRY": "r.example:5050", "CI_JOB_TOKEN": "t"})
    assert (only_job.registry, only_job.username, only_job.kind) == (
        "r.example:5050",
        "gitlab-ci-token",
        CredentialKind.JOB,
    )
    assert import_gitlab_ci({"CI_JOB_TOKEN": "t"}) == []
    assert find_login("registry.gitlab.example.com", env=env) is None
    assert find_login("registry.gitlab.example.com", env=env, include_ci=True) == login


def test_credential_helper_real_subprocess(tmp_path: Path, helper_env: dict[str, str]) -> None:
    found = run_credential_helper("test", "registry.example.com", env=helper_env)
    assert found is not None
    assert (found.registry, found.username, found.secret, found.kind) == (
        "registry.example.com",
        "alice",
        "from-helper",
        CredentialKind.PASSWORD,
    )
    assert "docker-credential-test" in found.source
    assert run_credential_helper("test", "unknown.example", env=helper_env) is None
    hub = run_credential_helper("test", "https://index.docker.io/v1/", env=helper_env)
    assert hub is not None and hub.registry == "docker.io" and hub.kind is CredentialKind.IDENTITY


def test_credential_helper_timeout_and_missing(helper_env: dict[str, str]) -> None:
    with pytest.raises(CredentialImportError, match=r"did not answer within 0\.5 s"):
        run_credential_helper("test", "slow", env=helper_env, timeout=0.5)
    with pytest.raises(CredentialImportError, match="not installed"):
        run_credential_helper("nosuchhelper", "r.example", env=helper_env)


def test_cred_helpers_and_creds_store_in_config(tmp_path: Path, helper_env: dict[str, str]) -> None:
    cfg = _write(
        tmp_path / "home" / ".docker" / "config.json",
        {
            "auths": {"inline.example": {"auth": _b64("in:line")}},
            "credHelpers": {"registry.example.com": "test", "gone.example": "nosuchhelper"},
        },
    )
    found = find_login("registry.example.com", env=helper_env)
    assert found is not None and found.secret == "from-helper"
    assert find_login("inline.example", env=helper_env).secret == "line"  # type: ignore[union-attr]
    assert find_login("gone.example", env=helper_env) is None  # logged, not raised
    log = Path(helper_env["FAKE_HELPER_LOG"]).read_text().splitlines()
    assert log == ["get registry.example.com"]

    # credsStore: every login the helper lists is imported, Docker Hub by its v1 URL
    cfg.write_text(json.dumps({"credsStore": "test"}))
    logins = {lg.registry: lg for lg in import_docker_config(env=helper_env)}
    assert set(logins) == {"registry.example.com", "docker.io"}
    hub = find_login("docker.io", env=helper_env)
    assert hub is not None and hub.secret == "identity-xyz"
    assert len(import_all(env=helper_env)) == 2
