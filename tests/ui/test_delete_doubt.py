"""What the delete plan says about a credential that cannot delete (unit: profiles only)."""

from __future__ import annotations

from datetime import UTC, datetime

from regview.core.model import CredentialKind, Endpoint
from regview.settings.profiles import Profile, with_updates
from regview.ui.dialogs.delete.doubt import credential_warning

BASE = Profile.for_endpoint(
    Endpoint(url="https://registry.example.com"),
    username="alice",
    credential_kind=CredentialKind.PERSONAL,
    verified_at=datetime(2026, 12, 1, tzinfo=UTC),
)


def test_nothing_known_says_nothing() -> None:
    assert credential_warning(BASE, "acme/app") == ""
    assert credential_warning(None, "acme/app") == ""


def test_scopes_hold_for_every_repository() -> None:
    p = with_updates(BASE, cannot_delete="its scopes are read_registry")
    for repo in ("acme/app", "oss/tools"):
        said = credential_warning(p, repo)
        assert "cannot delete here: its scopes are read_registry" in said
        assert "2026-12-01" in said and "403" in said


def test_a_refused_grant_holds_only_where_it_was_tested() -> None:
    """Roles differ between projects: a refusal in one repository says nothing of another."""
    p = with_updates(BASE, delete_refused_in="acme/app")
    assert "did not grant it delete in acme/app" in credential_warning(p, "acme/app")
    assert credential_warning(p, "oss/tools") == ""
