"""`regview` and `python -m regview`: the command line, or the GUI without a sub-command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from regview.cli import process

    process.starting()
    from regview.cli.main import run

    return run(sys.argv[1:] if argv is None else argv, own_process=True)


def gui_main() -> int:
    """Entry for desktop launchers: always the GUI, with any regview:// URL passed on."""
    from regview.cli import process

    process.starting()
    from regview.cli.main import run

    return run(["gui", *sys.argv[1:]], own_process=True)


if __name__ == "__main__":
    sys.exit(main())
