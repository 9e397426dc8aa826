"""PyInstaller's entry point for the regview bundle: the same `main` as the `regview` script."""

import multiprocessing
import sys

from regview.__main__ import main

if __name__ == "__main__":
    # A bundled child process re-runs this executable; freeze_support lets it do its job and exit.
    multiprocessing.freeze_support()
    sys.exit(main())
