from __future__ import annotations

import json
from pathlib import Path

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import pytest
from keyring_support import MemoryKeyring

from regview.core.model import CredentialKind
from regview.settings.errors import NoKeyring, SecretStoreError
from regview.settings.profiles import Profile, Settings, SettingsStore
from regview.settings.secrets import (
    SERVICE,
    FallbackStore,
    KeyringStore,
    SessionStore,
    backend_problem,
    entry_name,
)


def test_keyring_store_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = KeyringStore()
    store.set("https://Registry.Example.com/", "alice", "s3cret")
    assert memory_keyring.entries == {(SERVICE, "alice@registry.example.com"): "s3cret"}
    assert store.get("registry.example.com", "alice") == "s3cret"
    assert store.get("registry.example.com", "bob") is None
    assert store.delete("registry.example.com", "alice") is True
    assert store.delete("registry.example.com", "alice") is False
    assert store.get("registry.example.com", "alice") is None


def test_entry_name_per_registry_and_user() -> None:
    assert entry_name("https://index.docker.io/v1/", "me") == "me@docker.io"
    assert entry_name("127.0.0.1:5000", "me") != entry_name("127.0.0.1:5001", "me")


def test_fail_backend_means_no_keyring() -> None:
    store = KeyringStore(keyring.backends.fail.Keyring())
    with pytest.raises(NoKeyring, match="session only"):
        store.set("r.example", "u", "p")
    with pytest.raises(NoKeyring):
        store.get("r.example", "u")


def test_empty_chainer_means_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    chainer = keyring.backends.chainer.ChainerBackend()
    monkeypatch.setattr(type(chainer), "backends", property(lambda self: []))
    assert "chainer" in backend_problem(chainer)
    assert backend_problem(MemoryKeyring()) == ""


def test_locked_or_broken_keyring_is_a_clear_error_without_secret() -> None:
    class Broken(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.PasswordSetError("dbus said no")

    with pytest.raises(SecretStoreError, match=r"registry\.example\.com") as info:
        KeyringStore(Broken()).set("registry.example.com", "u", "TOPSECRET")
    assert "TOPSECRET" not in str(info.value)
    assert not isinstance(info.value, NoKeyring)


def test_session_store_never_shows_secrets() -> None:
    store = SessionStore()
    store.set("r.example", "u", "TOPSECRET")
    assert store.get("r.example", "u") == "TOPSECRET"
    assert "TOPSECRET" not in repr(store)
    assert store.persistent is False
    assert store.delete("r.example", "u") and not store.delete("r.example", "u")


def test_fallback_store_uses_keyring_when_usable(memory_keyring: MemoryKeyring) -> None:
    store = FallbackStore()
    store.set("r.example", "u", "p")
    assert store.persistent
    assert memory_keyring.entries
    assert FallbackStore().get("r.example", "u") == "p"


def test_fallback_store_keeps_secret_for_the_session_without_keyring(tmp_path: Path) -> None:
    store = FallbackStore(KeyringStore(keyring.backends.fail.Keyring()))
    store.set("r.example", "u", "TOPSECRET")
    assert not store.persistent
    assert "session only" in store.no_keyring
    assert store.get("r.example", "u") == "TOPSECRET"
    # and nothing reached the disk
    assert all("TOPSECRET" not in p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert store.delete("r.example", "u")


def test_settings_file_never_holds_secrets(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    """The split the rest of regview relies on: profile in settings.json, secret in keyring."""
    secret = "glpat-ABCDEFGHIJKLMNOPQRST"
    settings_store = SettingsStore(tmp_path / "settings.json")
    settings = Settings()
    settings.put(
        Profile(
            name="gl",
            url="https://registry.gitlab.com",
            username="me",
            credential_kind=CredentialKind.PERSONAL,
        )
    )
    settings_store.save(settings)
    KeyringStore().set("registry.gitlab.com", "me", secret)
    text = settings_store.path.read_text()
    assert secret not in text
    assert "secret" not in json.loads(text)["profiles"][0]
    assert KeyringStore().get("registry.gitlab.com", "me") == secret
