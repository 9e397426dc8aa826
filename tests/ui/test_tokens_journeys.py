"""Issue 11's observations as journeys through the real dialogs: a real gnome-keyring (on its own
D-Bus, `keyring_support.gnome_keyring`) where secrets matter, the embedded registry and GitLab
instance on loopback sockets, and clicks and typing through pytest-qt.

Each test names the observation it reproduces; each failed on the code before the fix.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from connect_support import local_registry, run
from delete_support import until
from keyring_support import gnome_keyring
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from testkit import free_port

from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.services.accounts import Accounts
from regview.settings.profiles import Profile, SettingsStore
from regview.settings.secrets import SERVICE, FallbackStore, KeyringStore, entry_name
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.tokens_dialog import TokensDialog

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("gnome-keyring-daemon")]

LEGACY = Path(__file__).resolve().parent.parent / "integration" / "data"
LEGACY = LEGACY / "settings-v1-shared-secrets"
LOCAL = "Local test registry"


def shown(html: str) -> str:
    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


@pytest.fixture
def keyring_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with gnome_keyring(tmp_path / "keyring-home", monkeypatch, b"\n") as backend:
        yield backend


def accounts_on(base: Path, backend: Any) -> Accounts:
    return Accounts(SettingsStore(base / "settings.json"), FallbackStore(KeyringStore(backend)))


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The embedded GitLab instance with its demo data: (url, demo user's token)."""
    from regview.server.runner import LocalRegistry

    with LocalRegistry(tmp_path / "gitlab", auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        yield reg.url, reg.demo_credentials[1]


def gitlab_profile(url: str, name: str = LOCAL) -> Profile:
    return Profile.for_endpoint(
        Endpoint(url=url, kind=RegistryKind.GITLAB, api_url=f"{url}/api/v4"),
        name=name,
        username="demo",
        credential_kind=CredentialKind.PERSONAL,
    )


def demo_tokens(gitlab_dir: Path, *specs: tuple[set[str], str | None]) -> list[str]:
    """New personal tokens of the demo user on the running instance: (scopes, expiry) each."""
    from regview.server.gitlab.model import GitLabStore
    from regview.server.gitlab.perms import TokenKind

    store = GitLabStore(gitlab_dir)
    try:
        return [
            store.add_token(TokenKind.PERSONAL, username="demo", scopes=scopes, expires_at=day)[1]
            for scopes, day in specs
        ]
    finally:
        store.close()


def main_window(qtbot: QtBot, accounts: Accounts, tmp_path: Path) -> Any:
    """The shown main window over `accounts` (its local mode unused)."""
    from regview.paths import default_paths
    from regview.services.sessions import SessionManager
    from regview.ui.local_mode import LocalMode
    from regview.ui.window.main_window import MainWindow

    local = LocalMode(accounts, default_paths(tmp_path / "base"))
    window = MainWindow(accounts, SessionManager(accounts), local)
    qtbot.addWidget(window)
    window.show()
    return window


def tokens_dialog(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, accounts: Accounts
) -> TokensDialog:
    d = TokensDialog(accounts)
    qtbot.addWidget(d)
    d.show()
    run(qloop, d.refresh())
    return d


def wait_task(qloop: asyncio.AbstractEventLoop, owner: Any, name: str) -> None:
    """Let the task a click started in `owner.tasks` slot `name` finish (bounded)."""
    task = owner.tasks.task(name)
    if task is not None:
        run(qloop, asyncio.wait({task}))
    run(qloop, until(lambda: not owner.tasks.running(name)))


def click(qtbot: QtBot, button: Any) -> None:
    assert button.isEnabled(), f"{button.text()!r} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# -- observation 1: a wrong token added for the same login breaks the working profile ---------


def test_1_adding_a_wrong_token_for_the_same_login_never_breaks_the_working_profile(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
) -> None:
    url, token = gitlab
    accounts = accounts_on(tmp_path, keyring_backend)
    run(qloop, accounts.save(gitlab_profile(url), token))
    d = tokens_dialog(qtbot, qloop, accounts)

    add = d.add()
    qtbot.keyClicks(add.address, url)
    run(qloop, add.check())
    assert add.probe_result is not None and add.probe_result.kind == RegistryKind.GITLAB
    add.kind.setCurrentIndex(add.kind.findData(CredentialKind.PERSONAL))
    qtbot.keyClicks(add.username, "demo")
    qtbot.keyClicks(add.secret, "glpat-wrong-wrong-wrong")
    qtbot.keyClicks(add.name, "second login")
    assert add.save_button.text() == "Add registry"
    click(qtbot, add.save_button)  # tests first; the token fails, so nothing is saved
    wait_task(qloop, add, "save")
    card = shown(add.test_card.label.text())
    assert "The test failed" in card and "Not saved" in card
    assert "second login" not in run(qloop, accounts.load()).profiles
    assert add.save_button.text() == "Add anyway"
    assert "401" in add.save_button.toolTip() or "refused" in add.save_button.toolTip().lower()
    click(qtbot, add.save_button)  # the explicit "Add anyway"
    wait_task(qloop, add, "save")
    profiles = run(qloop, accounts.load()).profiles
    assert set(profiles) == {LOCAL, "second login"}
    assert profiles[LOCAL].secret_id != profiles["second login"].secret_id

    # the working profile still works: its own keyring entry was never touched
    run(qloop, d.refresh())
    d.select(LOCAL)
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    text = shown(d.status.label.text())
    assert "Signed in as demo" in text, text
    assert "401" not in text
    stored = keyring_backend.get_password(
        SERVICE, entry_name(url, "demo", profiles[LOCAL].secret_id)
    )
    assert stored == token
    run(qloop, d.tasks.aclose())


def test_1_entries_written_by_the_previous_version_are_migrated_with_none_lost(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: Any
) -> None:
    """settings.json and the keyring exactly as the previous regview wrote them (two profiles on
    one shared entry, one without a secret, one anonymous): after the first start every profile
    with a secret has its own entry holding it, and the shared entries are gone."""
    shutil.copy(LEGACY / "settings.json", tmp_path / "settings.json")
    for entry in json.loads((LEGACY / "keyring.json").read_text(encoding="utf-8")):
        keyring_backend.set_password(entry["service"], entry["username"], entry["secret"])
    expected = {
        "Local test registry": "glpat-demo-working-token",
        "local mirror": "glpat-demo-working-token",
        "docker.io": "hub-pa55word",
        "example (no secret)": None,
        "quay.io": None,
    }

    accounts = accounts_on(tmp_path, keyring_backend)
    profiles = {p.name: p for p in run(qloop, accounts.profiles())}
    assert set(profiles) == set(expected)
    for name, secret in expected.items():
        assert run(qloop, accounts.secret(profiles[name])) == secret, name
    ids = [profiles[n].secret_id for n, s in expected.items() if s is not None]
    assert all(ids) and len(set(ids)) == len(ids)  # an entry each
    assert not profiles["example (no secret)"].secret_id  # nothing to move: left as it was
    assert keyring_backend.get_password(SERVICE, "demo@127.0.0.1:5000") is None
    assert keyring_backend.get_password(SERVICE, "alice@docker.io") is None
    text = (tmp_path / "settings.json").read_text(encoding="utf-8")
    assert "glpat" not in text and "pa55" not in text

    # a restart finds them again, and replacing one leaves its former partner alone
    again = accounts_on(tmp_path, keyring_backend)
    profiles = {p.name: p for p in run(qloop, again.profiles())}
    run(qloop, again.replace_secret(profiles["local mirror"], "demo", CredentialKind.PERSONAL, "x"))
    assert run(qloop, again.secret(profiles[LOCAL])) == "glpat-demo-working-token"


# -- observation 2: Replace… could not be used ---------------------------------------------------


@pytest.mark.parametrize("kind", [CredentialKind.PERSONAL, CredentialKind.PASSWORD])
def test_2_replace_enables_test_and_save_once_a_secret_is_typed_and_saves_it(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    kind: CredentialKind,
) -> None:
    accounts = accounts_on(tmp_path, keyring_backend)
    with local_registry(tmp_path / "reg", basic=True) as url:
        from connect_support import PASSWORD, USER

        profile = Profile.for_endpoint(
            Endpoint(url=url), name="reg", username=USER, credential_kind=kind
        )
        run(qloop, accounts.save(profile, "old-and-wrong"))
        d = tokens_dialog(qtbot, qloop, accounts)
        d.select("reg")
        replace = d.replace()
        assert replace is not None
        qtbot.keyClicks(replace.secret, PASSWORD)
        assert replace.test_button.isEnabled() and replace.save_button.isEnabled()
        click(qtbot, replace.test_button)
        wait_task(qloop, replace, "test")
        assert replace.access is not None and replace.access.passed
        click(qtbot, replace.save_button)
        wait_task(qloop, replace, "save")
        saved = run(qloop, accounts.load()).profiles["reg"]
        assert run(qloop, accounts.secret(saved)) == PASSWORD
        run(qloop, d.tasks.aclose())


# -- observation 3: Test said "nothing" for a working GitLab token ------------------------------


def test_3_test_says_who_the_token_is_its_scopes_the_api_and_what_it_can_do(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
) -> None:
    url, token = gitlab
    accounts = accounts_on(tmp_path, keyring_backend)
    run(qloop, accounts.save(gitlab_profile(url), token))
    d = tokens_dialog(qtbot, qloop, accounts)
    d.select(LOCAL)
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    text = shown(d.status.label.text())
    assert "Signed in as demo" in text
    assert "scopes api, read_registry, write_registry" in text and "never expires" in text
    assert "REST API answers" in text
    assert "Can pull" in text and "Can push" in text and "Can delete" in text
    assert "nothing" not in text and "Cannot list the catalog" not in text
    assert "Name a repository" not in text
    # the repository came from a list the user can pick another one from
    listed = [d.repo_box.itemText(i) for i in range(d.repo_box.count())]
    assert len(listed) >= 2 and d.repo_box.text() in listed
    d.repo_box.setCurrentIndex(1)
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    assert f"in {listed[1]}" in shown(d.status.label.text())
    row = d.tree.topLevelItem(0)
    assert row is not None and row.text(3).startswith("pull, push, delete")
    assert row.text(4) == "never"  # GitLab said the demo token has no expiry date
    run(qloop, d.tasks.aclose())


# -- observations 4 and 5: addresses and unreachable registries ----------------------------------


def test_4_a_mistyped_port_is_explained_inline_and_never_crashes(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: Any
) -> None:
    accounts = accounts_on(tmp_path, keyring_backend)
    add = AddRegistryDialog(accounts)
    qtbot.addWidget(add)
    add.show()
    qtbot.keyClicks(add.address, "registry.example.com:50O0")
    assert "letter O" in shown(add.probe_card.label.text())  # as typed, before Enter
    qtbot.keyClick(add.address, Qt.Key.Key_Return)
    run(qloop, asyncio.sleep(0.1))
    assert not add.tasks.running("probe")
    assert "Checking" not in shown(add.probe_card.label.text())
    assert "The port must be a number" in shown(add.probe_card.label.text())
    # fixing the typo checks again
    qtbot.keyClick(add.address, Qt.Key.Key_Backspace)
    qtbot.keyClick(add.address, Qt.Key.Key_Backspace)
    qtbot.keyClicks(add.address, "00")
    assert add.address.text() == "registry.example.com:5000", add.address.text()
    assert "port" not in shown(add.probe_card.label.text()).lower()
    run(qloop, add.tasks.aclose())


def test_5_nothing_listening_is_said_in_words_and_add_needs_add_anyway(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
) -> None:
    accounts = accounts_on(tmp_path, keyring_backend)
    port = free_port()
    # the dialog closes itself after saving: a window behind it keeps the event loop going,
    # as the main window does in the app
    behind = QWidget()
    qtbot.addWidget(behind)
    behind.show()
    add = AddRegistryDialog(accounts, parent=behind)
    add.show()
    qtbot.keyClicks(add.address, f"http://127.0.0.1:{port}")
    qtbot.keyClick(add.address, Qt.Key.Key_Return)
    wait_task(qloop, add, "probe")
    said = shown(add.probe_card.label.text())
    assert f"Nothing answers on 127.0.0.1 port {port}" in said, said
    assert "ssl:default" not in said and "ConnectError" not in said
    assert add.save_button.text() == "Add anyway"
    assert "Nothing answers" in add.save_button.toolTip()
    click(qtbot, add.save_button)
    wait_task(qloop, add, "save")
    assert "127.0.0.1:" + str(port) in run(qloop, accounts.load()).profiles


# -- observation 6: local mode took a new port on every start -------------------------------------


def test_6_local_mode_keeps_its_port_and_its_identity_across_starts(
    qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: Any
) -> None:
    import socket

    from regview.paths import default_paths
    from regview.settings.profiles import registry_host
    from regview.ui.local_mode import LOCAL_PROFILE, LocalMode

    accounts = accounts_on(tmp_path, keyring_backend)
    paths = default_paths(tmp_path / "base")

    def start_stop() -> Profile:
        mode = LocalMode(accounts, paths, auth="none")
        try:
            return run(qloop, mode.start())
        finally:
            run(qloop, mode.stop())

    first = start_stop()
    second = start_stop()
    assert second.url == first.url  # the same port while it is free: links and the bin work
    # another program takes the port: the registry moves, and what named the old address
    # (a recycle-bin entry, a copied link, the last view) still finds the same profile
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        # the registry just stopped there: its connections may still be in TIME_WAIT
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", int(first.url.rsplit(":", 1)[1])))
        squatter.listen()
        moved = start_stop()
    assert moved.url != first.url and moved.name == LOCAL_PROFILE
    settings = run(qloop, accounts.load())
    assert list(settings.profiles) == [LOCAL_PROFILE]
    found = settings.find(registry_host(first.url))
    assert found is not None and found.name == LOCAL_PROFILE and found.url == moved.url
    assert found.answers_to(registry_host(first.url))
    # and once the old port is free again, the next start stays where it is now
    assert start_stop().url == moved.url


# -- expiry: shown, warned about at start, and named when a 401 comes from it ------------------


def test_expiry_is_listed_warned_at_start_and_an_expired_401_names_the_date(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
) -> None:
    from datetime import UTC, datetime, timedelta

    url, _ = gitlab
    in_five = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    soon, dead = demo_tokens(
        tmp_path / "gitlab", ({"api", "read_registry"}, in_five), ({"api"}, "2020-01-01")
    )
    accounts = accounts_on(tmp_path, keyring_backend)
    run(qloop, accounts.save(gitlab_profile(url, "soon"), soon))
    # its expiry as an earlier Test recorded it, before the day came
    expired = datetime(2020, 1, 1, tzinfo=UTC)
    run(qloop, accounts.save(with_expiry(gitlab_profile(url, "dead"), expired), dead))

    d = tokens_dialog(qtbot, qloop, accounts)
    d.select("soon")
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    row = next(
        d.tree.topLevelItem(i)
        for i in range(d.tree.topLevelItemCount())
        if d.tree.topLevelItem(i).text(0) == "soon"  # type: ignore[union-attr]
    )
    assert row is not None and row.text(4) in ("expires in 4 days", "expires in 5 days")
    d.select("dead")
    assert not d.fix_button.isVisible()
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    said = shown(d.status.label.text())
    assert "This token expired on 2020-01-01" in said and "has expired" in said, said
    assert d.fix_button.isVisible()
    click(qtbot, d.fix_button)
    replace = d.findChild(AddRegistryDialog)
    assert replace is not None and replace.existing is not None
    assert replace.existing.name == "dead"
    run(qloop, replace.tasks.aclose())
    replace.close()
    run(qloop, d.tasks.aclose())
    d.close()

    # start-up: the banner lists both, soonest first; opening the dead one explains its 401
    window = main_window(qtbot, accounts, tmp_path)

    async def scenario() -> None:
        await window.start()
        text = window.banner.label.text()
        assert window.banner.isVisible() and "expired" in text
        assert "dead: expired" in text and "soon: expires in" in text
        window.open_profile("dead")
        await until(lambda: "The token has expired" in window.banner.label.text())
        assert "2020-01-01" in window.banner.label.text()
        assert window.banner.button.text() == "Replace token…"

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, window.aclose())


