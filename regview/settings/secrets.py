"""Secrets in the OS keyring (Secret Service, KWallet, macOS Keychain, Windows Credential Locker).

Every call here BLOCKS: a keyring call is a D-Bus round trip and may pop up an unlock prompt
that waits for the user. The GUI must run them off the UI thread (`asyncio.to_thread` or a
worker); the CLI may call them directly.

Secrets are stored under the service name `regview` with one entry per profile:
`<username>@<host[:port]>#<slot>`, where the slot is the profile's own `secret_id`, so two profiles
for the same registry and username never share (and never overwrite) each other's secret. Entries
without a slot (`<username>@<host[:port]>`) are the shared ones regview wrote before; they are still
read for profiles not migrated yet (`regview.services.accounts.Accounts.migrate`) and by the CLI for a
username without a profile. When no usable keyring backend exists, `KeyringStore` raises
`NoKeyring`; callers then keep the secret in a `SessionStore` (memory only, gone at exit) and
tell the user. Nothing here ever writes a secret to a file.
"""

from __future__ import annotations

from typing import Any, Protocol

import keyring
import keyring.backend
import keyring.errors

from regview.settings.errors import NoKeyring, SecretStoreError
from regview.settings.profiles import registry_host

SERVICE = "regview"

_NO_KEYRING_HINT = (
    "no usable keyring was found, so the secret is kept for this session only. Install and "
    "unlock a Secret Service provider (gnome-keyring, KeePassXC) or KWallet, or pass "
    "credentials each time (--password-stdin, REGVIEW_USERNAME/REGVIEW_PASSWORD)"
)


def entry_name(registry: str, username: str, slot: str = "") -> str:
    """The keyring 'username' field for one profile's login (`slot` = its `secret_id`), or the
    legacy entry shared by every profile with this registry and username (no slot)."""
    name = f"{username}@{registry_host(registry)}"
    return f"{name}#{slot}" if slot else name


def backend_problem(backend: Any | None = None) -> str:
    """Why `backend` (default: keyring's current one) cannot store secrets, or "" if it can."""
    kr = backend if backend is not None else keyring.get_keyring()
    module = type(kr).__module__
    if module.startswith("keyring.backends.fail"):
        return "keyring found no backend (keyring.backends.fail)"
    if module.startswith("keyring.backends.null"):
        return "the keyring is disabled (keyring.backends.null)"
    if module.startswith("keyring.backends.chainer") and not getattr(kr, "backends", None):
        return "keyring's chainer backend has no backends to chain"
    return ""


class CredentialStore(Protocol):
    """Where secrets go: the keyring, or memory for this session."""

    persistent: bool

    def get(self, registry: str, username: str, slot: str = "") -> str | None: ...

    def set(self, registry: str, username: str, secret: str, slot: str = "") -> None: ...

    def delete(self, registry: str, username: str, slot: str = "") -> bool: ...


