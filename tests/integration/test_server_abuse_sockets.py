"""Issue 12 over real sockets against `LocalRegistry` / `regview serve`: bodies the server must not
wait for, the data-directory lock between a live server and offline GC, and concurrent pushes
under an online GC with no delay."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from oci_pusher import PushFailed, make_image, pull_matches, push
from server_support import host_of
from support_images import OCI_INDEX, build_index, push_layout
from testkit import require_tool

from regview.server.registry import gc
from regview.server.runner import LocalRegistry


def raw_request(url: str, head: bytes, body: bytes = b"", *, wait: float = 5.0) -> bytes:
    """Send a request head and (part of) its body on a fresh socket; the first bytes answered
    within `wait` seconds (b"" when nothing came)."""
    host, port = host_of(url).split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as s:
        s.sendall(head + body)
        try:
            return s.recv(4096)
        except TimeoutError:
            return b""


def run_concurrently(target: Callable[[int], None], count: int, *, timeout: float) -> None:
    """`target(0)` … `target(count - 1)` in threads at once; all must end within `timeout`."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung"


def status_of(answer: bytes) -> int | None:
    if not answer.startswith(b"HTTP/1.1 "):
        return None
    return int(answer[9:12])


# -- item 1: an unauthenticated huge REST body is refused before it is read ---------------------


def test_unauthenticated_huge_rest_put_is_answered_without_reading_the_body(
    tmp_path: Path,
) -> None:
    with LocalRegistry(tmp_path / "data", auth="token") as reg:
        head = (
            b"PUT /api/v4/projects/1 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 419430400\r\n\r\n"
        )
        start = time.monotonic()
        answer = raw_request(reg.url, head, b"{" + b" " * 65535)
        assert status_of(answer) == 401, answer[:200]
        assert time.monotonic() - start < 5


# -- item 6: a stalled body gets 408, not an open connection for minutes ------------------------


@pytest.mark.parametrize("kind", ["patch", "manifest", "monolithic"])
def test_stalled_body_is_answered_408(tmp_path: Path, kind: str) -> None:
    with LocalRegistry(tmp_path / "data", auth="none", body_timeout=1.0) as reg:
        with httpx.Client(base_url=reg.url, trust_env=False) as http:
            location = http.post("/v2/a/b/blobs/uploads/").headers["Location"]
        if kind == "patch":
            head = f"PATCH {location} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"
        elif kind == "manifest":
            head = "PUT /v2/a/b/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n"
        else:
            head = "POST /v2/a/b/blobs/uploads/?digest=sha256:" + "0" * 64
            head += " HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n"
        start = time.monotonic()
        answer = raw_request(reg.url, head.encode(), b"0123456789", wait=10)
        took = time.monotonic() - start
        assert status_of(answer) == 408, answer[:300]
        assert b"connection: close" in answer.lower()
        assert took < 8, took


def test_stalled_rest_body_is_answered_408(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "data", auth="token", demo=True, body_timeout=1.0) as reg:
        assert reg.demo_credentials is not None
        head = (
            "PUT /api/v4/projects/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"PRIVATE-TOKEN: {reg.demo_credentials[1]}\r\nContent-Length: 4000\r\n\r\n"
        )
        answer = raw_request(reg.url, head.encode(), b'{"visibility"', wait=10)
        assert status_of(answer) == 408, answer[:300]
        assert b"connection: close" in answer.lower()


# -- item 3: offline GC refuses a directory a live server holds ---------------------------------


