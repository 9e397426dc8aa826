"""Shared test plumbing: external tools, free ports, temporary base directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from testkit import free_port, require_tool

__all__ = ["free_port", "require_tool"]

# Widgets appear in integration tests too (the keyring round trip through the dialogs): without a
# display they must render offscreen, whichever folder pytest was pointed at.
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


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
