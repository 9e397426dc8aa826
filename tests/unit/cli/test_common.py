from __future__ import annotations

import argparse
import base64
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from keyring_support import MemoryKeyring

from regview.cli import common as C
from regview.cli.cmd_repos import split_target
from regview.cli.cmd_tags import TAG_KEYS_DOC, sort_tags, tag_json
from regview.core import errors as E
from regview.core.model import (
    ArtifactKind,
    CredentialKind,
    PlatformInfo,
    RegistryKind,
    TagInfo,
    shares_digest,
)
from regview.settings.errors import SettingsFileError
from regview.settings.profiles import Profile, Settings
from regview.settings.secrets import KeyringStore
from regview.spec.errors import InvalidReference

HOST = "registry.example.com"


@pytest.fixture
def store() -> KeyringStore:
    backend = MemoryKeyring()
    backend.set_password("regview", f"saved@{HOST}", "from-keyring")
    return KeyringStore(backend)


@pytest.fixture
def settings() -> Settings:
    s = Settings()
    s.put(
        Profile(
            name=HOST,
            url=f"https://{HOST}",
            username="saved",
            credential_kind=CredentialKind.PERSONAL,
            api_url="https://gl.example/api/v4",
            kind=RegistryKind.GITLAB,
        )
    )
    return s


def _docker_env(tmp_path: Path) -> dict[str, str]:
    d = tmp_path / "docker"
    d.mkdir()
    auth = base64.b64encode(b"dockeruser:dockerpass").decode()
    (d / "config.json").write_text(json.dumps({"auths": {HOST: {"auth": auth}}}))
    return {"DOCKER_CONFIG": str(d), "HOME": str(tmp_path)}


def _resolve(
    env: dict[str, str], settings: Settings | None, store: KeyringStore, **kw: object
) -> C.Resolved:
    return C.resolve_credentials(HOST, "team/app", env=env, settings=settings, store=store, **kw)  # type: ignore[arg-type]


def test_resolution_order(tmp_path: Path, settings: Settings, store: KeyringStore) -> None:
    env = _docker_env(tmp_path)
    # 5. docker config when nothing else
    r = _resolve(env, None, store)
    assert r.credentials is not None and r.credentials.username == "dockeruser"
    assert "Docker config" in r.source
    # 4. the keyring of the saved profile beats the docker file, with the profile's kind
    r = _resolve(env, settings, store)
    assert r.credentials is not None and r.credentials.secret == "from-keyring"
    assert r.credentials.kind is CredentialKind.PERSONAL and r.source == "the keyring"
    # 3. GitLab CI variables for this registry beat the keyring; for another registry they don't
    ci = {"CI_REGISTRY": HOST, "CI_JOB_TOKEN": "job-token"}
    r = _resolve({**env, **ci}, settings, store)
    assert r.credentials is not None and r.credentials.kind is CredentialKind.JOB
    r = _resolve({**env, "CI_REGISTRY": "other.example", "CI_JOB_TOKEN": "x"}, settings, store)
    assert r.credentials is not None and r.credentials.secret == "from-keyring"
    # 2. REGVIEW_USERNAME/REGVIEW_PASSWORD beat CI
    mine = {"REGVIEW_USERNAME": "me", "REGVIEW_PASSWORD": "glpat-abcdefghijkl"}
    r = _resolve({**env, **ci, **mine}, settings, store)
    assert r.credentials is not None and r.credentials.username == "me"
    assert r.credentials.kind is CredentialKind.PERSONAL  # guessed from the glpat- prefix
    # 1. -u + --password-stdin beat everything
    r = _resolve(
        {**env, **ci, **mine},
        settings,
        store,
        username="cli",
        password_stdin=True,
        stdin=io.StringIO("typed\n"),
    )
    assert r.credentials is not None and (r.credentials.username, r.credentials.secret) == (
        "cli",
        "typed",
    )
    # nothing at all: anonymous
    r = _resolve({"HOME": str(tmp_path / "empty")}, None, store)
    assert r.credentials is None and r.source == "anonymous"


