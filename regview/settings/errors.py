"""Errors of the settings layer (profiles, secrets, imported logins).

    SettingsError(Exception)          the settings layer could not do what was asked
    ├── SettingsFileError             settings.json is unreadable, corrupt or not writable
    │   └── NewerSettingsVersion      written by a newer regview; we refuse to touch it
    ├── SecretStoreError              the keyring backend failed (locked, D-Bus error, denied)
    │   └── NoKeyring                 no usable keyring backend: keep secrets for the session only
    └── CredentialImportError         a credential file or helper could not be read

Messages name the file, registry or program involved and say what to do. They never contain a
secret.
"""

from __future__ import annotations


class SettingsError(Exception):
    """The settings layer could not do what was asked (the environment failed, not a bug)."""


class SettingsFileError(SettingsError):
    """settings.json is unreadable, corrupt or not writable."""


class NewerSettingsVersion(SettingsFileError):
    """settings.json was written by a newer regview; refuse rather than lose its data."""


class SecretStoreError(SettingsError):
    """The keyring backend failed (locked collection, D-Bus error, access denied)."""


class NoKeyring(SecretStoreError):
    """No usable keyring backend. Callers keep the secret for this session only."""


class CredentialImportError(SettingsError):
    """A credential file or credential helper could not be read."""