def test_a_wrong_token_is_listed_as_refused_and_the_banner_agrees_with_the_test(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
) -> None:
    """Walking the app: after Test said "GitLab refused this token (401): it is wrong, expired or
    revoked", the Verified column said "not checked · now", and the main view's banner blamed a
    missing read_api scope. A refusal is a result; a 401 means wrong, expired or revoked."""
    url, _ = gitlab
    accounts = accounts_on(tmp_path, keyring_backend)
    run(qloop, accounts.save(gitlab_profile(url), "glpat-wrongwrongwrong"))
    d = tokens_dialog(qtbot, qloop, accounts)
    d.select(LOCAL)
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    said = shown(d.status.label.text())
    assert "wrong, expired or revoked" in said, said
    row = d.tree.topLevelItem(0)
    assert row is not None and row.text(3) == "refused (401) · now", row.text(3)
    run(qloop, d.tasks.aclose())
    d.close()

    window = main_window(qtbot, accounts, tmp_path)

    async def scenario() -> None:
        await window.start()
        window.open_profile(LOCAL)
        await until(lambda: window.banner.isVisible() and "401" in window.banner.label.text())
        text = " ".join(shown(window.banner.label.text()).split())
        assert "wrong, expired or revoked" in text, text
        assert "read_api" not in text and "scope" not in text, text
        assert window.banner.button.text() == "Manage tokens…"

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, window.aclose())


