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
# what a plain-http listing never uses: the GUI's and the server's packages, deletion, the
# "Test" button's access check, the TLS trust store (only a https registry reads it, ~3 ms),
# the registries' management APIs (a plain registry has none: ~3 ms)
NOT_RUN = (
    *NOT_NEEDED,
    "qasync",
    "humanize",
    "numpy",
    "truststore",
    "h2",
    "starlette",
    "uvicorn",
    "regview.ui",
    "regview.server",
    "regview.services",
    "regview.core.access",
    "regview.core.vendors",
    "regview.core.deletion",
    "regview.core.journal",
    "regview.settings.secrets",
)


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


def test_a_tags_run_up_to_its_first_request_imports_none_of_what_it_does_not_use() -> None:
    # the whole command, as `regview tags` runs it, against a closed loopback port: everything
    # up to the first request is imported by then
    code = (
        "import json, os, sys, tempfile\n"
        "os.environ['REGVIEW_BASEDIR'] = tempfile.mkdtemp()\n"
        "from regview.cli import main\n"
        "code = main.run(['tags', '127.0.0.1:9/team/app', '--json'])\n"
        f"print(json.dumps([code, [m for m in {NOT_RUN!r} if sys.modules.get(m) is not None]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.splitlines()[-1]) == [1, []]
