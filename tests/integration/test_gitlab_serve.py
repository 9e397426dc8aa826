"""`regview serve --auth token --demo` as users start it: the printed demo token works on the
REST API and with skopeo, and the demo projects' visibilities show."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gitlab_support import skopeo_ok

pytestmark = [pytest.mark.integration, pytest.mark.needs_tool("skopeo")]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(url, user, token) of a demo GitLab instance in a child process."""
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = ["serve", "--auth", "token", "--demo", "--port", "0", "--data", str(data)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "regview", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = user = token = ""
        deadline = time.monotonic() + 60
        while not token:
            line = proc.stdout.readline()
            assert line, f"regview serve ended early (rc {proc.poll()})"
            assert time.monotonic() < deadline
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].split()[0]
            if line.startswith("GitLab demo user:"):
                parts = line.split()
                user, token = parts[3], parts[5]
        assert (data / "gitlab-demo-token").read_text().strip() == token
        yield url, user, token
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.slow
def test_demo_instance(served: tuple[str, str, str]) -> None:
    url, user, token = served
    host = url.split("://", 1)[1]
    auth = {"PRIVATE-TOKEN": token}
    with httpx.Client(base_url=url, timeout=30) as c:
        assert c.get("/api/v4/version", headers=auth).status_code == 200
        r = c.get("/api/v4/projects/acme%2Fwebshop", headers=auth)
        assert r.status_code == 200 and r.json()["visibility"] == "private"
        assert c.get("/api/v4/projects/acme%2Fwebshop").status_code == 404
        r = c.get("/api/v4/groups/oss/registry/repositories")
        assert [x["path"] for x in r.json()] == ["oss/tools/alpine-tools"]
        r = c.get(
            "/api/v4/groups/acme/registry/repositories", params={"tags_count": "true"}, headers=auth
        )
        paths = {x["path"] for x in r.json()}
        assert {"acme/webshop/frontend", "acme/infra/ci-runner"} <= paths
        assert all(x["tags_count"] > 0 for x in r.json())
    base = ["list-tags", "--tls-verify=false"]
    mine = skopeo_ok(*base, f"--creds={user}:{token}", f"docker://{host}/acme/webshop/frontend")
    assert mine.returncode == 0, mine.stderr
    assert len(json.loads(mine.stdout)["Tags"]) > 10
    anon_public = skopeo_ok(*base, "--no-creds", f"docker://{host}/oss/tools/alpine-tools")
    assert anon_public.returncode == 0, anon_public.stderr
    anon_private = skopeo_ok(*base, "--no-creds", f"docker://{host}/acme/webshop/frontend")
    assert anon_private.returncode != 0