def test_username_alone_uses_its_keyring_entry_or_refuses_without_terminal(
    tmp_path: Path, store: KeyringStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = _resolve({"HOME": str(tmp_path)}, None, store, username="saved")
    assert r.credentials is not None and r.credentials.secret == "from-keyring"
    with pytest.raises(C.CliError, match="--password-stdin") as info:
        _resolve({"HOME": str(tmp_path)}, None, store, username="stranger")
    assert info.value.code == C.EXIT_USAGE


def test_password_stdin_needs_user_and_content(store: KeyringStore) -> None:
    with pytest.raises(C.CliError, match="needs -u"):
        _resolve({}, None, store, password_stdin=True, stdin=io.StringIO("x"))
    with pytest.raises(C.CliError, match="empty"):
        _resolve({}, None, store, username="u", password_stdin=True, stdin=io.StringIO("\n"))


def test_endpoint_merges_profile_flags_and_ci(settings: Settings, tmp_path: Path) -> None:
    ep = C.endpoint_for(HOST, settings=settings, env={})
    assert ep.url == f"https://{HOST}" and ep.api_url == "https://gl.example/api/v4"
    assert ep.kind is RegistryKind.GITLAB
    assert C.endpoint_for("127.0.0.1:5000", env={}).url == "http://127.0.0.1:5000"
    ci = {"CI_REGISTRY": "reg.ci.example", "CI_API_V4_URL": "https://ci.example/api/v4"}
    ep = C.endpoint_for("reg.ci.example", env=ci)
    assert ep.api_url == "https://ci.example/api/v4" and ep.kind is RegistryKind.GITLAB
    assert C.endpoint_for("other.example", env=ci).api_url == ""
    with pytest.raises(C.CliError, match="does not exist"):
        C.endpoint_for(HOST, ca_file=str(tmp_path / "nope.pem"), env={})
    with pytest.raises(C.CliError) as info:
        C.endpoint_for("ftp://x.example", env={})
    assert info.value.code == C.EXIT_USAGE


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (E.AuthenticationFailed("x", status=401), C.EXIT_AUTH),
        (E.CatalogRefused("x", status=403), C.EXIT_AUTH),
        (E.DeployTokenNoAPI("x"), C.EXIT_AUTH),
        (E.NotFound("x", status=404), C.EXIT_NOT_FOUND),
        (E.GitLabAPIError("x", status=404), C.EXIT_NOT_FOUND),
        (E.ConnectionFailed("x"), C.EXIT_ERROR),
        (InvalidReference("x"), C.EXIT_USAGE),
        (SettingsFileError("x"), C.EXIT_ERROR),
        (C.CliError("x", C.EXIT_REFUSED), C.EXIT_REFUSED),
    ],
)
def test_errors_become_words_and_exit_codes(
    exc: Exception, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    def body() -> int:
        raise exc

    assert C.run(body) == code
    err = capsys.readouterr().err
    assert err == "regview: x\n"


def test_run_accepts_async_bodies() -> None:
    async def body() -> int:
        return 0

    assert C.run(body) == 0


def test_destructive_commands_refuse_without_yes_and_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # not a terminal, even if it says yes
    assert C.confirm_destructive(argparse.Namespace(yes=False), "Delete?") is False
    assert "without --yes" in capsys.readouterr().err
    assert C.confirm_destructive(argparse.Namespace(yes=True), "Delete?") is True


def test_rfc3339() -> None:
    assert C.rfc3339(datetime(2024, 5, 1, 12, 0, tzinfo=UTC)) == "2024-05-01T12:00:00Z"
    tz = timezone(timedelta(hours=2))
    assert C.rfc3339(datetime(2024, 5, 1, 12, 0, tzinfo=tz)) == "2024-05-01T12:00:00+02:00"
    assert C.rfc3339(None) is None


def _tag(name: str, digest: str, size: int | None, day: int | None) -> TagInfo:
    return TagInfo(
        repository="r",
        tag=name,
        digest=digest,
        media_type="application/vnd.oci.image.index.v1+json",
        kind=ArtifactKind.INDEX,
        size=size,
        created=datetime(2024, 1, day, tzinfo=UTC) if day else None,
        platforms=(PlatformInfo("linux", "arm", "v7", "sha256:c", 10),),
    )


def test_tag_json_has_exactly_the_documented_keys() -> None:
    tags = [
        _tag("a", "sha256:1", 5, 1),
        _tag("b", "sha256:1", 5, 2),
        _tag("c", "sha256:2", None, None),
    ]
    shared = shares_digest(tags)
    rows = [tag_json(t, shared) for t in tags]
    assert all(set(r) == TAG_KEYS_DOC for r in rows)
    assert rows[0]["shares_digest_with"] == ["b"] and rows[2]["shares_digest_with"] == []
    assert rows[0]["platforms"] == [
        {"os": "linux", "architecture": "arm", "variant": "v7", "digest": "sha256:c", "size": 10}
    ]
    assert rows[0]["created"] == "2024-01-01T00:00:00Z" and rows[2]["created"] is None
    assert rows[0]["config_digest"] is None
    assert [t.tag for t in sort_tags(tags, "created")] == ["b", "a", "c"]
    assert [t.tag for t in sort_tags(tags, "size")] == ["a", "b", "c"]
    assert [t.tag for t in sort_tags(list(reversed(tags)), "name")] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("registry.example.com", ("registry.example.com", "")),
        ("127.0.0.1:5000/group/sub/", ("127.0.0.1:5000", "group/sub")),
        ("https://host:5050/g", ("https://host:5050", "g")),
    ],
)
def test_split_target(text: str, expected: tuple[str, str]) -> None:
    assert split_target(text) == expected


