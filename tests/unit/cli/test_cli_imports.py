"""What a network command imports before it sends its first request: only what it needs.

Start-up is a part of `regview tags --json` users feel on every call (issue 14: within 1.3× of
the floor on loopback); each module below cost tens of milliseconds there."""

from __future__ import annotations

import json
import subprocess
import sys

# keyring (with importlib_metadata, jaraco, more_itertools: ~15 ms) only when a saved login is
# looked up — an anonymous listing, a CI job with its token in the environment never need it
NOT_NEEDED = ("click", "pygments", "aiohttp", "PySide6", "httpx._main", "keyring")


def test_the_tags_command_imports_no_gui_no_aiohttp_not_httpx_s_own_cli_nor_keyring() -> None:
    code = (
        "import json, sys\n"
        "from regview.cli import main\n"
        "main.build_parser('tags')\n"
        "import regview.core.client.client, regview.core.inventory\n"
        f"print(json.dumps([m for m in {NOT_NEEDED!r} if sys.modules.get(m) is not None]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
