"""Command-line dispatch. Sub-commands are added by the CLI modules as they land."""

from __future__ import annotations

import argparse

from regview import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regview", description=__doc__)
    parser.add_argument("--version", action="version", version=f"regview {__version__}")
    return parser


def run(argv: list[str]) -> int:
    build_parser().parse_args(argv)
    return 0
