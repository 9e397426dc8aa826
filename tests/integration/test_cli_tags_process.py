"""`regview tags` as its own process (issue 14: the command's own overhead): on uvloop's event
loop, leaving without the interpreter's teardown (cli/process.py). What must not change: the
output, byte for byte, against the same command run in-process the ordinary way; the content
cache committed and closed, the log written; a reader that leaves early (`| head`), Ctrl-C, a
TLS registry with a private CA (truststore's context on uvloop's TLS) — each with the words and
exit code they had."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Cli
from distribution import Distribution, run_distribution
from fault_servers import make_tls, push_image, silent_server
from testkit import free_port

from regview.cli import main as cli_main

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("docker-registry")]

REPO = "team/app"
TAGS = [f"v{i:04d}" for i in range(400)]  # ~100 KB of JSON: more than a pipe holds


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with run_distribution(tmp_path_factory.mktemp("dist")) as reg:
        push_image(reg.url, REPO, TAGS)
        yield reg


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.env["REGVIEW_BASEDIR"] = str(tmp_path / "base")
    return cli


def host(url: str) -> str:
    return url.split("://", 1)[1]


def test_output_cache_and_log_are_those_of_an_ordinary_run(
    registry: Distribution, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = cli("tags", f"{host(registry.url)}/{REPO}", "--json")
    assert (r.code, r.err) == (0, "")
    assert [row["tag"] for row in json.loads(r.out)] == TAGS

    # the same command in this process, the ordinary way (no fast loop exit, a cold cache)
    monkeypatch.setenv("REGVIEW_BASEDIR", str(tmp_path / "in-process"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main.run(["tags", f"{host(registry.url)}/{REPO}", "--json"]) == 0
    assert r.out == out.getvalue()

    base = Path(cli.env["REGVIEW_BASEDIR"])
    (db_file,) = base.rglob("content.sqlite3")
    assert not db_file.with_name("content.sqlite3-wal").exists()  # closed: log checkpointed
    db = sqlite3.connect(db_file)
    try:
        stored = {row[0] for row in db.execute("SELECT digest FROM content")}
    finally:
        db.close()
    row = json.loads(r.out)[0]
    assert {row["digest"], row["config_digest"]} <= stored
    (log_file,) = base.rglob("*.log")
    assert ": tags" in log_file.read_text()  # the exit handlers ran: the log is flushed


def test_a_reader_that_leaves_early_is_no_error(registry: Distribution, cli: Cli) -> None:
    proc = cli.spawn("tags", f"{host(registry.url)}/{REPO}", "--json")
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100).startswith('[\n{"tag": "v0000"')
    proc.stdout.close()  # `| head -c 100`
    assert proc.wait(60) == 0
    assert "Traceback" not in proc.stderr.read()
    proc.stderr.close()


def test_ctrl_c_while_waiting_for_the_registry(cli: Cli) -> None:
    with silent_server() as url:
        proc = cli.spawn("tags", f"{host(url)}/{REPO}", "--json")
        time.sleep(2.0)  # started and waiting for the tag list
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().endswith("regview: interrupted"), err
    assert "Traceback" not in err and out == ""


@contextlib.contextmanager
def tls_registry(cli: Cli, tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """`regview serve --demo` over TLS with a private CA: (port, a repository, the CA file)."""
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "regview", "serve", "--port", str(port), "--demo"),
            *("--data", str(tmp_path / "data")),
            *("--tls-cert", str(tls.cert), "--tls-key", str(tls.key)),
        ],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while (r := cli("repos", url, "--ca-file", str(tls.ca))).code != 0:
            assert server.poll() is None and time.monotonic() < deadline, r.err
            time.sleep(0.1)
        yield port, r.out.split()[0], tls.ca
    finally:
        server.terminate()
        server.wait(10)


def test_tls_with_a_private_ca(cli: Cli, tmp_path: Path) -> None:
    with tls_registry(cli, tmp_path) as (port, repo, ca):
        other = make_tls(tmp_path / "other-ca").ca  # a CA that did not sign it
        r = cli("tags", f"127.0.0.1:{port}/{repo}", "--json", "--ca-file", str(other))
        assert r.code == 1 and "certificate is not trusted" in r.err, r.err
        assert "Traceback" not in r.err
        r = cli("tags", f"127.0.0.1:{port}/{repo}", "--json", "--ca-file", str(ca))
        assert r.code == 0, r.err
        assert json.loads(r.out)


def test_an_explicit_https_is_used_on_loopback(cli: Cli, tmp_path: Path) -> None:
    # `https://127.0.0.1:PORT/repo` was parsed to `127.0.0.1:PORT`, and loopback defaults to
    # plain http: the TLS port got http, and the error said to use the https address typed
    with tls_registry(cli, tmp_path) as (port, repo, ca):
        r = cli("tags", f"https://127.0.0.1:{port}/{repo}", "--json", "--insecure")
        assert r.code == 0, r.err
        tags = json.loads(r.out)
        assert tags
        tagged = f"https://127.0.0.1:{port}/{repo}:{tags[0]['tag']}"
        r = cli("inspect", tagged, "--ca-file", str(ca))
        assert r.code == 0, r.err
        r = cli("rm", tagged, "--dry-run", "--insecure")
        assert r.code == 0, r.err
        assert "Traceback" not in r.err