def test_every_command_is_registered_with_help() -> None:
    from regview.cli.main import build_parser

    parser = build_parser()
    text = parser.format_help()
    for name in ("login", "logout", "repos", "tags", "inspect", "gui"):
        assert name in text


def test_json_rows_are_the_text_of_the_json_encoder_row_by_row() -> None:
    # print_json_rows builds the C encoder once for all rows: the text must be the one
    # JSONEncoder(default=...).encode gives for each row, whatever the row holds
    when = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    rows: list[object] = [
        {"tag": "v1", "created": when, "platforms": [{"os": "linux", "size": 1}], "frees": None},
        {"tag": "héllo ☃ \U0001f600", "esc": 'a"b\\c\n\t\x00', "n": [1.5, -0.0, 1e300, 10**30]},
        {"set": {"b"}, "tuple": ("x", 2), "nested": {"a": {"b": [{}, []]}}, "nan": float("nan")},
        ["a list row", True, False, None],
        "a string row",
        {3: "int key", 1.5: "float key", True: "bool key", None: "none key"},
    ]
    out = io.StringIO()
    C.print_json_rows(rows, stream=out)
    encode = json.JSONEncoder(default=C._json_default).encode
    assert out.getvalue() == "[\n" + ",\n".join(encode(r) for r in rows) + "\n]\n"
    empty = io.StringIO()
    C.print_json_rows([], stream=empty)
    assert empty.getvalue() == "[\n]\n"


def test_json_rows_refuse_what_the_json_encoder_refuses() -> None:
    circular: dict[str, object] = {}
    circular["self"] = circular
    for bad, error in [({"x": object()}, TypeError), (circular, ValueError)]:
        with pytest.raises(error):
            json.JSONEncoder(default=C._json_default).encode(bad)
        with pytest.raises(error):
            C.print_json_rows([{"fine": 1}, bad], stream=io.StringIO())
    # after a refused row, the next output is whole again (the circular check forgot it)
    out = io.StringIO()
    C.print_json_rows([{"a": [1]}, {"a": [1]}], stream=out)
    assert out.getvalue() == '[\n{"a": [1]},\n{"a": [1]}\n]\n'
