"""A management API's own token (Quay's OAuth token beside a robot login): `regview login`
keeps REGVIEW_API_TOKEN in the profile's `api-token@<host>#<secret_id>` keyring entry, and
`rm`/`prune`/`trash` hand it to the vendor (REGVIEW_API_TOKEN first)."""

from __future__ import annotations

import keyring
import pytest
from keyring_support import MemoryKeyring

from regview.cli.common import Connection
from regview.cli.deleting import api_token
from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind
from regview.core.vendors import API_TOKEN_ENV, api_secret_name
from regview.settings.profiles import Profile
from regview.settings.secrets import KeyringStore, entry_name


def _conn(secret_id: str) -> Connection:
    endpoint = Endpoint("https://quay.example", kind=RegistryKind.QUAY)
    profile = Profile.for_endpoint(endpoint, username="org+robot", secret_id=secret_id)
    return Connection(
        endpoint, Credentials("org+robot", "robot-secret", CredentialKind.PASSWORD), "", profile
    )


def test_the_entry_name_is_the_keyring_entry_of_the_api_token_user() -> None:
    assert api_secret_name("quay.example", "s1") == entry_name("quay.example", "api-token", "s1")


def test_api_token_from_the_environment_then_the_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        monkeypatch.delenv(API_TOKEN_ENV, raising=False)
        assert api_token(_conn("s1")) == ""
        KeyringStore().set("quay.example", "api-token", "oauth-123", "s1")
        assert api_token(_conn("s1")) == "oauth-123"
        assert api_token(_conn("other")) == "", "another profile's token is not used"
        monkeypatch.setenv(API_TOKEN_ENV, "from-env")
        assert api_token(_conn("s1")) == "from-env"
    finally:
        keyring.set_keyring(previous)
