"""Desktop integration for a pip/pipx install (and the bundle): `regview install-desktop-entry`.

Writes, for the current user only (no root), following the XDG base-directory and icon-theme specs:

    $XDG_DATA_HOME/applications/io.github.regview.desktop    Exec = this regview, %u for regview:// links
    $XDG_DATA_HOME/icons/hicolor/<n>x<n>/apps/regview.png    16…512 px
    $XDG_DATA_HOME/icons/hicolor/scalable/apps/regview.svg
    $XDG_DATA_HOME/metainfo/io.github.regview.metainfo.xml

($XDG_DATA_HOME defaults to ~/.local/share), then asks the desktop to notice: `update-desktop-database`,
`xdg-mime default io.github.regview.desktop x-scheme-handler/regview` and `gtk-update-icon-cache`, each only
when installed. A missing or failing helper is reported as a note, not an error: the files alone
are enough for most desktops after the next login.

No Qt here: the command must work on a machine without a display.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DESKTOP_ID = "io.github.regview.desktop"  # reverse-DNS, = the AppStream id and Wayland app_id
URL_SCHEME_MIME = "x-scheme-handler/regview"
METAINFO = "io.github.regview.metainfo.xml"
ICON_NAME = "regview"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
HELPER_TIMEOUT_S = 20.0

#: runs a helper program; returns (exit code, combined output). Replaceable in tests.
Runner = Callable[[Sequence[str]], tuple[int, str]]


class DesktopEntryError(Exception):
    """The entry could not be written (e.g. the data directory is not writable)."""


@dataclass(frozen=True, slots=True)
class InstallResult:
    desktop_file: Path
    written: list[Path] = field(default_factory=list)
    helpers_run: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME", "")
    # The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    if env and Path(env).is_absolute():
        return Path(env)
    return Path.home() / ".local" / "share"


def current_command() -> list[str]:
    """The command line that starts this regview: the bundle, the `regview` script, or python -m."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    # Symbolic links are kept, not resolved: ~/.local/bin/regview (pipx, install.sh) outlives
    # the virtual environment it points into.
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("regview", "regview-gui") and argv0.is_file():
        return [str(argv0.absolute())]
    found = shutil.which("regview")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).resolve()), "-m", "regview"]


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for a desktop entry's Exec key (Desktop Entry Spec, "The Exec key")."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if arg and not (set(arg) & reserved) and "%" not in arg:
        return arg
    # Inside quotes ", `, $ and a backslash take a backslash; the string-value unescaping runs first, so
    # a literal backslash needs four.
    escaped = "".join("\\\\\\\\" if c == "\\" else "\\" + c if c in '"`$' else c for c in arg)
    return '"' + escaped.replace("%", "%%") + '"'


def render_desktop_entry(command: Sequence[str]) -> str:
    """The shipped regview.desktop with its Exec line pointing at `command` (plus %u)."""
    template = resources.files("regview.resources").joinpath("regview.desktop").read_text("utf-8")
    exec_line = "Exec=" + " ".join(quote_exec_arg(a) for a in command) + " %u"
    lines = [exec_line if line.startswith("Exec=") else line for line in template.splitlines()]
    if exec_line not in lines:
        raise DesktopEntryError("the shipped regview.desktop has no Exec line; reinstall regview")
    return "\n".join(lines) + "\n"


def _run(argv: Sequence[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=HELPER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return done.returncode, (done.stdout + done.stderr).strip()


def _write(path: Path, data: bytes, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    written.append(path)


def _icon_files() -> list[tuple[str, bytes]]:
    """(hicolor sub-directory, data) for every shipped icon size and the scalable master."""
    icons = resources.files("regview.resources").joinpath("icons")
    out = [(f"{n}x{n}", icons.joinpath(f"regview-{n}.png").read_bytes()) for n in ICON_SIZES]
    out.append(("scalable", icons.joinpath("regview.svg").read_bytes()))
    return out


def _helpers(base: Path) -> list[list[str]]:
    return [
        ["update-desktop-database", str(base / "applications")],
        ["xdg-mime", "default", DESKTOP_ID, URL_SCHEME_MIME],
        ["gtk-update-icon-cache", "--force", "--ignore-theme-index", str(base / "icons/hicolor")],
    ]


def install_desktop_entry(
    command: Sequence[str] | None = None,
    base: Path | None = None,
    run: Runner | None = _run,
) -> InstallResult:
    """Install the desktop entry, icons and metainfo for the current user.

    `command` defaults to `current_command()`, `base` to `data_home()`; `run=None` skips the
    helper programs (tests, or packaging into a staging directory).
    """
    base = base or data_home()
    desktop_file = base / "applications" / DESKTOP_ID
    result = InstallResult(desktop_file=desktop_file)
    try:
        text = render_desktop_entry(command or current_command())
        _write(desktop_file, text.encode("utf-8"), result.written)
        for sub, data in _icon_files():
            suffix = ".svg" if sub == "scalable" else ".png"
            target = base / "icons" / "hicolor" / sub / "apps" / f"{ICON_NAME}{suffix}"
            _write(target, data, result.written)
        metainfo = resources.files("regview.resources").joinpath(METAINFO).read_bytes()
        _write(base / "metainfo" / METAINFO, metainfo, result.written)
    except OSError as exc:
        raise DesktopEntryError(
            f"could not write the desktop entry under {base}: {exc.strerror or exc}; "
            "check that the folder is writable, or set XDG_DATA_HOME to one that is"
        ) from exc
    if run is not None:
        _run_helpers(base, run, result)
    return result


def _run_helpers(base: Path, run: Runner, result: InstallResult) -> None:
    for argv in _helpers(base):
        if shutil.which(argv[0]) is None:
            result.notes.append(f"{argv[0]} is not installed; skipped")
            continue
        code, output = run(argv)
        result.helpers_run.append(" ".join(argv))
        if code != 0:
            result.notes.append(f"{argv[0]} failed (exit {code}): {output[:300]}")


def remove_desktop_entry(base: Path | None = None, run: Runner | None = _run) -> list[Path]:
    """Delete what install_desktop_entry wrote; returns the files removed."""
    base = base or data_home()
    candidates = [base / "applications" / DESKTOP_ID, base / "metainfo" / METAINFO]
    for n in ICON_SIZES:
        candidates.append(base / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{ICON_NAME}.png")
    candidates.append(base / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg")
    removed = []
    for path in candidates:
        if path.is_file():
            path.unlink()
            removed.append(path)
    if run is not None:
        for argv in _helpers(base):
            if argv[0] != "xdg-mime" and shutil.which(argv[0]):
                run(argv)
    return removed
