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
    if _depth_exceeds(obj, max_depth):
        raise JSONDocumentError(f"the {what} nests deeper than {max_depth} levels")
    return obj


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
