"""parse_json: untrusted JSON turns into SpecError, never RecursionError/ValueError leaks."""

from __future__ import annotations

import pytest

from regview.spec.errors import SpecError
from regview.spec.jsondoc import MAX_DEPTH, JSONDocumentError, parse_json


def test_ordinary_document() -> None:
    assert parse_json(b'{"schemaVersion": 2, "layers": [{"size": 1}]}') == {
        "schemaVersion": 2,
        "layers": [{"size": 1}],
    }


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_is_a_spec_error(depth: int) -> None:
    data = "[" * depth + "]" * depth
    with pytest.raises(JSONDocumentError, match="nests deeper"):
        parse_json(data, what="manifest")


def test_depth_limit_is_inclusive() -> None:
    data = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    parse_json(data)


@pytest.mark.parametrize(
    "data",
    [b"{bad", b"\xff\xfe", b"", "1" * 5000, b'{"a": NaN'],
)
def test_unreadable_bytes_name_the_document(data: bytes | str) -> None:
    with pytest.raises(SpecError, match="tag list"):
        parse_json(data, what="tag list")
