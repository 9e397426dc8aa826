"""Bad input on the command line: every failure set up for real over loopback sockets, the CLI
run as users run it (`python -m regview …`). Each test checks the words on stderr, the exit code,
that there is no traceback, that nothing was deleted that was not asked for, and that the secret
in play appears nowhere: not in stdout/stderr, not in any file regview wrote (settings, cache,
journal, logs), and never at a host it does not belong to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_support import Cli, Result
from distribution import PASSWORD as DIST_PASSWORD
from distribution import USER as DIST_USER
from distribution import run_distribution
from fault_servers import (
    OCI_MANIFEST,
    DropProxy,
    FakeRegistry,
    HeaderRecorder,
    grep_tree,
    html_site,
    image,
    list_tags,
    make_tls,
    push_image,
    run_distribution_no_delete,
    serve,
    sha256,
    silent_server,
)
from testkit import free_port

pytestmark = [pytest.mark.integration]

SECRET = "Zx9-fault-Secret-7Qp"
REPO = "team/app"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def host(url: str) -> str:
    return url.split("://", 1)[1]


def check(
    r: Result, cli: Cli, *, code: int, words: tuple[str, ...] = (), secrets: tuple[str, ...] = ()
) -> str:
    """The common bar: exit code, words on stderr, no traceback, no secret anywhere."""
    err = r.err
    assert r.code == code, (r.code, r.err, r.out)
    assert "Traceback" not in err and "Traceback" not in r.out, err
    low = " ".join(err.lower().split())
    for w in words:
        assert w.lower() in low, f"{w!r} not in stderr: {err}"
    for s in (SECRET, *secrets):
        assert s not in r.out and s not in err
        assert not grep_tree(Path(cli.env["REGVIEW_BASEDIR"]), s)
        assert not grep_tree(cli.home, s)
    return err


def secret_env(user: str = "alice", secret: str = SECRET) -> dict[str, str]:
    return {"REGVIEW_USERNAME": user, "REGVIEW_PASSWORD": secret}


# -- 1. an address that answers HTML ---------------------------------------------------------


def test_web_ui_address_is_not_a_registry(cli: Cli) -> None:
    with serve(html_site) as url:
        for args in (("repos", host(url)), ("tags", f"{host(url)}/{REPO}")):
            r = cli(*args, env=secret_env())
            check(r, cli, code=1, words=(host(url), "HTML page", "registry address"))


def test_html_answer_to_a_manifest_get(cli: Cli) -> None:
    reg = FakeRegistry(secret=SECRET)
    reg.add_image("good")
    reg.add_malformed()
    with serve(reg.app) as url:
        r = cli("inspect", f"{host(url)}/{REPO}:login-page", env=secret_env())
        check(r, cli, code=1, words=(host(url), "login-page", "HTML"))


# -- 2. malformed manifests in a tags listing -------------------------------------------------


def test_malformed_manifests_do_not_hide_the_good_tags(cli: Cli) -> None:
    reg = FakeRegistry(secret=SECRET)
    good = {t: reg.add_image(t) for t in ("v1", "v2", "latest")}
    bad = reg.add_malformed()
    with serve(reg.app) as url:
        r = cli("tags", f"{host(url)}/{REPO}", "--json", env=secret_env())
        err = check(r, cli, code=0)
        rows = {row["tag"]: row for row in r.json()}
        assert set(rows) == set(good) | set(bad)  # every tag accounted for
        for tag, digest in good.items():
            assert rows[tag]["digest"] == digest and rows[tag]["size"]
        lines = err.splitlines()
        for tag in bad:
            said = [ln for ln in lines if f"{REPO}:{tag}:" in ln]
            assert len(said) == 1, (tag, err)
            assert said[0].startswith("regview: warning:")
        said = {tag: next(ln for ln in lines if f":{tag}:" in ln) for tag in bad}
        assert "does not match its digest" in said["digest-lies"]
        assert "HTML" in said["login-page"]
        assert "JSON" in said["broken-json"]
        assert "manifest" in said["wrong-shape"]


# -- 3. credentials ---------------------------------------------------------------------------


def test_wrong_password_basic(cli: Cli) -> None:
    reg = FakeRegistry(secret="the-right-one")
    reg.add_image("v1")
    with serve(reg.app) as url:
        r = cli("tags", f"{host(url)}/{REPO}", env=secret_env())
        check(r, cli, code=3, words=(host(url), "username and password"))
        r = cli("login", host(url), "-u", "alice", "--password-stdin", stdin=SECRET + "\n")
        check(r, cli, code=3, words=(host(url),))
        assert SECRET not in json.dumps(cli.keyring())


@pytest.mark.needs_tool("docker-registry")
def test_token_realm_refuses_the_password(cli: Cli, tmp_path: Path) -> None:
    with run_distribution(tmp_path / "dist", flavour="token") as reg:
        r = cli("tags", f"{reg.host}/{REPO}", env=secret_env(DIST_USER, SECRET))
        err = check(r, cli, code=3, words=(reg.host,))
        assert "token" in err.lower() or "password" in err.lower(), err
        assert reg.realm is not None and "127.0.0.1" in reg.realm.url


@pytest.mark.needs_tool("docker-registry")
@pytest.mark.slow
def test_token_expiring_during_a_listing(cli: Cli, tmp_path: Path) -> None:
    with run_distribution(tmp_path / "dist", flavour="token", token_lifetime=2) as reg:
        assert reg.realm is not None
        import httpx

        token = httpx.get(
            reg.realm.url,
            params={"service": "regview-test-registry", "scope": f"repository:{REPO}:push,pull"},
            auth=(DIST_USER, DIST_PASSWORD),
        ).json()["token"]
        tags = [f"t{i:02d}" for i in range(30)]
        _push_with_token(reg.url, token, tags)
        proxy = DropProxy(reg.url, delay=0.15)  # ~30 requests at concurrency 1: > 4 s
        with serve(proxy.app) as url:
            issued = reg.realm.issued
            r = cli(
                "tags",
                f"{host(url)}/{REPO}",
                "--json",
                "--concurrency",
                "1",
                env=secret_env(DIST_USER, DIST_PASSWORD),
            )
            check(r, cli, code=0, secrets=(DIST_PASSWORD,))
            assert sorted(row["tag"] for row in r.json()) == tags
            assert all(row["digest"] for row in r.json())
            assert reg.realm.issued - issued >= 2  # it did refresh


def _push_with_token(url: str, token: str, tags: list[str]) -> None:
    import httpx

    manifest, config = image()
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        r = http.post(f"/v2/{REPO}/blobs/uploads/")
        r.raise_for_status()
        loc = r.headers["Location"]
        http.put(
            f"{loc}&digest={sha256(config)}" if "?" in loc else f"{loc}?digest={sha256(config)}",
            content=config,
        ).raise_for_status()
        doc = json.loads(manifest)
        doc["layers"] = []
        body = json.dumps(doc).encode()
        for t in tags:
            http.put(
                f"/v2/{REPO}/manifests/{t}",
                content=body,
                headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
            ).raise_for_status()


# -- 4. deletion disabled ---------------------------------------------------------------------


@pytest.mark.needs_tool("docker-registry")
def test_delete_disabled_learnt_from_the_first_deletion_and_leaves_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    """No probe DELETE tells in advance: the first confirmed deletion's answer (405 on the
    placeholder) does. The tag is put back on its manifest, and the next run refuses up front."""
    with run_distribution_no_delete(tmp_path / "nodelete") as reg:
        digest = push_image(reg.url, REPO, ["v1", "v1-alias", "v2"])
        before = list_tags(reg.url, REPO)
        r = cli("rm", f"{reg.host}/{REPO}:v1", "--yes")
        err = check(r, cli, code=r.code, words=(reg.host, "does not allow deleting", "nothing"))
        assert r.code not in (0, 2), err
        assert "storage.delete.enabled" in err and "put back" in err
        assert list_tags(reg.url, REPO) == before
        head = httpx.head(f"{reg.url}/v2/{REPO}/manifests/v1", headers={"Accept": OCI_MANIFEST})
        assert head.headers["Docker-Content-Digest"] == digest  # back on its own manifest
        r = cli("rm", f"{reg.host}/{REPO}:v1", "--yes", "--json")
        check(r, cli, code=r.code)
        assert r.code not in (0, 2), r.out
        out = r.json()
        assert out["deleted"] == [] and [f["tag"] for f in out["failed"]] == ["v1"]
        assert "does not allow deleting" in out["failed"][0]["error"]
        assert list_tags(reg.url, REPO) == before  # no throw-away tag, nothing gone
        # --recheck forgets what was learnt: the plan is made from what the registry says again
        r = cli("rm", f"{reg.host}/{REPO}:v1", "--recheck", "--dry-run")
        check(r, cli, code=0, words=("first deletion will tell",))
        assert "does not allow deleting" not in r.err


# -- 5. a dropped connection mid-batch --------------------------------------------------------


def test_dropped_connection_mid_batch_accounts_for_every_tag(cli: Cli, tmp_path: Path) -> None:
    from regview.server.runner import LocalRegistry

    with LocalRegistry(tmp_path / "local") as local:
        tags = [f"b{i:02d}" for i in range(20)]
        keep = ["keep-1", "keep-2"]
        push_image(local.url, REPO, tags + keep)
        proxy = DropProxy(local.url)
        with serve(proxy.app) as url:
            # a dry run counts the requests that reading and planning take
            r = cli("rm", *(f"{host(url)}/{REPO}:{t}" for t in tags), "--dry-run", "--json")
            check(r, cli, code=0)
            proxy.after = proxy.count + proxy.count + 12  # planning again, then a few items
            r = cli("rm", *(f"{host(url)}/{REPO}:{t}" for t in tags), "--yes", "--json")
            check(r, cli, code=1)
            out = r.json()
            done = set(out["deleted"])
            failed = {f["tag"] for f in out["failed"]}
            skipped = {s["tag"] if isinstance(s, dict) else s for s in out["skipped"]}
            assert done | failed | skipped == set(tags)
            assert not (done & failed) and failed, out
            assert all(f["error"] for f in out["failed"])
            left = list_tags(local.url, REPO)
            assert set(keep) <= set(left) and not (done & set(left))
            touched = {p.rsplit("/", 1)[-1] for m, p in proxy.mutations}
            assert not touched & set(keep)
            proxy.heal()
            r = cli("rm", *(f"{host(url)}/{REPO}:{t}" for t in sorted(failed)), "--yes", "--json")
            check(r, cli, code=0)
            assert list_tags(local.url, REPO) == keep


# -- 6. an untrusted TLS certificate ----------------------------------------------------------


def test_untrusted_certificate_then_ca_file(cli: Cli, tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "regview",
            "serve",
            "--port",
            str(port),
            "--data",
            str(tmp_path / "tls-data"),
            "--demo",
            "--tls-cert",
            str(tls.cert),
            "--tls-key",
            str(tls.key),
        ],
        env=cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, server)
        url = f"https://127.0.0.1:{port}"
        r = cli("repos", url)
        check(r, cli, code=1, words=(f"127.0.0.1:{port}", "certificate is not trusted", "CA file"))
        assert "--ca-file" in r.err, r.err
        r = cli("repos", url, "--ca-file", str(tls.ca))
        check(r, cli, code=0)
        assert r.out.strip()
    finally:
        server.terminate()
        server.wait(10)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "regview serve exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("regview serve did not start")


# -- 7. refused, DNS, timeout -----------------------------------------------------------------


def test_connection_refused(cli: Cli) -> None:
    addr = f"127.0.0.1:{free_port()}"
    r = cli("tags", f"{addr}/{REPO}", env=secret_env())
    check(r, cli, code=1, words=(addr, "cannot reach", "check the address"))


def test_dns_failure(cli: Cli) -> None:
    r = cli("repos", "registry.does-not-exist.invalid", env=secret_env())
    check(r, cli, code=1, words=("registry.does-not-exist.invalid", "check the address"))


@pytest.mark.slow
def test_timeout(cli: Cli) -> None:
    """A registry that accepts and never answers: the client's timeout (lowered to 0.5 s for
    the test, in a wrapper) ends in words, after its bounded retries."""
    wrapper = (
        "import sys, httpx, regview.core.client.transport as t;"
        "t._TIMEOUT = httpx.Timeout(0.5);"
        "from regview.__main__ import main; sys.exit(main())"
    )
    with silent_server() as url:
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", wrapper, "repos", host(url)],
            capture_output=True,
            text=True,
            env={**cli.env, **secret_env()},
            timeout=120,
            check=False,
        )
        r = Result(proc.returncode, proc.stdout, proc.stderr)
        check(r, cli, code=1, words=(host(url), "timeout"))
        assert time.monotonic() - start < 60


# -- 8. secrets never leave their host --------------------------------------------------------


def test_blob_redirect_to_another_host_carries_no_authorization(cli: Cli) -> None:
    storage = HeaderRecorder()
    with serve(storage.app) as storage_url:
        reg = FakeRegistry(secret=SECRET, blob_redirect=storage_url)
        reg.add_image("v1")
        storage.blobs = dict(reg.blobs)
        with serve(reg.app) as url:
            r = cli("tags", f"{host(url)}/{REPO}", "--json", env=secret_env())
            check(r, cli, code=0)
            assert r.json()[0]["created"] == "2024-05-01T10:00:00Z"  # the config was read
    assert storage.seen, "the config was fetched from the storage host"
    assert any("Authorization" in s.headers for s in reg.seen)
    for s in storage.seen:
        assert not any(k.lower() == "authorization" for k in s.headers), s.headers
        assert SECRET not in json.dumps(s.headers)


@pytest.fixture(autouse=True)
def _no_stray_env() -> Iterator[None]:
    assert "REGVIEW_PASSWORD" not in os.environ
    yield
