"""Unit tests of settings never touch a real keyring: an in-memory backend is installed."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring_support import MemoryKeyring


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
