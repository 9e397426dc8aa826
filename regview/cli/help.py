"""Help text helpers: every command's `--help` ends with examples and the exit codes.

    p = sub.add_parser("tags", ..., **with_examples(EXAMPLES))

Descriptions (one paragraph, no newlines) are wrapped to the terminal as usual; text that has
newlines (examples, a CI job snippet) is kept exactly as written.
"""

from __future__ import annotations

import argparse
from typing import Any

from regview.cli.common import EXIT_CODES_HELP


class HelpFormatter(argparse.HelpFormatter):
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def with_examples(examples: str, *, exit_codes: bool = True) -> dict[str, Any]:
    """`add_parser` keyword arguments: an epilog starting with `examples:`."""
    text = "examples:\n" + examples.strip("\n") + "\n"
    if exit_codes:
        text += "\n" + EXIT_CODES_HELP + "\n"
    return {"epilog": text, "formatter_class": HelpFormatter}
