"""The local test registry is there again on the next start: walking the app, "Try it with a
local test registry" saved its profile, and the next plain `regview` opened on that profile with
"Registry not reachable — nothing answers on 127.0.0.1 port …" (63-restart-fixed-code), since
the embedded registry stops with the app and nothing started it again. Run for real: the app in
a child process twice (offscreen, one settings folder), first with --local, then without."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


def _gui(base: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
        # no keyring to unlock in a child: the demo token is kept for the session only
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "regview", "--basedir", str(base), "gui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_saved_local_test_registry_starts_again_with_the_app(tmp_path: Path) -> None:
    base = tmp_path / "base"
    first = _gui(base, "--local", "--screenshot", str(tmp_path / "first.png"))
    assert first.returncode == 0, first.stderr[-3000:]
    # the next start, as from the menu: the saved profile's registry answers again, so the
    # screenshot of its first repository with tags is taken (exit 1 and a line why otherwise)
    second = _gui(base, "--screenshot", str(tmp_path / "second.png"))
    assert second.returncode == 0, second.stderr[-3000:]
    assert (tmp_path / "second.png").stat().st_size > 0
