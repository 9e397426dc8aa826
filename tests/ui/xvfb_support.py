"""Run Python code in a child process on a real X server (Xvfb, platform xcb), for what the
offscreen platform hides (the X11 platform theme's hints, X11's key mapping).

    run_on_xvfb(code, *args, timeout=60) -> CompletedProcess   stdout/stderr as text
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from testkit import require_tool


def run_on_xvfb(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    xvfb = require_tool("Xvfb")
    display = f":{200 + (os.getpid() + len(code)) % 500}"
    server = subprocess.Popen(
        [xvfb, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), *sys.path])
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(10)
