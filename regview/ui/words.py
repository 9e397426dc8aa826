"""Counts in words: "1 tag", "2 tags" — never "tag(s)".

plural(n, one, many=None) -> str     "1 other tag", "3 other tags", "2 entries"
"""

from __future__ import annotations


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
