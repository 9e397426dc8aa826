"""The client's probe recognises regview's own registry by its `/v2/` header."""

from __future__ import annotations

from pathlib import Path

import regview
from regview.core.model import Endpoint, RegistryKind
from regview.core.probe import probe
from regview.server.runner import LocalRegistry


async def test_probe_identifies_regview_registry(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "data") as reg:
        result = await probe(Endpoint(reg.url))
    assert result.kind is RegistryKind.REGVIEW
    assert result.version == regview.__version__
    assert not result.auth_required
