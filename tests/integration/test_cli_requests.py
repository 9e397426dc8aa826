"""`regview tags --json` as users run it: what it asks a registry for a listing, and nothing else.

Issue 14: the CLI's listing goes through the same `load_tags` fan-out as the window's, so it
costs the same requests — the tag list, one manifest per tag, each config once — with no ping,
no probe and no second pass before or after (a subprocess against the embedded registry,
every request seen by a counting proxy). A guard: it held before this round too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from counting_proxy import counted_local_registry

REPO = "team/app"
N = 40
CONFIGS = 1  # tiny images share the empty config


def test_the_cli_lists_with_the_tag_list_then_manifests_and_each_config_once(
    tmp_path: Path,
) -> None:
    with counted_local_registry(tmp_path, REPO, N) as (proxied, proxy):
        image = f"{proxied.split('://')[1]}/{REPO}"
        proc = subprocess.run(
            [sys.executable, "-m", "regview", "tags", image, "--json"],
            env=dict(os.environ, REGVIEW_BASEDIR=str(tmp_path / "base")),
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr.decode()
    assert len(json.loads(proc.stdout)) == N
    log = proxy.since(0)
    assert log[0][1].startswith(f"/v2/{REPO}/tags/list"), proxy.table()
    assert proxy.count() == Counter(
        {("GET", "tags/list"): 1, ("GET", "manifest"): N, ("GET", "blob"): CONFIGS}
    ), proxy.table()
