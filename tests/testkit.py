"""Helpers every test folder may import (`tests/` is on pytest's pythonpath): external tools and
free loopback ports. Not in conftest.py, because several folders have a conftest and the name
`conftest` is not importable reliably."""

from __future__ import annotations

import os
import shutil
import socket

import httpx
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


def v2_status(url: str, *, timeout: float = 1.0) -> int | None:
    """Status of `GET {url}/v2/`, or None when nothing answers yet. Every socket is closed before
    returning (urllib's HTTPError keeps its response open until collected, which surfaced as a
    ResourceWarning in whichever later test the garbage collector happened to run in)."""
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as http:
            return http.get(f"{url}/v2/").status_code
    except httpx.TransportError:
        return None
