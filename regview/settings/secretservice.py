"""keyring's Secret Service backend, closing its D-Bus connection when a call fails.

    closing_backend(backend) -> backend   `backend`, or for keyring's Secret Service backend the
                                          same backend with the fix below

keyring 25.7's `SecretService.Keyring.get_preferred_collection()` opens a D-Bus connection that
only the caller's `closing(collection.connection)` closes — but when the collection is missing,
or locked and cannot be unlocked (no prompter: CI, minimal desktops, a dismissed prompt), it raises
before that, and the socket stays open until the garbage collector finds it: one file descriptor
per attempt and a ResourceWarning in whatever runs then. The subclass below closes it first.

secretstorage exists on Linux only (keyring depends on it there): elsewhere nothing is changed.
"""

from __future__ import annotations

import functools
from typing import Any

import keyring.backend

_SECRET_SERVICE = "keyring.backends.SecretService"


@functools.cache
def _closing_class() -> type[Any] | None:
    try:
        import secretstorage
        from keyring.backends import SecretService
        from keyring.errors import InitError, KeyringLocked
    except ImportError:
        return None

    class ClosingSecretService(SecretService.Keyring):  # type: ignore[misc]
        def get_preferred_collection(self) -> Any:
            bus = secretstorage.dbus_init()
            try:
                try:
                    if hasattr(self, "preferred_collection"):
                        collection = secretstorage.Collection(bus, self.preferred_collection)
                    else:
                        collection = secretstorage.get_default_collection(bus)
                except secretstorage.exceptions.SecretStorageException as e:
                    raise InitError(f"Failed to create the collection: {e}.") from e
                if collection.is_locked():
                    collection.unlock()
                    if collection.is_locked():  # the prompt was dismissed, or none could show
                        raise KeyringLocked("Failed to unlock the collection!")
            except BaseException:
                bus.close()
                raise
            return collection

    # Subclasses register themselves as candidate backends; this one must not compete with
    # keyring's own in its detection (two viable Secret Service backends would get chained).
    getattr(keyring.backend.KeyringBackend, "_classes", set()).discard(ClosingSecretService)
    return ClosingSecretService


def closing_backend(backend: keyring.backend.KeyringBackend) -> keyring.backend.KeyringBackend:
    """The backend to call: keyring's own, except its Secret Service one gets the fix above."""
    if type(backend).__module__ != _SECRET_SERVICE or type(backend).__name__ != "Keyring":
        return backend
    cls = _closing_class()
    if cls is None:
        return backend
    fixed: keyring.backend.KeyringBackend = object.__new__(cls)
    fixed.__dict__.update(backend.__dict__)  # preferred_collection, appid, scheme as configured
    return fixed
