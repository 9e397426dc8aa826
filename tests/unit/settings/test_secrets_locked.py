"""A keyring that exists but refuses to store (locked, no login collection, no prompt possible)
keeps the secret for the session only and says so — it must not fail the caller."""

from __future__ import annotations

import keyring.backend
import keyring.errors

from regview.settings.secrets import FallbackStore, KeyringStore


class RefusingKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.InitError("no login collection and no prompt")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.InitError("no login collection and no prompt")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.InitError("no login collection and no prompt")


def test_a_refusing_keyring_falls_back_to_the_session() -> None:
    store = FallbackStore(KeyringStore(RefusingKeyring()))
    store.set("http://127.0.0.1:5000", "demo", "s3cret-token")
    assert store.get("http://127.0.0.1:5000", "demo") == "s3cret-token"
    assert not store.persistent
    assert "keyring" in store.no_keyring and "s3cret-token" not in store.no_keyring
