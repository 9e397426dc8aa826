"""`regview gui [--local] [--screenshot FILE] [URL]`: the desktop app."""

from __future__ import annotations

import argparse

from regview.cli.help import with_examples

EXAMPLES = """\
  regview                          (same as regview gui)
  regview gui --local              (with the embedded registry and its demo data)
  regview gui 'regview://registry.example.com/team/app?tag=v1'
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "gui",
        help="open the desktop app (the default without a command)",
        **with_examples(EXAMPLES, exit_codes=False),
    )
    p.add_argument(
        "--local",
        action="store_true",
        help="start the embedded test registry with demo data and connect to it",
    )
    p.add_argument(
        "--screenshot",
        metavar="FILE",
        help="open, load the first repository with tags, save a PNG of the window and exit",
    )
    p.add_argument(
        "--screenshot-size",
        metavar="WxH",
        help="the window size for --screenshot (default 1400x860), e.g. 1024x700",
    )
    p.add_argument("url", nargs="?", help="a regview:// link to open (from 'Copy link')")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from regview.app import main

    return main(args)
