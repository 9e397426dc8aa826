"""The Add registry dialog against the embedded registry over a loopback socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from connect_support import (
    PASSWORD,
    USER,
    MemoryKeyring,
    local_registry,
    make_accounts,
    run,
)
from pytestqt.qtbot import QtBot
from testkit import free_port

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.services.sessions import AccessSummary, ProbeSummary, derive_gitlab_api
from regview.ui.dialogs.connect.dialog import AddRegistryDialog

pytestmark = [pytest.mark.ui]


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


def dialog(qtbot: QtBot, tmp_path: Path, backend: MemoryKeyring) -> AddRegistryDialog:
    d = AddRegistryDialog(make_accounts(tmp_path, backend))
    qtbot.addWidget(d)
    return d


@pytest.mark.integration
def test_anonymous_registry_is_probed_tested_and_saved(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    with local_registry(tmp_path / "reg") as url:
        d = dialog(qtbot, tmp_path, keyring_backend)
        d.address.setText(url)
        run(qloop, d.check())
        assert d.probe_result is not None
        assert d.probe_result.auth_required is False
        assert "without signing in" in d.probe_card.label.text()
        assert d.current_kind() == CredentialKind.ANONYMOUS
        assert not d.username.isEnabled()

        run(qloop, d.test())
        assert d.access is not None and d.access.catalog is True
        assert "list every repository" in d.test_card.label.text()

        added: list[str] = []
        d.registryAdded.connect(added.append)
        d.name.setText("scratch")
        run(qloop, d.save())
        assert added == ["scratch"]
        profile = run(qloop, d.accounts.load()).profiles["scratch"]
        assert profile.url == url
        assert profile.credential_kind == CredentialKind.ANONYMOUS
        assert "catalog" in profile.verified and profile.verified_at is not None


@pytest.mark.integration
def test_basic_auth_wrong_then_right_password(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    with local_registry(tmp_path / "reg", basic=True) as url:
        d = dialog(qtbot, tmp_path, keyring_backend)
        d.address.setText(url)
        run(qloop, d.check())
        assert d.probe_result is not None and d.probe_result.auth_required
        assert d.current_kind() == CredentialKind.PASSWORD
        assert d.secret_label.text() == "&Password:"

        d.username.setText(USER)
        d.secret.setText("wrong")
        run(qloop, d.test())
        assert d.access is None
        assert "failed" in d.test_card.label.text()
        assert "wrong" not in d.test_card.label.text()

        d.secret.setText(PASSWORD)
        run(qloop, d.test())
        assert d.access is not None and d.access.catalog is True

        run(qloop, d.save())
        settings_text = (tmp_path / "settings.json").read_text(encoding="utf-8")
        assert PASSWORD not in settings_text
        assert USER in settings_text
        assert PASSWORD in keyring_backend.entries.values()


@pytest.mark.integration
def test_unreachable_address_is_explained(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    d = dialog(qtbot, tmp_path, keyring_backend)
    d.address.setText(f"http://127.0.0.1:{free_port()}")
    run(qloop, d.check())
    assert d.probe_result is None
    text = d.probe_card.label.text()
    assert "127.0.0.1" in text and len(text) > 30


def test_plain_http_to_a_remote_host_is_refused_until_marked_insecure(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    d = dialog(qtbot, tmp_path, keyring_backend)
    d.address.setText("http://registry.invalid")
    run(qloop, d.check())
    assert d.probe_result is None
    assert "insecure" in d.probe_card.label.text()


def test_kinds_fill_or_check_the_username(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    d = dialog(qtbot, tmp_path, keyring_backend)
    d.address.setText("registry.example.com")
    d.kind.setCurrentIndex(d.kind.findData(CredentialKind.JOB))
    assert d.username.text() == "gitlab-ci-token" and d.username.isReadOnly()
    d.kind.setCurrentIndex(d.kind.findData(CredentialKind.DEPLOY))
    assert d.username.text() == "" and not d.username.isReadOnly()
    assert "gitlab+deploy-token-" in d.username.placeholderText()
    d.username.setText("alice")
    d.secret.setText("gldt-123")
    assert "gitlab+deploy-token-12" in d.problem()
    d.username.setText("gitlab+deploy-token-12")
    assert d.problem() == ""
    d.kind.setCurrentIndex(d.kind.findData(CredentialKind.PROJECT))
    d.username.setText("")
    creds = d.credentials()
    assert creds is not None and creds.username  # never blank for project tokens
    d.kind.setCurrentIndex(d.kind.findData(CredentialKind.ANONYMOUS))
    assert d.credentials() is None and not d.secret.isEnabled()


class GitLabLike:
    """Stands in for a GitLab registry's answers (no GitLab instance exists in this repo yet)."""

    async def probe(self, endpoint: Endpoint) -> ProbeSummary:
        return ProbeSummary(
            endpoint.url, RegistryKind.GITLAB, True, "bearer", "https://gitlab.example.com/jwt/auth"
        )

    async def test(self, endpoint: Endpoint, credentials: object, repository: str) -> AccessSummary:
        return AccessSummary(repository, pull=True, push=False, delete=False, api=True)


def test_gitlab_api_is_derived_and_only_used_once_confirmed(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: MemoryKeyring
) -> None:
    d = AddRegistryDialog(make_accounts(tmp_path, keyring_backend), GitLabLike())
    qtbot.addWidget(d)
    d.address.setText("registry.example.com")
    run(qloop, d.check())
    assert d.current_kind() == CredentialKind.PERSONAL
    assert d.api_url.text() == "https://gitlab.example.com/api/v4"
    assert d.endpoint().api_url == ""  # not confirmed yet
    d.api_confirm.setChecked(True)
    assert d.endpoint().api_url == "https://gitlab.example.com/api/v4"
    d.kind.setCurrentIndex(d.kind.findData(CredentialKind.DEPLOY))
    assert d.endpoint().api_url == ""  # deploy tokens never go to the API
    assert d.endpoint().kind == RegistryKind.GITLAB


def test_derive_gitlab_api() -> None:
    assert derive_gitlab_api("https://r.example", "https://git.example/jwt/auth") == (
        "https://git.example/api/v4"
    )
    assert derive_gitlab_api("https://registry.gitlab.com", "") == "https://gitlab.com/api/v4"
    assert derive_gitlab_api("https://r.example", "https://auth.example/token") == ""


def test_access_in_words() -> None:
    a = AccessSummary("g/app", pull=True, push=False, delete=None, catalog=False)
    lines = dict((text, ok) for ok, text in a.lines())
    assert lines["Can pull (read) images in g/app"] is True
    assert lines["Cannot push in g/app: read-only"] is False
    assert lines["Delete unknown: the registry does not say without a real delete"] is None
    assert a.short() == "pull"
