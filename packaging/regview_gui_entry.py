"""PyInstaller's entry point for the windowed executable (Windows): always the GUI.

Windows starts it for the menu shortcut and for regview:// links (`regview.exe "%1"`); a windowed
program has no console, so the command line lives in regview-cli.exe (regview_entry.py).
"""

import multiprocessing
import sys

from regview.__main__ import gui_main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(gui_main())
