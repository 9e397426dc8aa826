"""Fixtures for integration tests: Debian's docker-registry in three flavours, images via skopeo."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent):  # distribution.py here; support_images.py in tests/
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

# tests/conftest.py by path: pytest drops the name "conftest" from sys.modules before importing
# this file, so `from conftest import ...` here would import this file itself.
_root_spec = importlib.util.spec_from_file_location("_regview_tests_root", HERE.parent / "conftest.py")
assert _root_spec is not None and _root_spec.loader is not None
_root = importlib.util.module_from_spec(_root_spec)
_root_spec.loader.exec_module(_root)
require_tool = _root.require_tool
from distribution import Distribution, run_distribution  # noqa: E402


@pytest.fixture(params=["anonymous", "basic", "token"])
def distribution(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Distribution]:
    """docker-registry with delete enabled, once per auth flavour."""
    require_tool("docker-registry")
    with run_distribution(tmp_path / "registry", flavour=request.param) as reg:
        yield reg


@pytest.fixture
def token_registry_factory(tmp_path: Path) -> Iterator[object]:
    """Start a token-auth docker-registry with a chosen token lifetime."""
    require_tool("docker-registry")
    stack: list[object] = []
    import contextlib

    with contextlib.ExitStack() as es:

        def start(lifetime: float) -> Distribution:
            reg = es.enter_context(
                run_distribution(
                    tmp_path / f"registry-{len(stack)}", flavour="token", token_lifetime=lifetime
                )
            )
            stack.append(reg)
            return reg

        yield start