class KeyringStore:
    """Secrets in the OS keyring. Blocking; see the module docstring."""

    persistent = True

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        # imported here: secretstorage costs ~30 ms, paid by the first keyring call (off the UI
        # thread), as keyring's own backend detection does
        from regview.settings.secretservice import closing_backend

        chosen = self._backend if self._backend is not None else keyring.get_keyring()
        return closing_backend(chosen)

    def check(self) -> None:
        """Raise NoKeyring when there is no usable backend."""
        problem = backend_problem(self.backend)
        if problem:
            raise NoKeyring(f"{problem}: {_NO_KEYRING_HINT}")

    def get(self, registry: str, username: str, slot: str = "") -> str | None:
        self.check()
        try:
            value = self.backend.get_password(SERVICE, entry_name(registry, username, slot))
        except keyring.errors.NoKeyringError as exc:
            raise NoKeyring(_NO_KEYRING_HINT) from exc
        except keyring.errors.KeyringLocked as exc:
            raise SecretStoreError(
                f"the keyring is locked; unlock it to read the login for {registry_host(registry)}"
            ) from exc
        except (keyring.errors.KeyringError, OSError) as exc:
            raise SecretStoreError(
                f"reading the login for {registry_host(registry)} from the keyring failed: "
                f"{type(exc).__name__}"
            ) from exc
        return value if isinstance(value, str) else None

    def set(self, registry: str, username: str, secret: str, slot: str = "") -> None:
        self.check()
        try:
            self.backend.set_password(SERVICE, entry_name(registry, username, slot), secret)
        except keyring.errors.NoKeyringError as exc:
            raise NoKeyring(_NO_KEYRING_HINT) from exc
        except (keyring.errors.KeyringError, OSError) as exc:
            raise SecretStoreError(
                f"storing the login for {registry_host(registry)} in the keyring failed "
                f"({type(exc).__name__}); is the keyring unlocked?"
            ) from exc

    def delete(self, registry: str, username: str, slot: str = "") -> bool:
        """Remove the secret; False when there was none."""
        self.check()
        try:
            self.backend.delete_password(SERVICE, entry_name(registry, username, slot))
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.NoKeyringError as exc:
            raise NoKeyring(_NO_KEYRING_HINT) from exc
        except (keyring.errors.KeyringError, OSError) as exc:
            raise SecretStoreError(
                f"removing the login for {registry_host(registry)} from the keyring failed: "
                f"{type(exc).__name__}"
            ) from exc
        return True


class SessionStore:
    """Secrets in memory for this process only: the fallback when there is no keyring."""

    persistent = False

    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}

    def get(self, registry: str, username: str, slot: str = "") -> str | None:
        return self._secrets.get(entry_name(registry, username, slot))

    def set(self, registry: str, username: str, secret: str, slot: str = "") -> None:
        self._secrets[entry_name(registry, username, slot)] = secret

    def delete(self, registry: str, username: str, slot: str = "") -> bool:
        return self._secrets.pop(entry_name(registry, username, slot), None) is not None

    def __repr__(self) -> str:  # never show the secrets
        return f"SessionStore({len(self._secrets)} secrets)"


class FallbackStore:
    """The keyring when it works, else memory for the session; `persistent` says which.

    `no_keyring` holds the NoKeyring message once the keyring turned out unusable, so the UI
    can tell the user their secret will not survive a restart.
    """

    def __init__(self, primary: KeyringStore | None = None) -> None:
        self.primary = primary if primary is not None else KeyringStore()
        self.session = SessionStore()
        self.no_keyring: str = ""

    @property
    def persistent(self) -> bool:
        return not self.no_keyring

    def _keyring_ok(self) -> bool:
        if self.no_keyring:
            return False
        try:
            self.primary.check()
        except NoKeyring as exc:
            self.no_keyring = str(exc)
            return False
        return True

    def get(self, registry: str, username: str, slot: str = "") -> str | None:
        found = self.session.get(registry, username, slot)
        if found is not None or not self._keyring_ok():
            return found
        try:
            return self.primary.get(registry, username, slot)
        except NoKeyring as exc:
            self.no_keyring = str(exc)
            return None

    def set(self, registry: str, username: str, secret: str, slot: str = "") -> None:
        if self._keyring_ok():
            try:
                self.primary.set(registry, username, secret, slot)
                return
            except NoKeyring as exc:
                self.no_keyring = str(exc)
            except SecretStoreError as exc:
                # A keyring that exists but refuses (locked, no login collection, a prompt that
                # cannot be shown) is as good as none for this session: say so, keep it in memory.
                self.no_keyring = str(exc)
        self.session.set(registry, username, secret, slot)

    def delete(self, registry: str, username: str, slot: str = "") -> bool:
        removed = self.session.delete(registry, username, slot)
        if self._keyring_ok():
            try:
                removed = self.primary.delete(registry, username, slot) or removed
            except NoKeyring as exc:
                self.no_keyring = str(exc)
        return removed
