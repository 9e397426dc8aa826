"""What a network command imports before it sends its first request: only what it needs.

Start-up is a part of `regview tags --json` users feel on every call (issue 14: within 1.3× of
the floor on loopback); each module below cost tens of milliseconds there."""

from __future__ import annotations

import json
import subprocess
import sys

NOT_NEEDED = ("click", "pygments", "aiohttp", "PySide6", "httpx._main")


def test_the_tags_command_imports_no_gui_no_aiohttp_and_not_httpx_s_own_cli() -> None:
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
