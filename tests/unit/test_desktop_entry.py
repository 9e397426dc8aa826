"""regview.desktop_entry and `regview install-desktop-entry`: what lands under XDG_DATA_HOME."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest

from regview import desktop_entry
from regview.cli.main import run as cli_run
from regview.desktop_entry import (
    ICON_SIZES,
    DesktopEntryError,
    install_desktop_entry,
    quote_exec_arg,
    remove_desktop_entry,
    render_desktop_entry,
)

ROOT = Path(__file__).resolve().parents[2]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG stream"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def parse_entry(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(text)
    return parser["Desktop Entry"]


def fake_tool(bindir: Path, name: str, exit_code: int = 0) -> Path:
    """A stand-in program that appends its arguments to <bindir>/calls.log."""
    script = bindir / name
    script.write_text(
        f'#!/bin/sh\necho "{name} $*" >> "{bindir}/calls.log"\necho "{name} said hi" >&2\nexit {exit_code}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


# --- the Exec key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("/usr/bin/regview", "/usr/bin/regview"),
        ("/home/a b/regview", '"/home/a b/regview"'),
        ("/opt/50%/regview", '"/opt/50%%/regview"'),
        ("/x/$HOME/r", '"/x/\\$HOME/r"'),
        ('/x/"q"/r', '"/x/\\"q\\"/r"'),
        ("C:\\r", '"C:\\\\\\\\r"'),
        ("", '""'),
    ],
)
def test_exec_arguments_are_quoted_as_the_desktop_entry_spec_says(arg: str, expected: str) -> None:
    assert quote_exec_arg(arg) == expected


def test_rendered_entry_runs_the_given_command_with_the_url_and_handles_regview_links() -> None:
    entry = parse_entry(render_desktop_entry(["/home/me/.local/bin/regview"]))
    assert entry["Exec"] == "/home/me/.local/bin/regview %u"
    assert entry["Type"] == "Application"
    assert entry["Icon"] == "regview"
    assert entry["Terminal"] == "false"
    assert "x-scheme-handler/regview" in entry["MimeType"].split(";")
    assert entry["MimeType"].endswith(";") and entry["Categories"].endswith(";")


def test_rendered_entry_with_an_interpreter_command_quotes_each_argument() -> None:
    text = render_desktop_entry(["/opt/my python/bin/python3", "-m", "regview"])
    assert parse_entry(text)["Exec"] == '"/opt/my python/bin/python3" -m regview %u'


def test_shipped_entry_keeps_the_plain_exec_the_issue_asks_for() -> None:
    entry = parse_entry((ROOT / "resources" / "regview.desktop").read_text("utf-8"))
    assert entry["Exec"] == "regview %u"
    assert entry["MimeType"] == "x-scheme-handler/regview;"


# --- installing -----------------------------------------------------------------------------


def test_install_writes_entry_icons_and_metainfo_under_the_data_home(tmp_path: Path) -> None:
    base = tmp_path / "share"
    result = install_desktop_entry(["/opt/regview/regview"], base=base, run=None)

    assert result.desktop_file == base / "applications" / "io.github.regview.desktop"
    assert parse_entry(result.desktop_file.read_text("utf-8"))["Exec"] == "/opt/regview/regview %u"
    for n in ICON_SIZES:
        png = base / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "regview.png"
        assert png_size(png.read_bytes()) == (n, n)
    svg = base / "icons" / "hicolor" / "scalable" / "apps" / "regview.svg"
    assert ET.fromstring(svg.read_bytes()).tag == "{http://www.w3.org/2000/svg}svg"
    metainfo = base / "metainfo" / "io.github.regview.metainfo.xml"
    assert ET.fromstring(metainfo.read_bytes()).findtext("id") == "io.github.regview"
    assert len(result.written) == 1 + len(ICON_SIZES) + 1 + 1
    assert not list(base.rglob(".*.tmp")), "temporary files left behind"
    assert result.helpers_run == []


def test_install_again_replaces_the_entry_in_place(tmp_path: Path) -> None:
    install_desktop_entry(["/old/regview"], base=tmp_path, run=None)
    result = install_desktop_entry(["/new/regview"], base=tmp_path, run=None)
    assert parse_entry(result.desktop_file.read_text("utf-8"))["Exec"] == "/new/regview %u"
    assert len(list((tmp_path / "applications").iterdir())) == 1


def test_install_runs_the_desktop_helpers_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake_tool(bindir, "update-desktop-database")
    fake_tool(bindir, "xdg-mime")
    monkeypatch.setenv("PATH", str(bindir))
    base = tmp_path / "share"

    result = install_desktop_entry(["/opt/regview/regview"], base=base)

    calls = (bindir / "calls.log").read_text().splitlines()
    assert calls == [
        f"update-desktop-database {base / 'applications'}",
        "xdg-mime default io.github.regview.desktop x-scheme-handler/regview",
    ]
    assert len(result.helpers_run) == 2
    assert result.notes == ["gtk-update-icon-cache is not installed; skipped"]


def test_a_failing_helper_is_a_note_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake_tool(bindir, "xdg-mime", exit_code=3)
    monkeypatch.setenv("PATH", str(bindir))

    result = install_desktop_entry(["/r"], base=tmp_path / "share")

    assert result.desktop_file.is_file()
    assert "xdg-mime failed (exit 3): xdg-mime said hi" in result.notes


def test_helpers_are_given_the_data_home_not_the_real_profile(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def runner(argv: Sequence[str]) -> tuple[int, str]:
        seen.append(list(argv))
        return 0, ""

    base = tmp_path / "share"
    desktop_entry._run_helpers(base, runner, desktop_entry.InstallResult(base / "x"))
    for argv in seen:
        paths = [a for a in argv if a.startswith("/")]
        assert all(p.startswith(str(base)) for p in paths), argv


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_an_unwritable_data_home_is_a_clear_error(tmp_path: Path) -> None:
    base = tmp_path / "ro"
    base.mkdir()
    base.chmod(0o500)
    try:
        with pytest.raises(DesktopEntryError, match=r"could not write the desktop entry under"):
            install_desktop_entry(["/r"], base=base, run=None)
    finally:
        base.chmod(0o700)


def test_a_data_home_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("not a folder")
    with pytest.raises(DesktopEntryError, match=r"check that the folder is writable"):
        install_desktop_entry(["/r"], base=blocker, run=None)


def test_remove_deletes_exactly_what_install_wrote(tmp_path: Path) -> None:
    result = install_desktop_entry(["/r"], base=tmp_path, run=None)
    (tmp_path / "applications" / "other.desktop").write_text("[Desktop Entry]\n")

    removed = remove_desktop_entry(base=tmp_path, run=None)

    assert sorted(removed) == sorted(result.written)
    assert not any(p.exists() for p in result.written)
    assert (tmp_path / "applications" / "other.desktop").is_file()


# --- where the data home and the command come from ----------------------------------------


def test_data_home_follows_xdg_data_home_and_ignores_a_relative_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert desktop_entry.data_home() == tmp_path
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert desktop_entry.data_home() == tmp_path / "home" / ".local" / "share"


def test_current_command_prefers_the_frozen_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tmp_path / "dist" / "regview" / "regview"
    exe.parent.mkdir(parents=True)
    exe.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert desktop_entry.current_command() == [str(exe)]


def test_current_command_uses_the_running_regview_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "venv" / "bin" / "regview"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "argv", [str(script), "install-desktop-entry"])
    assert desktop_entry.current_command() == [str(script)]


def test_current_command_keeps_a_symlinked_launcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "pipx" / "venvs" / "regview" / "bin" / "regview"
    target.parent.mkdir(parents=True)
    target.write_text("#!/bin/sh\n")
    target.chmod(0o755)
    link = tmp_path / "bin" / "regview"
    link.parent.mkdir()
    link.symlink_to(target)
    monkeypatch.setattr(sys, "argv", ["pytest"])
    monkeypatch.setenv("PATH", str(link.parent))
    assert desktop_entry.current_command() == [str(link)]


def test_current_command_falls_back_to_python_dash_m(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "pytest")])
    monkeypatch.setenv("PATH", str(tmp_path))
    assert desktop_entry.current_command() == [
        str(Path(sys.executable).resolve()),
        "-m",
        "regview",
    ]


# --- the command line -----------------------------------------------------------------------


def test_cli_installs_then_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no desktop helpers, no `regview` on PATH
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "pytest")])

    assert cli_run(["install-desktop-entry"]) == 0
    desktop_file = tmp_path / "share" / "applications" / "io.github.regview.desktop"
    exec_line = parse_entry(desktop_file.read_text("utf-8"))["Exec"]
    assert exec_line.endswith(" -m regview %u")
    out = capsys.readouterr().out
    assert str(desktop_file) in out
    assert "note: xdg-mime is not installed; skipped" in out

    assert cli_run(["install-desktop-entry", "--remove"]) == 0
    assert not desktop_file.exists()
    assert "removed 11 file(s)" in capsys.readouterr().out


def test_cli_reports_an_unwritable_data_home_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert cli_run(["install-desktop-entry"]) == 1
    assert "regview: could not write the desktop entry under" in capsys.readouterr().err


# --- the freedesktop validators, when installed (apt: desktop-file-utils, appstream) ----------


def test_installed_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    result = install_desktop_entry(["/opt/my apps/regview"], base=tmp_path, run=None)
    for path in (ROOT / "resources" / "regview.desktop", result.desktop_file):
        done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout.strip() == "", done.stdout


def test_metainfo_passes_appstreamcli_validate() -> None:
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (apt-get install appstream)")
    done = subprocess.run(
        [tool, "validate", "--no-net", str(ROOT / "resources" / "io.github.regview.metainfo.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
