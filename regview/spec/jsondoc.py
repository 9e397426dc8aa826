"""Decoding JSON documents that come from the other side of a socket.

Registry answers, manifests and REST bodies are untrusted: a 2 KB document nested 1000 deep makes
`json.loads` (or any recursive walk over its result) raise RecursionError, a 5000-digit number a
ValueError, bad bytes a UnicodeDecodeError. Every caller wants one thing instead: a `SpecError` that
says which document was bad, so it can answer 400 / print one line / show words in the window.
"""

from __future__ import annotations

import json
from typing import Any

from regview.spec.errors import SpecError

#: Deepest nesting a legitimate registry document uses is well under 10 (an index → manifests →
#: annotations). 64 leaves room for odd-but-valid JSON while keeping every recursive walk safe.
MAX_DEPTH = 64


class JSONDocumentError(SpecError):
    """Bytes that are not a JSON document we are willing to read."""


def parse_json(data: bytes | str, *, what: str = "document", max_depth: int = MAX_DEPTH) -> Any:
    """Decode `data`; raise `JSONDocumentError` naming `what` for anything unreadable.

    The result is guaranteed to nest at most `max_depth` containers deep, so callers may walk it
    recursively.
    """
    try:
        obj = json.loads(data)
    except RecursionError:
        raise JSONDocumentError(f"the {what} nests deeper than {max_depth} levels") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError, huge ints
        raise JSONDocumentError(f"the {what} is not valid JSON: {_short(exc)}") from exc
    if _containers_at_most(data, max_depth):
        return obj  # too few brackets to nest that deep: no walk needed
    if _depth_exceeds(obj, max_depth):
        raise JSONDocumentError(f"the {what} nests deeper than {max_depth} levels")
    return obj


def _containers_at_most(data: bytes | str, limit: int) -> bool:
    """True when `data` holds at most `limit` "[" and "{" characters, so the decoded document
    cannot nest deeper than `limit` — the walk below is then skipped (a manifest has ~6; the walk
    cost ~5 µs of each of a listing's thousands). Counted in C over the raw text: brackets inside
    strings count too, which only ever sends a document to the exact walk. For bytes in UTF-16 or
    UTF-32 (json.loads accepts them) every bracket still contains its ASCII byte."""
    if isinstance(data, str):
        return data.count("[") + data.count("{") <= limit
    return data.count(b"[") + data.count(b"{") <= limit


def _depth_exceeds(obj: Any, limit: int) -> bool:
    # Iterative on purpose: the point is to be safe on documents a recursive walk would choke on.
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "…"
