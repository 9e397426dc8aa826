"""Fixtures for integration tests: Debian's docker-registry in three flavours, images via skopeo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from distribution import Distribution, run_distribution


@pytest.fixture(params=["anonymous", "basic", "token"])
def distribution(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Distribution]:
    """docker-registry with delete enabled, once per auth flavour (mark tests needs_tool)."""
    with run_distribution(tmp_path / "registry", flavour=request.param) as reg:
        yield reg


@pytest.fixture
def token_registry_factory(tmp_path: Path) -> Iterator[object]:
    """Start a token-auth docker-registry with a chosen token lifetime."""
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
