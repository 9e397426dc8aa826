"""`regview gui --screenshot FILE` run for real (a subprocess, offscreen Qt, its own settings
folder): when start-up cannot reach content it exits 1 within seconds with one line on stderr
saying why — no traceback, no 120-s wait — and a good start still saves the PNG."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit import free_port

from regview.core.model import Endpoint
from regview.paths import default_paths
from regview.settings.profiles import Profile, SettingsStore

pytestmark = [pytest.mark.ui, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
BOUND_S = 30.0  # the old behaviour waited 120 s per load; failing must take a few seconds


def _run_gui(base: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {
        **os.environ,
        "REGVIEW_BASEDIR": str(base),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DISPLAY", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "regview", "gui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, time.monotonic() - started


def _add_profile(base: Path, name: str, url: str) -> None:
    store = SettingsStore(default_paths(base).settings_file)
    profile = Profile.for_endpoint(Endpoint(url=url), name=name)
    store.update(lambda s: s.profiles.__setitem__(name, profile))


def _reason(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("regview: no screenshot:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr, stderr
    return lines[0]


def test_unreachable_registry_fails_at_once(tmp_path: Path) -> None:
    base, shot = tmp_path / "base", tmp_path / "shot.png"
    port = free_port()  # nothing listens there
    _add_profile(base, "dead", f"http://127.0.0.1:{port}")
    done, elapsed = _run_gui(base, "--screenshot", str(shot))
    assert done.returncode == 1, done.stderr
    line = _reason(done.stderr)
    assert f"127.0.0.1:{port}" in line and "cannot reach" in line, line
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
    assert not shot.exists()


def test_registry_without_repositories_fails_at_once(tmp_path: Path) -> None:
    from regview.server.runner import LocalRegistry

    base, shot = tmp_path / "base", tmp_path / "shot.png"
    with LocalRegistry(tmp_path / "empty", demo=False) as registry:
        _add_profile(base, "empty", registry.url)
        done, elapsed = _run_gui(base, "--screenshot", str(shot))
    assert done.returncode == 1, done.stderr
    line = _reason(done.stderr)
    assert "empty lists no repositories" in line, line
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
    assert not shot.exists()


def test_local_registry_that_cannot_start_fails_at_once(tmp_path: Path) -> None:
    base, shot = tmp_path / "base", tmp_path / "shot.png"
    blocked = default_paths(base).local_registry_dir
    blocked.parent.mkdir(parents=True)
    blocked.write_text("a file where the registry's folder belongs")
    done, elapsed = _run_gui(base, "--local", "--screenshot", str(shot))
    assert done.returncode == 1, done.stderr
    line = _reason(done.stderr)
    assert "the local test registry did not start" in line, line
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"


def test_local_mode_still_saves_the_screenshot(tmp_path: Path) -> None:
    base, shot = tmp_path / "base", tmp_path / "shot.png"
    done, _elapsed = _run_gui(base, "--local", "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no screenshot" not in done.stderr


def test_registry_whose_repositories_have_no_tags_fails_at_once(tmp_path: Path) -> None:
    import httpx

    from regview.server.runner import LocalRegistry
    from regview.spec import mediatypes as mt

    base, shot = tmp_path / "base", tmp_path / "shot.png"
    index = b'{"schemaVersion":2,"mediaType":"%s","manifests":[]}' % mt.OCI_INDEX.encode()
    with LocalRegistry(tmp_path / "untagged", demo=False) as registry:
        with httpx.Client(base_url=registry.url) as http:
            put = http.put(
                "/v2/team/app/manifests/gone",
                content=index,
                headers={"Content-Type": mt.OCI_INDEX},
            )
            assert put.status_code == 201, put.text
            assert http.delete("/v2/team/app/manifests/gone").status_code == 202
            assert http.get("/v2/_catalog").json()["repositories"] == ["team/app"]
        _add_profile(base, "untagged", registry.url)
        done, elapsed = _run_gui(base, "--screenshot", str(shot))
    assert done.returncode == 1, done.stderr
    line = _reason(done.stderr)
    assert "untagged: no repository has a tag, nothing to show (1 looked at: team/app)" in line
    assert elapsed < BOUND_S, f"took {elapsed:.1f} s"
