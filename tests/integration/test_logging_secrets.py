"""Logging set up by every entry point (issue 10, build item 6), through the real `regview`
program as a subprocess with --basedir: the CLI against the embedded GitLab instance (a
personal access token, registry JWTs) and a Basic-auth registry (a plain password), `serve`, the
GUI, and an uncaught exception. Each writes to <basedir>/log/regview.log; no file anywhere under
the sandbox holds the token, the password or any JWT (the test keyring file aside: that is the
keyring), and the uncaught exception's traceback is in the log."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import Cli
from testkit import free_port, v2_status

from regview.server.runner import LocalRegistry

pytestmark = [pytest.mark.integration]

JWT = re.compile(rb"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.")
PASSWORD = "Plain-pa55word-Qx7"
REPO = "acme/webshop"


def _files(root: Path, *skip: Path) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and not any(p == s or s in p.parents for s in skip)
    ]


def _leaks(root: Path, skip: list[Path], *secrets: str) -> list[str]:
    found = []
    for path in _files(root, *skip):
        data = path.read_bytes()
        found += [f"{path}: {s[:6]}…" for s in secrets if s.encode() in data]
        if JWT.search(data):
            found.append(f"{path}: a JWT")
    return found


def _log(base: Path) -> str:
    path = base / "log" / "regview.log"
    assert path.is_file(), f"no log file at {path}"
    return path.read_text(encoding="utf-8")


def test_no_secret_in_any_file_and_every_entry_point_logs(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    base = tmp_path / "base"
    cli.env["REGVIEW_BASEDIR"] = str(base)

    # GitLab: a personal access token, registry JWTs issued for each scope
    with LocalRegistry(tmp_path / "gl", auth="token", demo=True) as reg:
        assert reg.demo_credentials is not None
        user, token = reg.demo_credentials
        host = reg.url.split("://", 1)[1]
        api = f"{reg.url}/api/v4"
        r = cli("--debug", "login", host, "-u", user, "--password-stdin", "--api", api, stdin=token)
        assert r.code == 0, r.err
        for args in (
            ("repos", f"{host}/acme"),
            ("tags", f"{host}/{REPO}"),
            ("tags", f"{host}/{REPO}"),
        ):
            r = cli("--debug", *args)
            assert r.code == 0, r.err
            assert token not in r.out + r.err and not JWT.search((r.out + r.err).encode())
    log = _log(base)
    assert "HTTP Request" in log  # --debug: the requests are there, so redaction was tested
    assert "tags" in log

    # a registry with a plain password (htpasswd), through the same program
    import bcrypt

    htpasswd = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    htpasswd.write_text(f"bob:{hashed}\n", encoding="utf-8")
    with LocalRegistry(tmp_path / "basic", demo=True, auth="basic", htpasswd=htpasswd) as basic:
        bhost = basic.url.split("://", 1)[1]
        r = cli("--debug", "login", bhost, "-u", "bob", "--password-stdin", stdin=PASSWORD)
        assert r.code == 0, r.err
        r = cli("--debug", "tags", f"{bhost}/{REPO}")
        assert r.code == 0, r.err
        r = cli("tags", f"{bhost}/{REPO}", "--password-stdin", stdin="wrong-" + PASSWORD)
        assert PASSWORD not in r.err

    # serve: its own entry point logs to the same folder
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "regview", "--debug", "serve", "--port", str(port)],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 30
        while v2_status(f"http://127.0.0.1:{port}") is None:
            assert time.monotonic() < end, "regview serve did not answer"
            assert serve.poll() is None, "regview serve exited"
            time.sleep(0.2)
    finally:
        serve.terminate()
        serve.wait(15)
    assert "serve" in _log(base)

    # the GUI (local mode, one screenshot, then it quits)
    shot = tmp_path / "gui.png"
    r = cli("--debug", "gui", "--local", "--screenshot", str(shot), timeout=180)
    assert r.code == 0, r.err
    assert shot.is_file()
    assert ": gui" in _log(base)

    # an uncaught exception: its traceback goes to the log, its secret does not
    crash = subprocess.run(
        [
            sys.executable,
            "-c",
            "from regview.log import configure; from pathlib import Path; import sys; "
            "configure(log_dir=Path(sys.argv[1])); "
            "raise RuntimeError('failed with private-token: ' + sys.argv[2])",
            str(base / "log"),
            token,
        ],
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert crash.returncode == 1
    log = _log(base)
    assert "uncaught exception" in log and "RuntimeError: failed with private-token: ***" in log

    # everything regview wrote (basedir, home) and the test's own files, but not the keyring
    # and not the registries' storage (the demo GitLab keeps its demo token there by design)
    leaks = _leaks(
        tmp_path, [cli.keyring_file, tmp_path / "gl", tmp_path / "basic"], token, PASSWORD
    )
    assert _files(base / "log")  # the scan covered the log folder
    assert leaks == [], leaks
