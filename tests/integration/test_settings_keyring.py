"""The keyring store against a real Secret Service: gnome-keyring on a private D-Bus session.

The fixture starts its own `dbus-daemon` and `gnome-keyring-daemon --foreground --unlock` (both
children of this test, so they are stopped reliably) with HOME and XDG dirs in a temporary
folder, so the user's real keyring is never touched and other tests' daemons don't interfere.
gnome-keyring 42+ only creates the `login` collection when `--unlock` reads a non-empty
password; with an empty one every write waits for a prompter that cannot be shown.
"""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Iterator
from pathlib import Path

import keyring.errors
import pytest
from keyring.backends import SecretService
from keyring_support import gnome_keyring

from regview.settings.errors import SecretStoreError
from regview.settings.secrets import SERVICE, KeyringStore, entry_name

pytestmark = [
    pytest.mark.integration,
    pytest.mark.needs_tool("gnome-keyring-daemon"),
    pytest.mark.needs_tool("dbus-daemon"),
]


@pytest.fixture
def secret_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService.Keyring]:
    with gnome_keyring(tmp_path, monkeypatch, b"throwaway-test-password") as backend:
        yield backend


def test_store_read_delete_with_real_secret_service(
    secret_service: SecretService.Keyring,
) -> None:
    store = KeyringStore(secret_service)
    store.check()
    store.set("registry.example.com:5000", "alice", "glpat-real-secret-service")
    assert store.get("registry.example.com:5000", "alice") == "glpat-real-secret-service"
    # the entry is where other tools (seahorse, secret-tool) would find it
    assert (
        secret_service.get_password(SERVICE, entry_name("registry.example.com:5000", "alice"))
        == "glpat-real-secret-service"
    )
    assert store.get("registry.example.com:5000", "bob") is None
    store.set("registry.example.com:5000", "alice", "rotated")
    assert store.get("registry.example.com:5000", "alice") == "rotated"
    assert store.delete("registry.example.com:5000", "alice") is True
    assert store.get("registry.example.com:5000", "alice") is None
    assert store.delete("registry.example.com:5000", "alice") is False


def _open_sockets() -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += str(fd.readlink()).startswith("socket:")
    return count


def test_a_keyring_that_cannot_store_leaves_no_connection_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring's own Secret Service backend leaves a D-Bus socket open on every refused call (it
    raises before closing it); regview's store must not — that was a ResourceWarning surfacing in
    whichever test the garbage collector next ran, and an fd per attempt in the app."""
    with gnome_keyring(tmp_path, monkeypatch, b"") as backend:
        was_enabled = gc.isenabled()
        gc.disable()  # sockets stay open until closed, not until a collection finds them
        try:
            before = _open_sockets()
            store = KeyringStore(backend)
            for _ in range(5):
                with pytest.raises(SecretStoreError):
                    store.set("registry.example.com", "alice", "s3cret")
            assert _open_sockets() == before
            # the library alone still leaks: when this fails, keyring fixed it upstream and
            # regview.settings.secretservice can go
            for _ in range(3):
                with pytest.raises(keyring.errors.KeyringError):
                    backend.set_password(SERVICE, "alice@registry.example.com", "s3cret")
            assert _open_sockets() == before + 3
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)  # the library's, shown above
                gc.collect()
            if was_enabled:
                gc.enable()