def with_expiry(profile: Profile, moment: Any) -> Profile:
    from dataclasses import replace

    return replace(profile, expires_at=moment)


# -- observation 7: Import logins imported everything at once, GitLab as a plain password -------


def test_7_import_previews_each_login_and_recognises_gitlab(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from connect_support import PASSWORD, USER, only_these_logins

    from regview.ui.dialogs.import_dialog import ImportDialog

    url, token = gitlab
    with local_registry(tmp_path / "reg", basic=True) as plain:
        gitlab_host, plain_host = url.split("://")[1], plain.split("://")[1]
        only_these_logins(
            monkeypatch,
            tmp_path,
            {gitlab_host: f"demo:{token}", plain_host: f"{USER}:{PASSWORD}"},
        )
        accounts = accounts_on(tmp_path, keyring_backend)
        d = tokens_dialog(qtbot, qloop, accounts)
        click(qtbot, d.import_button)
        preview = d.findChild(ImportDialog)
        assert preview is not None
        wait_task(qloop, preview, "load")
        assert run(qloop, accounts.load()).profiles == {}  # a preview: nothing stored yet
        rows = {c.registry: (c, ticked) for c, ticked in preview.rows()}
        assert set(rows) == {gitlab_host, plain_host} and all(t for _c, t in rows.values())
        found, _ = rows[gitlab_host]
        assert found.gitlab and found.kind == CredentialKind.PERSONAL
        assert found.api_url == f"{url}/api/v4"
        assert not rows[plain_host][0].gitlab
        # the user unticks the plain registry
        for i in range(preview.tree.topLevelItemCount()):
            item = preview.tree.topLevelItem(i)
            if item is not None and item.text(0) == plain_host:
                item.setCheckState(0, Qt.CheckState.Unchecked)
        assert preview.import_button.text() == "Import 1"
        click(qtbot, preview.import_button)
        wait_task(qloop, preview, "import")
        wait_task(qloop, d, "refresh")
        profiles = run(qloop, accounts.load()).profiles
        assert list(profiles) == [gitlab_host]
        imported = profiles[gitlab_host]
        assert imported.kind == RegistryKind.GITLAB
        assert imported.credential_kind == CredentialKind.PERSONAL
        assert imported.api_url == f"{url}/api/v4"
        d.select(gitlab_host)
        click(qtbot, d.test_button)
        wait_task(qloop, d, "action")
        assert "Signed in as demo" in shown(d.status.label.text())
        # a second import offers the GitLab login as already here: never imported twice
        click(qtbot, d.import_button)
        again = [w for w in d.findChildren(ImportDialog) if w is not preview and w.isVisible()]
        assert again
        wait_task(qloop, again[-1], "load")
        status = {c.registry: (c.status, t) for c, t in again[-1].rows()}
        assert status[gitlab_host] == ("already here", False)
        assert status[plain_host] == ("new", True)
        run(qloop, again[-1].tasks.aclose())
        run(qloop, d.tasks.aclose())


# -- observation 9: a read-only token was not flagged in the delete plan --------------------------


def test_9_the_delete_plan_says_before_confirming_that_the_token_cannot_delete(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from regview.core.client.client import RegistryClient
    from regview.core.model import Credentials
    from regview.ui.dialogs.delete.dialog import DeleteDialog
    from regview.ui.pages import repositories as repositories_page

    # about the plan, not the listing: no background Size read of every repository alongside
    monkeypatch.setattr(repositories_page, "AUTO_MEASURE", 0)

    url, _ = gitlab
    [read_only] = demo_tokens(tmp_path / "gitlab", ({"read_registry", "read_api"}, None))
    accounts = accounts_on(tmp_path, keyring_backend)
    run(qloop, accounts.save(gitlab_profile(url, "gitlab"), read_only))
    d = tokens_dialog(qtbot, qloop, accounts)
    d.select("gitlab")
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    repo = d.repo_box.text()
    assert repo and "Cannot delete" in shown(d.status.label.text())
    run(qloop, d.tasks.aclose())
    d.close()

    async def a_tag() -> str:
        endpoint = gitlab_profile(url).endpoint
        creds = Credentials("demo", read_only, CredentialKind.PERSONAL)
        async with RegistryClient(endpoint, creds) as client:
            return (await client.list_tags(repo))[0]

    tag = run(qloop, a_tag())
    window = main_window(qtbot, accounts, tmp_path)
    shown_dialogs: list[DeleteDialog] = []

    async def scenario() -> None:
        await window.start()
        window.delete_flow.confirmShown.connect(shown_dialogs.append)
        window.delete_flow.delete_tags("gitlab", repo, [tag])
        await until(lambda: bool(shown_dialogs))
        box = shown_dialogs[0].refusal_box
        assert box.isVisibleTo(shown_dialogs[0])
        text = shown(box.text())
        assert "This credential cannot delete here" in text, text
        assert "read_api, read_registry" in text and "403" in text
        shown_dialogs[0].reject()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, window.aclose())


# -- observation 8: squashed fields, and a form that jumped while typing -------------------------


def _fields(d: AddRegistryDialog) -> list[Any]:
    from PySide6.QtWidgets import QComboBox, QLineEdit

    return [w for w in d.findChildren(QLineEdit) + d.findChildren(QComboBox) if w.isVisibleTo(d)]


def test_8_add_registry_keeps_its_place_and_never_squeezes_a_field(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """No keyring (its notice appears), a probe and a test result: the dialog fits a 1024×700
    screen, keeps its size and place, and every field keeps its natural height; typing a
    username moves nothing."""
    from connect_support import PASSWORD, USER
    from keyring.backends.fail import Keyring as FailKeyring

    accounts = accounts_on(tmp_path, FailKeyring())
    with local_registry(tmp_path / "reg", basic=True) as url:
        behind = QWidget()
        qtbot.addWidget(behind)
        behind.show()
        d = AddRegistryDialog(accounts, parent=behind)
        d.show()
        assert d.width() <= 1024 and d.height() <= 640  # a 1024×700 screen, under a title bar
        size = d.size()
        wait_task(qloop, d, "keyring")
        assert "No keyring available" in shown(d.keyring_card.label.text())
        qtbot.keyClicks(d.address, url)
        run(qloop, d.check())
        assert d.probe_result is not None
        d.kind.setCurrentIndex(d.kind.findData(CredentialKind.PASSWORD))
        qtbot.wait(10)
        where = d.username.geometry()
        for ch in USER + "-typed-slowly":
            qtbot.keyClick(d.username, ch)
            qtbot.wait(1)
            assert d.username.geometry() == where  # the form does not jump under the cursor
        d.username.setText(USER)
        qtbot.keyClicks(d.secret, PASSWORD)
        click(qtbot, d.test_button)
        wait_task(qloop, d, "test")
        assert "Can list every repository" in shown(d.test_card.label.text())
        qtbot.wait(10)
        assert d.size() == size
        for field in _fields(d):
            assert field.height() >= field.sizeHint().height(), field
        anonymous = d.kind.fontMetrics().horizontalAdvance("Anonymous")
        assert d.kind.width() > anonymous
        # a message with a word longer than the dialog (a URL, a digest) widens nothing
        d.probe_card.show_text(f"{url}/" + "averylongpathsegment" * 12, "bad")
        qtbot.wait(10)
        content = d.body_scroll.widget()
        assert d.size() == size and content.width() <= d.body_scroll.viewport().width()
        assert d.check_button.geometry().right() <= content.width()
        run(qloop, d.tasks.aclose())


def test_6_the_last_view_links_and_the_recycle_bin_follow_the_local_registry(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, keyring_backend: Any
) -> None:
    """Restart with the port free: the last view opens as it was. Restart with the port taken:
    the view, a copied link and a recycle-bin lookup naming the old address reach the same
    registry at its new one — no "not configured" or "not reachable" banner."""
    import socket

    from regview.paths import default_paths
    from regview.services.sessions import SessionManager
    from regview.settings.profiles import registry_host
    from regview.ui.local_mode import LocalMode
    from regview.ui.window.main_window import MainWindow

    accounts = accounts_on(tmp_path, keyring_backend)
    paths = default_paths(tmp_path / "base")

    def session(ui_state: dict[str, Any], before: Any = None) -> tuple[dict[str, Any], str, Any]:
        local = LocalMode(accounts, paths, auth="none")
        window = MainWindow(accounts, SessionManager(accounts), local, ui_state=ui_state)
        qtbot.addWidget(window)
        window.show()
        found: list[Any] = []

        async def scenario() -> None:
            await local.start()
            await window.start()
            await until(
                lambda: window.sidebar is not None and bool(window.repositories.listed.get(LOCAL))
            )
            if before is not None:
                found.append(await before(window))

        try:
            run(qloop, scenario(), 60)
            state, banner = window.ui_state(), window.banner
            said = banner.label.text() if banner.isVisible() else ""
        finally:
            run(qloop, window.aclose())
            run(qloop, local.stop())
        return state, said, found[0] if found else None

    first, said, _ = session({})
    assert said == "" and first["last_view"]
    old_host = registry_host(run(qloop, accounts.load()).profiles[LOCAL].url)
    again, said, _ = session({"last_view": first["last_view"]})
    assert said == "" and again["last_view"] == first["last_view"]  # the same port, same view

    async def bin_lookup(window: Any) -> Any:
        conn = await window.delete_flow.connection_for_registry(old_host)
        try:
            return conn is not None
        finally:
            if conn is not None:
                await conn.close()

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        # the registry just stopped there: its connections may still be in TIME_WAIT
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", int(old_host.rsplit(":", 1)[1])))
        squatter.listen()
        moved, said, bin_found = session({"last_view": first["last_view"]}, bin_lookup)
    assert said == "", said  # the old address's view opened at the new one
    assert bin_found  # a recycle-bin entry of the old address finds its registry
    new_host = registry_host(run(qloop, accounts.load()).profiles[LOCAL].url)
    assert new_host != old_host
    # links made now name the local registry, not an address that moves (they open wherever
    # it runs; test_window_walk opens one after a move)
    from regview.ui.links import LOCAL_REGISTRY, parse_link

    assert parse_link(moved["last_view"]).registry == LOCAL_REGISTRY, moved["last_view"]


# -- observation 3, every kind: a deploy token cannot list, so its repository is typed ----------


def test_3_a_deploy_token_is_tested_on_a_typed_repository(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
) -> None:
    from regview.server.gitlab.model import GitLabStore
    from regview.server.gitlab.perms import TokenKind

    url, _ = gitlab
    store = GitLabStore(tmp_path / "gitlab")
    try:
        record, secret = store.add_token(
            TokenKind.DEPLOY, project="acme/webshop", scopes={"read_registry"}
        )
    finally:
        store.close()
    accounts = accounts_on(tmp_path, keyring_backend)
    behind = QWidget()
    qtbot.addWidget(behind)
    behind.show()
    add = AddRegistryDialog(accounts, parent=behind)
    add.show()
    qtbot.keyClicks(add.address, url)
    run(qloop, add.check())
    add.kind.setCurrentIndex(add.kind.findData(CredentialKind.DEPLOY))
    assert not add.api_url.isVisibleTo(add)  # deploy tokens never go to the REST API
    qtbot.keyClicks(add.username, record.username)
    qtbot.keyClicks(add.secret, secret)
    click(qtbot, add.test_button)
    wait_task(qloop, add, "test")
    said = shown(add.test_card.label.text())
    assert "deploy tokens cannot list repositories. Type one" in said, said
    assert add.save_button.text() == "Add anyway"  # nothing was shown to work yet
    repo = "acme/webshop/frontend"
    add.repository.setText(repo)
    add.repository.edited.emit()
    click(qtbot, add.test_button)
    wait_task(qloop, add, "test")
    said = shown(add.test_card.label.text())
    assert f"Can pull (read) images in {repo}" in said, said
    assert f"Cannot push in {repo}" in said or "Push unknown" in said
    assert add.save_button.text() == "Add registry"
    run(qloop, add.tasks.aclose())


# -- observation 3 for every GitLab token kind: project, group and CI job tokens ------------------


@pytest.mark.parametrize("kind", ["project", "group", "job"])
def test_3_test_tells_the_truth_for_project_group_and_ci_job_tokens(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    keyring_backend: Any,
    gitlab: tuple[str, str],
    kind: str,
) -> None:
    """Test on the embedded GitLab instance with a project access token (api, writes), a group
    access token (read-only) and a CI job token (no REST identity, no listing): each says who
    it is and what it may do, or — for the job token — why nothing could be tried, in its own
    words (it used to be told it was a deploy token, and listed as able to do "nothing")."""
    from regview.server.gitlab.model import GitLabStore
    from regview.server.gitlab.perms import TokenKind

    url, _ = gitlab
    store = GitLabStore(tmp_path / "gitlab")
    try:
        if kind == "project":
            _, secret = store.add_token(
                TokenKind.PROJECT,
                username="project_bot",
                project="acme/webshop",
                scopes={"api", "read_registry", "write_registry"},
            )
            user, credential = "project_bot", CredentialKind.PROJECT
        elif kind == "group":
            _, secret = store.add_token(
                TokenKind.GROUP,
                username="group_bot",
                group="acme",
                scopes={"read_api", "read_registry"},
            )
            user, credential = "group_bot", CredentialKind.GROUP
        else:
            _, secret = store.add_token(TokenKind.JOB, username="demo", project="acme/webshop")
            user, credential = "gitlab-ci-token", CredentialKind.JOB
    finally:
        store.close()
    accounts = accounts_on(tmp_path, keyring_backend)
    profile = Profile.for_endpoint(
        Endpoint(url=url, kind=RegistryKind.GITLAB, api_url=f"{url}/api/v4"),
        name=LOCAL,
        username=user,
        credential_kind=credential,
    )
    run(qloop, accounts.save(profile, secret))
    d = tokens_dialog(qtbot, qloop, accounts)
    d.select(LOCAL)
    click(qtbot, d.test_button)
    wait_task(qloop, d, "action")
    text = shown(d.status.label.text())
    row = d.tree.topLevelItem(0)
    assert row is not None
    if kind == "job":
        assert "CI job token reaches only the registry of its job's project" in text, text
        assert "deploy token" not in text
        assert row.text(3).startswith("not checked"), row.text(3)
    else:
        assert f"Signed in as {user}, a bot user acting for a project or group token" in text
        assert "The GitLab REST API answers this token" in text
        repo = d.repo_box.text()
        assert repo and f"Can pull (read) images in {repo}" in text, text
        if kind == "project":
            assert "scopes api, read_registry, write_registry" in text
            assert f"Can push (write) images in {repo}" in text, text
            assert row.text(3).startswith("pull, push"), row.text(3)
        else:
            assert "scopes read_api, read_registry" in text
            assert f"Cannot push in {repo}: read-only" in text, text
            assert "push" not in row.text(3), row.text(3)
    run(qloop, d.tasks.aclose())
