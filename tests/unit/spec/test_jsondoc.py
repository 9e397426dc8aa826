"""parse_json: untrusted JSON turns into SpecError, never RecursionError/ValueError leaks."""

from __future__ import annotations

import json

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


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-32"])
def test_deep_nesting_found_in_every_encoding_json_reads(encoding: str) -> None:
    # the bracket count that skips the walk must see every bracket, whatever the encoding
    data = ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).encode(encoding)
    with pytest.raises(JSONDocumentError, match="nests deeper"):
        parse_json(data, what="manifest")


def test_many_brackets_but_shallow_is_read() -> None:
    # more brackets than the limit (in strings, side by side): the exact walk decides, and
    # nothing here nests deeper than 3
    doc = {"a": "[{" * MAX_DEPTH, "b": [[{}] for _ in range(MAX_DEPTH)]}
    assert parse_json(json.dumps(doc).encode()) == doc


def test_deep_nesting_behind_a_short_bracket_count_is_impossible() -> None:
    # the fast path's premise: depth never exceeds the number of "[" and "{" in the text
    data = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert data.count("[") == MAX_DEPTH
    parse_json(data)
    with pytest.raises(JSONDocumentError, match="nests deeper"):
        parse_json("[" + data + "]")
