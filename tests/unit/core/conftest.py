"""Fixtures of the client-core unit tests (helpers live in registry_fakes.py)."""

from __future__ import annotations

import pytest
from registry_fakes import FakeRegistry, Sleeps


@pytest.fixture
def fake() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
