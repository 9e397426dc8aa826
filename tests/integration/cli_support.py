"""Run the real `regview` entry point as a subprocess with an isolated home, keyring and env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

_DROP = (
    "REGVIEW_USERNAME",
    "REGVIEW_PASSWORD",
    "DOCKER_CONFIG",
    "REGISTRY_AUTH_FILE",
    "CI_REGISTRY",
    "CI_REGISTRY_USER",
    "CI_REGISTRY_PASSWORD",
    "CI_JOB_TOKEN",
    "CI_API_V4_URL",
)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """`cli("tags", ...)` runs `python -m regview tags ...` in a sandboxed environment."""

    def __init__(self, tmp: Path) -> None:
        self.home = tmp / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.keyring_file = tmp / "test-keyring.json"
        env = {k: v for k, v in os.environ.items() if k not in _DROP}
        env.update(
            HOME=str(self.home),
            XDG_RUNTIME_DIR=str(tmp / "run"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            PYTHON_KEYRING_BACKEND="cli_keyring.FileKeyring",
            REGVIEW_TEST_KEYRING_FILE=str(self.keyring_file),
            PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]),
        )
        self.env = env

    @property
    def settings_file(self) -> Path:
        return Path(self.env["REGVIEW_BASEDIR"]) / "config" / "settings.json"

    def keyring(self) -> dict[str, str]:
        if not self.keyring_file.exists():
            return {}
        data: dict[str, str] = json.loads(self.keyring_file.read_text())
        return data

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """`python -m regview ARGS` started, not waited for (a test stops a server under it,
        or interrupts it), stdin closed, stdout and stderr captured."""
        return subprocess.Popen(
            [sys.executable, "-m", "regview", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )

    def __call__(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 120
    ) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "regview", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=timeout,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)
