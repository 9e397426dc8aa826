"""`regview install-desktop-entry`: menu entry, icons and regview:// links for this install."""

from __future__ import annotations

import argparse
import sys

from regview.cli.help import with_examples
from regview.desktop_entry import (
    DesktopEntryError,
    current_command,
    install_desktop_entry,
    remove_desktop_entry,
)

EXAMPLES = """\
  regview install-desktop-entry
  regview install-desktop-entry --remove
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "install-desktop-entry",
        help="add regview to the desktop's application menu and open regview:// links with it",
        description=(
            "Writes io.github.regview.desktop, the icons and the AppStream metainfo under "
            "~/.local/share (or $XDG_DATA_HOME) for the current user; no root needed."
        ),
        **with_examples(EXAMPLES, exit_codes=False),
    )
    parser.add_argument(
        "--remove", action="store_true", help="remove a desktop entry installed earlier"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.remove:
        removed = remove_desktop_entry()
        print(f"removed {len(removed)} file(s)" if removed else "no desktop entry was installed")
        return 0
    try:
        result = install_desktop_entry()
    except DesktopEntryError as exc:
        print(f"regview: {exc}", file=sys.stderr)
        return 1
    print(f"installed {result.desktop_file} (runs: {' '.join(current_command())})")
    print(
        f"  {len(result.written) - 1} icon/metainfo file(s) under {result.desktop_file.parent.parent}"
    )
    for note in result.notes:
        print(f"  note: {note}")
    return 0
