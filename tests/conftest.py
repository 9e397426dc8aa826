"""Shared test plumbing: external tools, free ports, temporary base directories."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit import free_port, require_tool

__all__ = ["free_port", "require_tool"]


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
