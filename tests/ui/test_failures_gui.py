"""Bad input in the app: each failure set up for real over loopback sockets, driven through the
real main window, Add-registry dialog and delete flow. Each test checks the words the user sees
(banner, card, row, dialog), that no crash dialog and no unhandled task error appeared, that
nothing outside the selection was touched, and that the secret in play is in no settings file,
no log record and no message. Screenshots of the banners/dialogs go to the test's tmp dir (and
$REGVIEW_SCREENSHOT_DIR when set).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from connect_support import MemoryKeyring, make_accounts, run
from delete_support import shot, until
from fault_servers import (
    OCI_MANIFEST,
    DropProxy,
    FakeRegistry,
    HeaderRecorder,
    html_site,
    list_tags,
    make_tls,
    push_image,
    run_distribution_no_delete,
    serve,
    silent_server,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from testkit import free_port

from regview.core.model import CredentialKind, Endpoint
from regview.services.sessions import SessionManager
from regview.settings.profiles import Profile
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.errors import CrashDialog
from regview.ui.local_mode import LocalMode
from regview.ui.models import tags_model as tm
from regview.ui.window.main_window import MainWindow

pytestmark = [pytest.mark.ui, pytest.mark.integration]

SECRET = "Zx9-gui-Secret-4Kw"
USER = "alice"
REPO = "team/app"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="regview")
    return caplog


def no_crash() -> None:
    crashes = [w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog)]
    assert not crashes, "a crash dialog appeared"


def no_secret(tmp_path: Path, logs: pytest.LogCaptureFixture, *texts: str) -> None:
    settings = tmp_path / "settings.json"
    if settings.exists():
        assert SECRET not in settings.read_text(encoding="utf-8")
    assert SECRET not in logs.text
    for t in texts:
        assert SECRET not in t


def open_window(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    url: str,
    *,
    secret: str | None = None,
    user: str = USER,
    ca_file: str = "",
    name: str = "reg",
) -> MainWindow:
    accounts = make_accounts(tmp_path, MemoryKeyring())
    window = MainWindow(accounts, SessionManager(accounts), LocalMode(accounts))
    qtbot.addWidget(window)
    window.resize(1200, 720)
    window.show()
    fields: dict[str, Any] = {}
    if secret is not None:
        fields = {"username": user, "credential_kind": CredentialKind.PASSWORD}
    profile = Profile.for_endpoint(Endpoint(url=url, ca_file=ca_file), name=name, **fields)
    run(qloop, accounts.save(profile, secret))

    async def start() -> None:
        await window.start()
        await until(lambda: not window.tasks.running("repos"))
        # the Size column's background read too: a test that then works outside the loop
        # would otherwise leave that task to step with no running loop
        await until(lambda: not window.tasks.running("sizes"), 60)

    run(qloop, start())
    return window


def open_repo(qloop: asyncio.AbstractEventLoop, window: MainWindow, path: str = REPO) -> None:
    async def go() -> None:
        window.open_repository("reg", path)
        await until(lambda: not window.tasks.running("tags"))

    run(qloop, go(), 60)


def close(qloop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    no_crash()
    run(qloop, window.aclose())  # habit 7: cancel and await its tasks, then close
    window.close()


def settle(qloop: asyncio.AbstractEventLoop) -> None:
    """Let the loop run the close callbacks a failed TLS handshake scheduled (asyncio closes
    the socket one loop turn later; a test that stops the loop first would leak it)."""
    run(qloop, asyncio.sleep(0.2))


def banner(window: MainWindow) -> str:
    assert window.banner.isVisible(), "no error banner"
    return " ".join(window.banner.label.text().split())


def dialog(qtbot: QtBot, tmp_path: Path) -> AddRegistryDialog:
    d = AddRegistryDialog(make_accounts(tmp_path, MemoryKeyring()))
    qtbot.addWidget(d)
    d.resize(640, 560)
    d.show()
    return d


def card(c: Any) -> str:
    return " ".join(c.label.text().split())


# -- 1. an address that answers HTML ---------------------------------------------------------


def test_web_ui_address_in_dialog_and_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    with serve(html_site) as url:
        host = url.split("://")[1]
        d = dialog(qtbot, tmp_path)
        d.address.setText(url)
        run(qloop, d.check())
        assert d.probe_result is None
        said = card(d.probe_card)
        assert host in said and "HTML page" in said and "registry address" in said
        shot(qloop, d, tmp_path, "failure-html-dialog", "light")
        d.reject()

        window = open_window(qtbot, qloop, tmp_path, url, secret=SECRET)
        text = banner(window)
        assert "This address is not a registry" in text
        assert host in text and "HTML page" in text and "registry address" in text
        shot(qloop, window, tmp_path, "failure-html-window", "light")
        no_secret(tmp_path, logs, text, said)
        close(qloop, window)


# -- 2. malformed manifests: the rest load, the bad ones say why in their row ------------------


def test_malformed_manifests_show_in_their_rows(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    reg = FakeRegistry(secret=SECRET)
    good = {t: reg.add_image(t) for t in ("v1", "v2", "latest")}
    bad = reg.add_malformed()
    with serve(reg.app) as url:
        window = open_window(qtbot, qloop, tmp_path, url, secret=SECRET)
        open_repo(qloop, window)
        assert not window.banner.isVisible()
        model = window.tags_view.model
        rows = {model.row_at(r).tag: r for r in range(model.rowCount())}
        assert set(rows) == set(good) | set(bad)
        for tag, digest in good.items():
            assert model.row_at(rows[tag]).digest == digest and not model.row_at(rows[tag]).error
        tips = {}
        for tag in bad:
            r = rows[tag]
            kind = model.index(r, tm.KIND).data(Qt.ItemDataRole.DisplayRole)
            assert kind == "error", (tag, kind)
            tips[tag] = model.index(r, tm.TAG).data(Qt.ItemDataRole.ToolTipRole)
            assert tips[tag].startswith("Could not read this tag:"), tips[tag]
        assert "does not match its digest" in tips["digest-lies"]
        assert "HTML page" in tips["login-page"]
        no_secret(tmp_path, logs, *tips.values())
        close(qloop, window)


# -- 3. credentials ---------------------------------------------------------------------------


def test_wrong_password_banner(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    reg = FakeRegistry(secret="the-right-one")
    reg.add_image("v1")
    with serve(reg.app) as url:
        host = url.split("://")[1]
        window = open_window(qtbot, qloop, tmp_path, url, secret=SECRET)
        text = banner(window)
        assert "Sign-in failed" in text and host in text and "Manage tokens" in text
        assert window.banner.button.isVisible()
        assert window.banner.button.text() == "Manage tokens…"
        shot(qloop, window, tmp_path, "failure-wrong-password", "light")
        no_secret(tmp_path, logs, text)
        close(qloop, window)


@pytest.mark.needs_tool("docker-registry")
def test_token_realm_refusing_in_the_dialog(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    from distribution import run_distribution

    with run_distribution(tmp_path / "dist", flavour="token") as reg:
        d = dialog(qtbot, tmp_path)
        d.address.setText(reg.url)
        run(qloop, d.check())
        assert d.probe_result is not None and d.probe_result.auth_required
        d.username.setText(USER)
        d.secret.setText(SECRET)
        d.repository.setText(REPO)
        run(qloop, d.test())
        said = card(d.test_card)
        assert d.access is None, said
        assert "The test failed" in said and reg.host in said
        shot(qloop, d, tmp_path, "failure-token-realm", "light")
        no_secret(tmp_path, logs, said)
        no_crash()


@pytest.mark.slow
def test_token_expiring_while_browsing(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    """The embedded GitLab instance with 2-second tokens, reached through a slow link: loading
    and reloading outlive several tokens and never show an error."""
    from regview.server.runner import LocalRegistry

    repo = "acme/infra/ci-runner"
    with LocalRegistry(tmp_path / "gl", auth="token", token_ttl=2, demo=True) as reg:
        assert reg.demo_credentials is not None
        user, token = reg.demo_credentials
        proxy = DropProxy(reg.url, delay=0.05)
        with serve(proxy.app) as url:
            window = open_window(qtbot, qloop, tmp_path, url, secret=token, user=user)
            open_repo(qloop, window, repo)
            assert not window.banner.isVisible(), banner(window)
            count = window.tags_view.model.rowCount()
            assert count > 10
            assert not any(t.error for t in window.tags_view.model.rows)
            run(qloop, asyncio.sleep(2.5))
            open_repo(qloop, window, repo)
            assert not window.banner.isVisible(), banner(window)
            assert window.tags_view.model.rowCount() == count
            assert token not in logs.text
            close(qloop, window)


# -- 4. deletion disabled ---------------------------------------------------------------------


@pytest.mark.needs_tool("docker-registry")
def test_delete_disabled_learnt_from_the_first_deletion(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    """No probe DELETE tells in advance whether deletion is enabled: the first confirmed
    deletion does (405 on the throw-away placeholder). The tag is put back on its manifest, the
    results say so; the next plan on this registry refuses up front."""
    with run_distribution_no_delete(tmp_path / "nodelete") as reg:
        digest = push_image(reg.url, REPO, ["v1", "v1-alias", "v2"])
        before = list_tags(reg.url, REPO)
        window = open_window(qtbot, qloop, tmp_path, reg.url)
        open_repo(qloop, window)
        shown: list[DeleteDialog] = []
        progress: list[DeleteProgressDialog] = []
        window.delete_flow.confirmShown.connect(shown.append)
        window.delete_flow.progressShown.connect(progress.append)
        window.delete_flow.delete_tags("reg", REPO, ["v1"])
        run(qloop, until(lambda: bool(shown)), 60)
        first = shown[0]
        # not known yet: the dialog says the first deletion will tell, and lets it
        assert "first deletion will tell" in " ".join(first.refusal_box.text().split())
        assert first.delete_button.isVisible() and first.delete_button.isEnabled()
        qtbot.mouseClick(first.delete_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: bool(progress) and progress[0].report is not None), 60)
        (entry,) = progress[0].log_entries()
        assert entry["outcome"] == "failed"
        assert "does not allow deleting" in entry["reason"] and "put back" in entry["reason"]
        assert list_tags(reg.url, REPO) == before  # no throw-away tag left behind
        head = httpx.head(f"{reg.url}/v2/{REPO}/manifests/v1", headers={"Accept": OCI_MANIFEST})
        assert head.headers["Docker-Content-Digest"] == digest
        progress[0].accept()

        window.delete_flow.delete_tags("reg", REPO, ["v2"])
        run(qloop, until(lambda: len(shown) == 2), 60)
        d = shown[1]
        text = " ".join(d.refusal_box.text().split())
        assert d.refusal_box.isVisible() and not d.delete_button.isVisible()
        assert reg.host in text and "does not allow deleting" in text
        assert "Nothing was deleted" in text and "storage.delete.enabled" in text
        assert d.recheck_button.isVisible()  # learnt, not seen: it can be asked again
        d.resize(820, 480)
        shot(qloop, d, tmp_path, "failure-delete-disabled", "light")
        qtbot.mouseClick(d.recheck_button, Qt.MouseButton.LeftButton)
        run(qloop, until(lambda: not d.plan.refusal), 30)
        assert d.delete_button.isVisible() and not d.recheck_button.isVisible()
        assert "first deletion will tell" in " ".join(d.refusal_box.text().split())
        d.reject()
        assert list_tags(reg.url, REPO) == before
        close(qloop, window)


# -- 5. a dropped connection mid-batch --------------------------------------------------------


@pytest.mark.slow
def test_dropped_connection_mid_batch_then_retry_failed(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    from regview.server.runner import LocalRegistry
    from regview.ui.dialogs.delete.resume import start_resume

    with LocalRegistry(tmp_path / "local") as local:
        chosen = [f"b{i:02d}" for i in range(50)]
        keep = ["keep-1", "keep-2", "latest"]
        push_image(local.url, REPO, chosen + keep)
        proxy = DropProxy(local.url)
        with serve(proxy.app) as url:
            window = open_window(qtbot, qloop, tmp_path, url)
            open_repo(qloop, window)
            flow = window.delete_flow
            shown: list[DeleteDialog] = []
            progress: list[DeleteProgressDialog] = []
            flow.confirmShown.connect(shown.append)
            flow.progressShown.connect(progress.append)
            flow.delete_tags("reg", REPO, chosen)
            run(qloop, until(lambda: bool(shown)), 60)
            d = shown[0]
            assert sorted(a.tag for a in d.plan.tag_actions) == chosen
            d.confirm_edit.setText(str(len(chosen)))
            proxy.after = proxy.count + 80  # the connection drops near the end of the batch
            qtbot.mouseClick(d.delete_button, Qt.MouseButton.LeftButton)
            run(qloop, until(lambda: bool(progress) and progress[0].report is not None, 120), 130)
            first = progress[0]
            entries = [e for e in first.log_entries() if e["kind"] == "tag"]
            assert sorted(e["name"] for e in entries) == chosen  # every item accounted for
            outcomes = {e["name"]: e["outcome"] for e in entries}
            failed = sorted(t for t, o in outcomes.items() if o != "deleted")
            assert failed and len(failed) < len(chosen), outcomes
            # Retry names only the failed ones; those never started are the run's to finish
            really_failed = sorted(t for t, o in outcomes.items() if o == "failed")
            waiting = sorted(t for t, o in outcomes.items() if o == "not-started")
            assert sorted(really_failed + waiting) == failed
            assert first.retry_button.isVisible() == bool(really_failed)
            if really_failed:
                assert first.retry_button.text() == f"Retry {len(really_failed)} failed"
            if waiting:
                assert f"{len(waiting)} not started" in first.resume_button.text()
            left = set(list_tags(local.url, REPO))
            assert set(keep) <= left
            assert not {t for t, o in outcomes.items() if o == "deleted"} & left
            touched = {p.rsplit("/", 1)[-1] for _m, p in proxy.mutations}
            assert not touched & set(keep)
            no_secret(tmp_path, logs)

            proxy.heal()
            assert first.report is not None
            journal_id = first.report.journal_id
            if really_failed:
                qtbot.mouseClick(first.retry_button, Qt.MouseButton.LeftButton)
                run(qloop, until(lambda: len(shown) > 1), 60)
                again = shown[1]
                assert sorted(a.tag for a in again.plan.tag_actions) == sorted(
                    t for t in really_failed if t in left
                )
                if again.needs_typed_confirmation:
                    again.confirm_edit.setText(str(len(again.plan.tag_actions)))
                qtbot.mouseClick(again.delete_button, Qt.MouseButton.LeftButton)
                run(
                    qloop,
                    until(lambda: len(progress) > 1 and progress[1].report is not None, 120),
                    130,
                )
                assert progress[1].report is not None and progress[1].report.ok
                progress[1].accept()
            if waiting:  # the rest of the run, from its own plan (what is gone is left alone),
                # as "Finish the run" (the results dialog went with the retry) or the bin does
                n = len(progress)
                start_resume(flow, journal_id)
                run(
                    qloop,
                    until(lambda: len(progress) > n and progress[n].report is not None, 120),
                    130,
                )
                assert progress[n].report is not None and not progress[n].report.not_started
                progress[n].accept()
            assert list_tags(local.url, REPO) == sorted(keep)
            close(qloop, window)


# -- 6. an untrusted certificate --------------------------------------------------------------


def test_untrusted_certificate_then_trust_the_ca(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    from regview.server.runner import LocalRegistry

    tls = make_tls(tmp_path / "tls")
    with LocalRegistry(tmp_path / "tls-data", demo=True, tls_cert=tls.cert, tls_key=tls.key) as reg:
        host = reg.url.split("://")[1]
        d = dialog(qtbot, tmp_path / "dlg")
        d.address.setText(reg.url)
        run(qloop, d.check())
        said = card(d.probe_card)
        assert d.probe_result is None and host in said
        assert "certificate is not trusted" in said and "CA file" in said
        assert d.advanced.isVisible()  # the CA file field is shown
        shot(qloop, d, tmp_path, "failure-tls-dialog", "light")
        settle(qloop)
        d.ca_file.setText(str(tls.ca))
        run(qloop, d.check())
        assert d.probe_result is not None, card(d.probe_card)
        d.reject()

        window = open_window(qtbot, qloop, tmp_path, reg.url)
        text = banner(window)
        assert "Certificate not trusted" in text and host in text and "CA file" in text
        assert window.banner.button.text() == "Trust a CA file…"
        shot(qloop, window, tmp_path, "failure-tls-window", "light")
        settle(qloop)

        async def trust() -> None:
            await window.commands.set_ca("reg", str(tls.ca))
            await until(lambda: not window.tasks.running("repos"))

        run(qloop, trust(), 60)
        assert not window.banner.isVisible()
        assert window.repos_model.rowCount() > 0
        close(qloop, window)


# -- 7. refused, DNS failure, timeout ---------------------------------------------------------


def test_connection_refused_banner_offers_retry(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    window = open_window(qtbot, qloop, tmp_path, url, secret=SECRET)
    text = banner(window)
    assert "not reachable" in text and url.split("://")[1] in text
    assert window.banner.button.text() == "Retry"
    no_secret(tmp_path, logs, text)
    close(qloop, window)


def test_dns_failure_and_timeout_in_the_dialog(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    logs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    import regview.core.client.transport as transport

    d = dialog(qtbot, tmp_path)
    d.address.setText("https://registry.does-not-exist.invalid")
    run(qloop, d.check())
    said = card(d.probe_card)
    assert d.probe_result is None
    assert "The name registry.does-not-exist.invalid was not found" in said
    assert "check its spelling" in said

    monkeypatch.setattr(transport, "_TIMEOUT", httpx.Timeout(0.5))
    with silent_server() as url:
        d.address.setText(url)
        run(qloop, d.check(), 60)
        said = card(d.probe_card)
        assert d.probe_result is None
        assert url.split("://")[1] in said and "timeout" in said.lower(), said
    no_crash()


# -- 8. a redirect to another host never carries Authorization ---------------------------------


def test_config_redirect_to_storage_host_has_no_authorization(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path, logs: Any
) -> None:
    storage = HeaderRecorder()
    with serve(storage.app) as storage_url:
        reg = FakeRegistry(secret=SECRET, blob_redirect=storage_url)
        reg.add_image("v1")
        storage.blobs = dict(reg.blobs)
        with serve(reg.app) as url:
            window = open_window(qtbot, qloop, tmp_path, url, secret=SECRET)
            open_repo(qloop, window)
            row = window.tags_view.model.row_at(0)
            assert row.created is not None and not row.error  # the config was read
            close(qloop, window)
    assert storage.seen
    for s in storage.seen:
        assert not any(k.lower() == "authorization" for k in s.headers), s.headers
    no_secret(tmp_path, logs)
