"""Command-line dispatch.

Each sub-command lives in a module `regview/cli/cmd_<name>.py` with
`register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None`, which adds its
parser(s) and sets `func=<callable(args) -> int>` as a default. Modules are discovered here so
that commands can be added without touching this file. Without a sub-command (or with a
`regview://` URL as the only argument) the GUI starts.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Callable
from typing import cast

import regview.cli as cli_pkg
from regview import __version__

# httpx imports its own command-line tool (`httpx._main`) when click is installed, and with it
# click and pygments: ~12 ms of every command's start-up for a tool regview never runs. A None
# entry makes that import fail, and httpx then defines a stub `main` instead.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

#: Sub-command modules, kept in a list for bundlers that cannot follow pkgutil discovery.
KNOWN_COMMAND_MODULES: tuple[str, ...] = ()


def _command_modules() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(cli_pkg.__path__) if m.name.startswith("cmd_")}
    return sorted(found | set(KNOWN_COMMAND_MODULES))


def build_parser(command: str = "") -> argparse.ArgumentParser:
    """The parser; with `command` naming a `cmd_<command>` module, that command's alone
    (importing every command costs ~0.3 s of start-up, a third of a short `regview tags`)."""
    from regview.cli.common import EXIT_CODES_HELP

    parser = argparse.ArgumentParser(
        prog="regview",
        description="Browse and safely prune container image registries. Without a command, "
        "the desktop app opens.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"regview {__version__}")
    parser.add_argument(
        "--basedir", help="keep all settings, data and caches under this folder (portable mode)"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log in detail (to stderr and the log file; secrets are masked either way)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = _command_modules()
    only = f"cmd_{command.replace('-', '_')}"
    for name in [only] if only in names else names:
        module = importlib.import_module(f"regview.cli.{name}")
        module.register(sub)
    return parser


#: Flag spellings accepted for sub-commands (packaging docs and desktop files use these).
FLAG_ALIASES: dict[str, str] = {"--install-desktop-entry": "install-desktop-entry"}


def run(argv: list[str], *, own_process: bool = False) -> int:
    """Parse `argv` and run the command. `own_process`: regview's own process (`__main__`)
    — a short command (`short_lived` in its defaults) then runs with the collector, loop and
    exit of `cli/process.py` and leaves the process when it is done."""
    argv = [FLAG_ALIASES.get(a, a) if i == 0 else a for i, a in enumerate(argv)]
    # `regview regview://...` opens a shared view; `regview` alone opens the GUI.
    if not argv or (len(argv) == 1 and argv[0].startswith("regview://")):
        argv = ["gui", *argv]
    parser = build_parser(argv[0] if not argv[0].startswith("-") else "")
    args = parser.parse_args(argv)
    if args.basedir:
        os.environ["REGVIEW_BASEDIR"] = args.basedir
    _configure_logging(bool(args.debug))
    logging.getLogger("regview.cli").info(
        "regview %s: %s", __version__, args.command or "(no command)"
    )
    func = getattr(args, "func", None)
    if func is None and args.command is None and argv:  # `regview --debug`: the GUI too
        args = parser.parse_args([*argv, "gui"])
        func = getattr(args, "func", None)
    short = own_process and bool(getattr(args, "short_lived", False))
    if own_process:
        from regview.cli import process

        process.command_starts(short)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    code = cast(Callable[[argparse.Namespace], int], func)(args)
    if short:
        return process.leave(code)
    return code


def _configure_logging(debug: bool) -> None:
    """Logging first, for every command and the GUI: the platform's log folder (or --basedir's),
    the redacting filter on every handler."""
    from regview.log import configure
    from regview.paths import default_paths

    configure(debug=debug or os.environ.get("REGVIEW_DEBUG") == "1", log_dir=default_paths().log)
