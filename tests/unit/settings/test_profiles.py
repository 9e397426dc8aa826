from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.paths import default_paths
from regview.settings.errors import NewerSettingsVersion, SettingsFileError
from regview.settings.profiles import (
    SETTINGS_VERSION,
    Profile,
    Settings,
    SettingsStore,
    registry_host,
    registry_url,
)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("Registry.Example.com:5000/ns/repo", "registry.example.com:5000"),
        ("https://registry.example.com:443", "registry.example.com"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_registry_host_normalises(text: str, host: str) -> None:
    assert registry_host(text) == host


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("localhost:5000/", "http://localhost:5000"),
        ("[::1]:5000", "http://[::1]:5000"),
        ("registry.gitlab.com", "https://registry.gitlab.com"),
        ("http://10.0.0.5:5000", "http://10.0.0.5:5000"),
        ("https://127.0.0.1:5000", "https://127.0.0.1:5000"),
        ("docker.io", "https://registry-1.docker.io"),
    ],
)
def test_registry_url_defaults(text: str, url: str) -> None:
    assert registry_url(text) == url


def test_registry_url_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        registry_url("ftp://example.com")


def _profile() -> Profile:
    return Profile.for_endpoint(
        Endpoint(
            "https://registry.example.com",
            api_url="https://example.com/api/v4",
            kind=RegistryKind.GITLAB,
        ),
        username="gitlab+deploy-token-7",
        credential_kind=CredentialKind.DEPLOY,
        repositories=("group/app", "group/app/sub"),
        verified="pull; REST API refused",
        verified_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_profile_round_trips_and_keeps_unknown_fields(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    settings = Settings()
    profile = _profile()
    settings.put(profile)
    settings.ui["window"] = {"geometry": [1, 2, 3, 4]}
    store.save(settings)
    raw = json.loads(store.path.read_text())
    assert raw["version"] == SETTINGS_VERSION
    raw["profiles"][0]["future_field"] = {"x": 1}
    store.path.write_text(json.dumps(raw))
    loaded = store.load()
    again = loaded.profiles["registry.example.com"]
    assert again == profile
    assert again.endpoint == profile.endpoint
    assert again.extra == {"future_field": {"x": 1}}
    assert loaded.ui == {"window": {"geometry": [1, 2, 3, 4]}}
    store.save(loaded)
    assert json.loads(store.path.read_text())["profiles"][0]["future_field"] == {"x": 1}


def test_find_by_name_or_host() -> None:
    settings = Settings()
    settings.put(Profile(name="work", url="https://registry.example.com"))
    assert settings.find("work") is not None
    assert settings.find("https://registry.example.com/v2/") is not None
    assert settings.find("registry.example.com") is not None
    assert settings.find("other.example.com") is None


def test_missing_file_is_empty_settings(tmp_path: Path) -> None:
    assert SettingsStore(tmp_path / "nope.json").load().profiles == {}


def test_default_path_follows_basedir(_isolated_basedir: Path) -> None:
    assert SettingsStore().path == default_paths().settings_file
    assert str(SettingsStore().path).startswith(str(_isolated_basedir))


def test_newer_version_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    original = json.dumps({"version": SETTINGS_VERSION + 1, "profiles": [], "wow": 1})
    path.write_text(original)
    store = SettingsStore(path)
    with pytest.raises(NewerSettingsVersion, match="newer regview") as info:
        store.load()
    assert str(path) in str(info.value)
    with pytest.raises(NewerSettingsVersion):
        store.update(lambda s: None)
    assert path.read_text() == original


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"version": 1, "profiles": [3]}'])
def test_corrupt_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content)
    with pytest.raises(SettingsFileError, match=str(path)):
        SettingsStore(path).load()


def test_secretish_ui_keys_refused(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    settings = Settings(ui={"dialogs": {"login": {"password": "x"}}})
    with pytest.raises(ValueError, match=r"ui\.dialogs\.login\.password"):
        store.save(settings)
    assert not store.path.exists()


def test_atomic_write_leaves_no_temp_files_and_private_mode(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "cfg" / "settings.json")
    for i in range(3):
        store.update(lambda s, i=i: s.put(Profile(name=f"r{i}", url=f"https://r{i}.example")))
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "settings.json",
        "settings.json.lock",
    ]
    assert store.path.stat().st_mode & 0o777 == 0o600
    assert set(store.load().profiles) == {"r0", "r1", "r2"}


def test_failed_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    store.update(lambda s: s.put(Profile(name="a", url="https://a.example")))
    before = store.path.read_text()

    def boom(self: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", boom)
    with pytest.raises(SettingsFileError, match="No space left"):
        store.update(lambda s: s.put(Profile(name="b", url="https://b.example")))
    monkeypatch.undo()
    assert store.path.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
