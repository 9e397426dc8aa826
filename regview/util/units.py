"""Sizes in words for people: 1536 → "1.5 KiB" (binary units, as registries and du count)."""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int | None, *, unknown: str = "") -> str:
    """`unknown` stands for None: "" in tables (an empty cell), "-" in the CLI's columns."""
    if size is None:
        return unknown
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover
