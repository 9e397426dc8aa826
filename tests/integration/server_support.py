"""Fixtures for integration tests of the embedded registry over real sockets."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from regview.server.auth import hash_password
from regview.server.runner import LocalRegistry

USER, PASSWORD = "tester", "pa55-word"


def host_of(url: str) -> str:
    return url.split("://", 1)[1]


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    with LocalRegistry(tmp_path / "registry-data") as reg:
        yield reg


@pytest.fixture
def basic_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"{USER}:{hash_password(PASSWORD, rounds=4)}\n")
    with LocalRegistry(tmp_path / "registry-data", auth="basic", htpasswd=htpasswd) as reg:
        yield reg
