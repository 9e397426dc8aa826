"""The Linux bundle: its size unpacked and the time from launch to a shown window.

    .venv/bin/python bench/bench_bundle.py                  measure packaging/dist/regview
    .venv/bin/python bench/bench_bundle.py --build          build it first (bash packaging/build-linux.sh)
    .venv/bin/python bench/bench_bundle.py --runs 5 --bundle DIR --write bench/results-bundle.md

Start-up: the bundle is launched the way a desktop launcher does (`regview`, no arguments) on a
private Xvfb display; the clock stops when a top-level X11 window titled "regview" is mapped
(polled with xwininfo every 5 ms). One untimed launch first warms the page cache and leaves a
settings folder behind, so the timed runs are warm starts of a configured app; the median of
the runs is reported. Needs Xvfb and xwininfo (apt: xvfb, x11-utils).
Targets (issue 5): <= 150 MB unpacked, <= 2 s to a shown window.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT / "packaging" / "dist" / "regview"
SIZE_TARGET_MB = 150.0
START_TARGET_S = 2.0
WINDOW_TIMEOUT_S = 30.0
MIB = 1024 * 1024


def bundle_size(bundle: Path) -> tuple[int, int]:
    """(bytes, files): the sum of file sizes as unpacked; symbolic links count as links."""
    total, files = 0, 0
    for path in bundle.rglob("*"):
        if path.is_symlink():
            total += len(str(path.readlink()))
        elif path.is_file():
            total += path.stat().st_size
            files += 1
    return total, files


def largest_parts(bundle: Path, count: int = 6) -> list[tuple[str, int]]:
    internal = bundle / "_internal"
    sizes: dict[str, int] = {}
    for path in internal.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(internal).parts
            key = "/".join(rel[:3]) if rel[0] == "PySide6" else rel[0]
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:count]


class Xvfb:
    def __init__(self) -> None:
        self.display = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Xvfb:
        for number in range(90, 140):
            if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
                continue
            self.display = f":{number}"
            self.proc = subprocess.Popen(
                ["Xvfb", self.display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self._ready():
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            self.__exit__()
        raise SystemExit("could not start Xvfb on a free display between :90 and :139")

    def _ready(self) -> bool:
        probe = subprocess.run(
            ["xwininfo", "-root", "-display", self.display], capture_output=True, check=False
        )
        return probe.returncode == 0

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


_WINDOW = re.compile(r'^\s*(0x[0-9a-f]+) "regview[^"]*":', re.MULTILINE)


def _mapped_regview_window(display: str) -> bool:
    tree = subprocess.run(
        ["xwininfo", "-root", "-children", "-display", display],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for window_id in _WINDOW.findall(tree):
        info = subprocess.run(
            ["xwininfo", "-id", window_id, "-display", display],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if "Map State: IsViewable" in info:
            return True
    return False


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def time_to_window(command: list[str], display: str, basedir: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from launch until the window is mapped."""
    env = {
        **os.environ,
        "DISPLAY": display,
        "REGVIEW_BASEDIR": str(basedir),
        "QT_QPA_PLATFORM": "xcb",
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - start < WINDOW_TIMEOUT_S:
            if _mapped_regview_window(display):
                return time.perf_counter() - start, _cpu_seconds(proc.pid)
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited with {proc.returncode} before a window")
            time.sleep(0.005)
        raise SystemExit(f"no regview window within {WINDOW_TIMEOUT_S:.0f} s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build", action="store_true", help="run packaging/build-linux.sh first")
    parser.add_argument("--write", type=Path, help="also write the results as Markdown here")
    args = parser.parse_args(argv)

    if args.build:
        subprocess.run(["bash", str(ROOT / "packaging" / "build-linux.sh")], check=True)
    executable = args.bundle / "regview"
    if not executable.is_file():
        raise SystemExit(f"no bundle at {args.bundle}: run bash packaging/build-linux.sh")
    for tool in ("Xvfb", "xwininfo"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install xvfb x11-utils)")

    size, files = bundle_size(args.bundle)
    with Xvfb() as x, tempfile.TemporaryDirectory(prefix="regview-bench-") as tmp:
        command = [str(executable)]
        first, _ = time_to_window(command, x.display, Path(tmp))  # cold-ish, first start
        measured = [time_to_window(command, x.display, Path(tmp)) for _ in range(args.runs)]
        # The same app from the source venv, to tell the bundle's cost from the app's own.
        venv_python = ROOT / ".venv" / "bin" / "python"
        reference: list[float] = []
        if venv_python.is_file():
            venv_cmd = [str(venv_python), "-m", "regview"]
            time_to_window(venv_cmd, x.display, Path(tmp))
            reference = [
                time_to_window(venv_cmd, x.display, Path(tmp))[0] for _ in range(args.runs)
            ]
        load = os.getloadavg()[0]
    times = [wall for wall, _ in measured]
    median = statistics.median(times)
    cpu_median = statistics.median(cpu for _, cpu in measured)

    lines = [
        f"- bundle: `{args.bundle.relative_to(ROOT) if args.bundle.is_relative_to(ROOT) else args.bundle}`,"
        f" {files} files",
        f"- size unpacked: **{size / MIB:.1f} MiB** ({size:,} bytes; target <= {SIZE_TARGET_MB:.0f} MB)"
        f" {'OK' if size / MIB <= SIZE_TARGET_MB else 'OVER'}",
        f"- launch to shown window, warm, median of {args.runs}: **{median:.2f} s**"
        f" (runs: {', '.join(f'{t:.2f}' for t in times)}; target <= {START_TARGET_S:.0f} s)"
        f" {'OK' if median <= START_TARGET_S else 'OVER'}",
        f"- CPU time used by then (user + system, median; less sensitive to a busy machine):"
        f" {cpu_median:.2f} s",
        f"- first launch (fresh settings folder, untimed warm-up): {first:.2f} s",
        *(
            [
                f"- for reference, `python -m regview` from the source venv: median"
                f" {statistics.median(reference):.2f} s"
            ]
            if reference
            else []
        ),
        "- largest parts: "
        + ", ".join(f"{name} {n / MIB:.1f} MiB" for name, n in largest_parts(args.bundle)),
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" {platform.platform(terse=True)}; load average {load:.1f} at the end (shared machine)",
    ]
    print("\n".join(lines))
    if args.write:
        header = (
            "# Bundle benchmark\n\n"
            "`bench/bench_bundle.py` on the Linux one-folder bundle from "
            "`bash packaging/build-linux.sh`.\n\n"
        )
        args.write.write_text(header + "\n".join(lines) + "\n")
    return 0 if size / MIB <= SIZE_TARGET_MB and median <= START_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
