"""Filter and sort over a Python list of row indices: no Qt, no per-cell calls into Python.

A `QSortFilterProxyModel` over a Python model calls `data()` once per comparison (~5 µs each
from C++), which makes a 100,000-row sort take seconds. Here every row gets its sort keys and a
lowercase search haystack once, when it arrives; a sort is one `sorted()` over integers with a
precomputed key list (cached per column), a filter keystroke is one pass of `in` over strings.
The model then shows `visible`, a list of row numbers into its backing list.

Filter text: whitespace-separated words, all must occur (case-insensitive) in the row's
haystack (names, platforms, type). Digests are searched only for words that look like one
(`sha256:…` or six or more hex digits): 140 characters of hex per row would otherwise match
almost any short word and triple the cost of every keystroke. Regex mode: one pattern searched in the row's *name* (tag or repository path); the
pattern must also compile under RE2, which refuses backreferences and look-arounds, so that a
pattern typed by a person cannot make a search exponential through those features.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Any

DAY = 86400.0
_DIGESTISH = re.compile(r"(?:sha256:|sha512:)[0-9a-f]*|[0-9a-f]{6,}")
UNKNOWN_TIME = -math.inf  # rows without a date sort first ascending and never pass an age filter
#: a column's first sort of fewer rows takes a few ms: no order is built ahead
ORDERS_AHEAD_MIN_ROWS = 5_000


def shared_lower(text: str) -> str:
    """`text.lower()`, but `text` itself when it is lowercase already (most tags, every digest):
    a row's facts then share the row's string instead of holding an equal copy."""
    lower = text.lower()
    return text if lower == text else lower


class FilterError(ValueError):
    """The filter the user typed cannot be used (e.g. an invalid regular expression)."""


def _bad_regex(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):  # re2's messages are bytes
        detail = detail.decode("utf-8", "replace")
    return (
        f"Not a usable regular expression — {detail}. Fix it, or switch off .* to search for "
        "plain words; the table keeps the last filter that worked."
    )


@dataclass(frozen=True, slots=True)
class FilterSpec:
    text: str = ""
    regex: bool = False
    older_than_days: float | None = None
    newer_than_days: float | None = None
    platform: str = ""  # a platform label such as "linux/arm64"; "" = any

    @property
    def is_empty(self) -> bool:
        return (
            not self.text.strip()
            and self.older_than_days is None
            and self.newer_than_days is None
            and not self.platform
        )

    def narrows(self, previous: FilterSpec) -> bool:
        """True when every row this spec accepts was accepted by `previous` (typing on)."""
        if (self.regex, self.older_than_days, self.newer_than_days, self.platform) != (
            previous.regex,
            previous.older_than_days,
            previous.newer_than_days,
            previous.platform,
        ):
            return False
        # Every word of the old text is a substring of a word of the new one.
        return not self.regex and self.text.lower().startswith(previous.text.lower())


_RE2_OPTIONS: Any = None


def compile_regex(pattern: str) -> re.Pattern[str]:
    global _RE2_OPTIONS
    import re2  # imported on the first regex, not at start-up (~0.1 s)

    if _RE2_OPTIONS is None:
        _RE2_OPTIONS = re2.Options()
        _RE2_OPTIONS.log_errors = False  # RE2 would print every half-typed pattern to stderr
    try:
        re2.compile(pattern, _RE2_OPTIONS)
    except Exception as exc:  # re2 raises its own error type (re2.error)
        raise FilterError(_bad_regex(exc)) from exc
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise FilterError(_bad_regex(exc)) from exc


class RowIndex:
    """Sort keys, haystacks and filter facts for a list of rows that only grows (or is reset).

    `keys[col][row]` is the raw value sorted on for column `col`: floats for times, sizes and
    digests (Python's sort compares floats fastest; exact to 2^53 bytes), ints for counts,
    lowercase strings for text. `ids[field][row]` are identifiers (a tag's digests) searched only
    for digest-like words, one list per field so that each holds the row's own string objects
    (one joined string per row cost 19 MB at 100,000 tags).
    """

    def __init__(self, columns: int, id_fields: int = 0) -> None:
        self.columns = columns
        self.id_fields = id_fields
        self.clear()

    def clear(self) -> None:
        self.keys: list[list[Any]] = [[] for _ in range(self.columns)]
        self.hay: list[str] = []
        self.ids: list[list[str]] = [[] for _ in range(self.id_fields)]
        self.names: list[str] = []
        self.times: list[float] = []
        self.platforms: list[frozenset[str]] = []
        self._order: dict[int, list[int]] = {}
        # One int object per row number, shared by every column's order, the visible list and
        # the models' row maps: a sort of 100k rows then costs a list of pointers (0.8 MB)
        # instead of 100k fresh ints as well (3.6 MB per column, ~30 MB once every column was
        # sorted). May run ahead of the rows (`number`); never behind once asked for.
        self._numbers: list[int] = []

    def __len__(self) -> int:
        return len(self.hay)

    def numbers(self, start: int = 0, stop: int | None = None) -> list[int]:
        """Row numbers `start` to `stop` (default: every row) as the shared int objects."""
        stop = len(self.hay) if stop is None else stop
        numbers = self._numbers
        if len(numbers) < stop:
            numbers.extend(range(len(numbers), stop))
        return numbers[start:stop]

    def number(self, row: int) -> int:
        """The shared int object for row number `row` (the row may not be added yet)."""
        numbers = self._numbers
        if len(numbers) <= row:
            numbers.extend(range(len(numbers), row + 1))
        return numbers[row]

    def append(
        self,
        keys: Sequence[Any],
        hay: str,
        name: str,
        created: float = UNKNOWN_TIME,
        platforms: frozenset[str] = frozenset(),
        ids: Sequence[str] = (),
    ) -> None:
        if len(ids) != self.id_fields:
            raise ValueError(f"{len(ids)} identifiers for {self.id_fields} fields")
        for col, key in enumerate(keys):
            self.keys[col].append(key)
        self.hay.append(hay.lower())
        for field, value in zip(self.ids, ids, strict=True):
            field.append(shared_lower(value))
        self.names.append(name)
        self.times.append(created)
        self.platforms.append(platforms)
        self._order.clear()

    def extend(self, facts: Sequence[Sequence[Any]]) -> None:
        """Append rows whose facts were computed elsewhere (the loader's worker thread).

        Each item is `(*keys, hay_lower, name, created, platforms, *ids_lower)`: the keys one
        per column, the haystack and identifiers already lowercase. Column-wise `list.extend`
        over a transposed batch: C speed on the UI thread, no per-row Python call.
        """
        if not facts:
            return
        columns = list(zip(*facts, strict=True))
        n = self.columns
        for col in range(n):
            self.keys[col].extend(columns[col])
        self.hay.extend(columns[n])
        self.names.extend(columns[n + 1])
        self.times.extend(columns[n + 2])
        self.platforms.extend(columns[n + 3])
        for field, values in zip(self.ids, columns[n + 4 :], strict=True):
            field.extend(values)
        self._order.clear()

    def set_facts(self, row: int, facts: Sequence[Any]) -> None:
        """Replace one row's facts (laid out as for `extend`)."""
        n = self.columns
        for col in range(n):
            self.update_key(row, col, facts[col])
        self.hay[row], self.names[row], self.times[row], self.platforms[row] = facts[n : n + 4]
        for field, value in zip(self.ids, facts[n + 4 :], strict=True):
            field[row] = value

    def keep(self, stays: list[bool]) -> None:
        """Only the rows whose `stays` is true stay (the others were deleted)."""
        self.keys = [list(compress(col, stays)) for col in self.keys]
        self.hay = list(compress(self.hay, stays))
        self.ids = [list(compress(field, stays)) for field in self.ids]
        self.names = list(compress(self.names, stays))
        self.times = list(compress(self.times, stays))
        self.platforms = list(compress(self.platforms, stays))
        self._order.clear()

    def set_column(self, col: int, keys: list[Any]) -> None:
        """Replace a whole column's keys at once (computed elsewhere, one per row)."""
        if len(keys) != len(self.hay):
            raise ValueError(f"{len(keys)} keys for {len(self.hay)} rows")
        self.keys[col] = keys
        self._order.pop(col, None)

    def update_key(self, row: int, col: int, key: Any) -> None:
        self.keys[col][row] = key
        self._order.pop(col, None)

    def order(self, col: int, descending: bool = False) -> list[int]:
        """All rows sorted by column `col` (stable; ties keep arrival order)."""
        asc = self._order.get(col)
        if asc is None:
            keys = self.keys[col]
            asc = sorted(self.numbers(0, len(keys)), key=keys.__getitem__)
            self._order[col] = asc
        return asc[::-1] if descending else asc

    def has_order(self, col: int) -> bool:
        return col in self._order

    def order_steps(self, min_rows: int = ORDERS_AHEAD_MIN_ROWS) -> Iterator[None]:
        """Build the column orders not built yet, one column a step: the UI thread runs a step
        when it is idle, so that a column's first sort later costs no more than any other.

        A step is one `sorted()` (100,000 rows: 2-17 ms by key type). Smaller steps were tried
        (sorted runs of 25,000, then merged): the merge of the runs cost as much as the whole
        sort (17-29 ms), so they bounded nothing and added work."""
        if len(self.hay) < min_rows:
            return
        for col in range(self.columns):
            if col not in self._order:
                self.order(col)
                yield

    def matching(
        self, spec: FilterSpec, candidates: Sequence[int], now: float | None = None
    ) -> list[int]:
        """The rows of `candidates` (in their order) that `spec` accepts."""
        rows: Sequence[int] = candidates
        if spec.is_empty:
            return list(rows)
        text = spec.text.strip()
        if text and spec.regex:
            pattern = compile_regex(text)
            names = self.names
            search = pattern.search
            rows = [r for r in rows if search(names[r])]
        elif text:
            hay = self.hay
            for word in text.lower().split():
                if _DIGESTISH.fullmatch(word) and self.ids:
                    rows = self._with_id_word(word, rows)
                else:
                    rows = [r for r in rows if word in hay[r]]
        if spec.older_than_days is not None or spec.newer_than_days is not None:
            now = time.time() if now is None else now
            times = self.times
            lo = -math.inf if spec.older_than_days is None else now - spec.older_than_days * DAY
            hi = math.inf if spec.newer_than_days is None else now - spec.newer_than_days * DAY
            if spec.older_than_days is not None:
                rows = [r for r in rows if UNKNOWN_TIME < times[r] < lo]
            if spec.newer_than_days is not None:
                rows = [r for r in rows if times[r] > UNKNOWN_TIME and times[r] >= hi]
        if spec.platform:
            plats = self.platforms
            wanted = spec.platform
            rows = [r for r in rows if wanted in plats[r]]
        return list(rows)

    def _with_id_word(self, word: str, rows: Sequence[int]) -> list[int]:
        """The rows (in their order) whose haystack or any identifier contains `word`."""
        hay = self.hay
        if len(self.ids) == 2:  # the tags table: manifest and config digest
            first, second = self.ids
            return [r for r in rows if word in hay[r] or word in first[r] or word in second[r]]
        found = {r for r in rows if word in hay[r]}
        for field in self.ids:
            found.update(r for r in rows if word in field[r])
        return [r for r in rows if r in found]

    def visible(
        self,
        spec: FilterSpec,
        sort_col: int | None,
        descending: bool,
        previous: tuple[FilterSpec, list[int]] | None = None,
    ) -> list[int]:
        """Rows to show, in display order.

        With `previous` (the spec and visible list of the last call, same sort) and a spec that
        narrows it, only the previously visible rows are tested: typing gets faster as the
        list gets shorter.
        """
        if previous is not None and spec.narrows(previous[0]):
            return self.matching(spec, previous[1])
        base = self.numbers() if sort_col is None else self.order(sort_col, descending)
        return self.matching(spec, base)
