"""Shared test plumbing: external tools, free ports, temporary base directories."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

REQUIRE_TOOLS = os.environ.get("REGVIEW_REQUIRE_TOOLS") == "1"


def require_tool(name: str) -> str:
    """Path of an external program; skip the test without it, or fail when CI requires tools."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (apt-get install it, or run tests/run.sh)"
        if REQUIRE_TOOLS:
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _isolated_basedir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test ever touches the real user profile."""
    base = tmp_path / "regview-base"
    monkeypatch.setenv("REGVIEW_BASEDIR", str(base))
    return base


@pytest.fixture(autouse=True)
def _honour_needs_tool(request: pytest.FixtureRequest) -> None:
    for marker in request.node.iter_markers("needs_tool"):
        for name in marker.args:
            require_tool(name)