def regview(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "regview", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_local_gc_refuses_while_a_server_holds_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalRegistry(data):
        done = regview("local", "gc", "--data", str(data))
        assert done.returncode == 1, done
        assert "in use by regview pid" in done.stderr and "Traceback" not in done.stderr
        assert regview("local", "gc", "--data", str(data), "--dry-run").returncode == 0
        with pytest.raises(Exception, match="in use"):
            LocalRegistry(data).start()  # a second server on the same data neither
    done = regview("local", "gc", "--data", str(data))
    assert done.returncode == 0, done.stderr


def test_lock_goes_with_a_killed_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "regview", "serve", "--port", "0", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, line
        assert regview("local", "gc", "--data", str(data)).returncode == 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    done = regview("local", "gc", "--data", str(data))
    assert done.returncode == 0, done.stderr


# -- item 3: online GC with no delay never takes what a push in progress is about to reference --


def test_concurrent_pushes_survive_online_gc_without_delay(tmp_path: Path) -> None:
    """20 pushers, each pausing between its blobs and its manifest (a slow layer elsewhere),
    while online GC runs every second with --gc-delay 0 (15 of 20 pushes failed before)."""
    failures: list[str] = []
    pushed = []
    with LocalRegistry(tmp_path / "data", gc_delay=0, push_grace=10) as reg:

        def pusher(n: int) -> None:
            with httpx.Client(base_url=reg.url, trust_env=False, timeout=30) as http:
                for i in range(2):
                    image = make_image(f"race/r{n % 4}", f"t{n}-{i}", [os.urandom(2000)])
                    try:
                        push(http, image, pause=1.5)
                        pushed.append(image)
                    except PushFailed as exc:
                        failures.append(str(exc))

        run_concurrently(pusher, 20, timeout=120)
        assert not failures, failures[:3]
        with httpx.Client(base_url=reg.url, trust_env=False, timeout=30) as http:
            assert [m for img in pushed if (m := pull_matches(http, img))] == []
        assert reg.registry is not None
        # and a full GC right away finds nothing unreferenced: each blob is in a tagged image
        report = gc.collect(reg.registry, delay=0)
        assert report.manifests_deleted == 0 and report.blobs_deleted == 0
    assert len(pushed) == 40


def test_concurrent_skopeo_pushes_of_indexes_survive_online_gc_without_delay(
    tmp_path: Path,
) -> None:
    """Real clients: 10 skopeo copies of 3-platform indexes at once (children are pushed by
    digest, untagged, before the index names them) while online GC runs with --gc-delay 0."""
    require_tool("skopeo")
    layouts = [build_index(tmp_path / f"layout{n}", seed=n) for n in range(10)]
    errors: list[str] = []
    with LocalRegistry(tmp_path / "data", gc_delay=0, push_grace=15) as reg:
        host = host_of(reg.url)

        def copy(n: int) -> None:
            try:
                push_layout(layouts[n], f"{host}/skopeo/r{n}:v1", timeout=240)
            except RuntimeError as exc:
                errors.append(str(exc))

        run_concurrently(copy, 10, timeout=300)
        time.sleep(2)  # at least one more GC pass over the pushed content
        assert errors == [], errors[:2]
        with httpx.Client(base_url=reg.url, trust_env=False) as http:
            for n, layout in enumerate(layouts):
                r = http.get(f"/v2/skopeo/r{n}/manifests/v1", headers={"Accept": OCI_INDEX})
                assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == layout.digest
                for child in layout.manifest_digests:
                    assert http.head(f"/v2/skopeo/r{n}/manifests/{child}").status_code == 200


def test_unknown_upload_patches_over_one_connection(tmp_path: Path) -> None:
    """Item 5 over a socket: thousands of made-up upload ids leave no lock behind."""
    with LocalRegistry(tmp_path / "data") as reg:
        with httpx.Client(base_url=reg.url, trust_env=False) as http:
            for _ in range(2000):
                r = http.patch(f"/v2/a/b/blobs/uploads/{uuid.uuid4()}", content=b"x")
                assert r.status_code == 404
        assert reg._server is not None
        app = reg._server.config.app
        assert len(app.state.upload_locks) == 0


# -- item 4: even a bug's 500 leaves the connection usable ---------------------------------------


@pytest.mark.parametrize("auth", ["none", "token"])
def test_a_bug_is_answered_500_and_the_connection_survives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: str
) -> None:
    import http.client

    with LocalRegistry(tmp_path / "data", auth=auth, demo=auth == "token") as reg:
        assert reg.registry is not None

        def broken(*args: object) -> None:
            raise RuntimeError("a bug")

        if auth == "none":
            monkeypatch.setattr(reg.registry, "get_manifest", broken)
            path, headers, probe = "/v2/a/b/manifests/v1", {}, "/v2/"
        else:
            assert reg.demo_credentials is not None
            monkeypatch.setattr(reg.registry, "list_repositories", broken)
            headers = {"PRIVATE-TOKEN": reg.demo_credentials[1]}
            path, probe = "/api/v4/projects/1/registry/repositories", "/api/v4/version"
        host, port = host_of(reg.url).split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            assert response.status == 500
            assert b"Traceback" not in response.read()
            conn.request("GET", probe, headers=headers)
            after = conn.getresponse()
            assert after.status == 200
            after.read()
        finally:
            conn.close()
