"""The committed icon files and the bundle recipe's filters (packaging/regview_common.py)."""

from __future__ import annotations

import importlib.util
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG stream"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.fixture(scope="module")
def common() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "regview_common", ROOT / "packaging" / "regview_common.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("regview_common", module)
    spec.loader.exec_module(module)
    return module


# --- icon files -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_png_sizes_are_committed(size: int) -> None:
    assert png_size((ICONS / f"regview-{size}.png").read_bytes()) == (size, size)


def test_ico_holds_png_entries_16_to_256() -> None:
    data = (ICONS / "regview.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        w, h, _c, _r, planes, bpp, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        assert (planes, bpp) == (1, 32)
        n = w or 256
        assert (w, h) == (0 if n == 256 else n, 0 if n == 256 else n)
        assert png_size(data[offset : offset + length]) == (n, n)
        sizes.append(n)
    assert sorted(sizes) == [16, 24, 32, 48, 64, 128, 256]


def test_icns_holds_png_entries_up_to_1024() -> None:
    data = (ICONS / "regview.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    expected = {
        b"icp4": 16,
        b"icp5": 32,
        b"ic11": 32,
        b"icp6": 64,
        b"ic12": 64,
        b"ic07": 128,
        b"ic08": 256,
        b"ic13": 256,
        b"ic09": 512,
        b"ic14": 512,
        b"ic10": 1024,
    }
    found: dict[bytes, int] = {}
    pos = 8
    while pos < len(data):
        kind, length = data[pos : pos + 4], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        width, height = png_size(data[pos + 8 : pos + length])
        assert width == height
        found[kind] = width
        pos += length
    assert pos == len(data)
    assert found == expected


@pytest.mark.parametrize("name", ["regview.svg", "regview-small.svg"])
def test_svg_masters_are_square_svg(name: str) -> None:
    root = ET.fromstring((ICONS / name).read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _x, _y, w, h = root.attrib["viewBox"].split()
    assert w == h


def test_metainfo_names_the_desktop_entry_and_the_url_scheme() -> None:
    root = ET.fromstring((ROOT / "resources" / "io.github.regview.metainfo.xml").read_bytes())
    assert root.attrib["type"] == "desktop-application"
    assert root.findtext("id") == "io.github.regview"
    assert root.findtext("launchable") == "io.github.regview.desktop"
    assert root.findtext("provides/mediatype") == "x-scheme-handler/regview"
    assert root.findtext("metadata_license") and root.findtext("project_license")


# --- what goes into the bundle --------------------------------------------------------------


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so",
        "PySide6\\plugins\\platforms\\qwindows.dll",
        "PySide6\\plugins\\styles\\qmodernwindowsstyle.dll",
        "PySide6/Qt/plugins/platforms/libqcocoa.dylib",
        "regview/resources/icons/regview-32.png",
        "libpython3.11.so.1.0",
    ],
)
def test_what_regview_needs_is_kept(common: ModuleType, dest: str) -> None:
    assert common.keep(dest)


@pytest.mark.parametrize(
    "dest",
    [
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6Qml.so.6",
        "PySide6\\Qt6Pdf.dll",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "PySide6/Qt/plugins/imageformats/libqtiff.so",
        "PySide6\\plugins\\imageformats\\qwebp.dll",
        "PySide6/Qt/plugins/platforms/libqeglfs.so",
        "PySide6/Qt/plugins/generic/libqevdevmouseplugin.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6\\translations\\qtbase_fr.qm",
        "PySide6/Qt/qml/QtQuick/Controls/libqtquickcontrols2plugin.so",
    ],
)
def test_unused_qt_parts_are_left_out(common: ModuleType, dest: str) -> None:
    assert not common.keep(dest)


def test_excludes_cover_the_heavy_qt_modules(common: ModuleType) -> None:
    for module in ("PySide6.QtWebEngineCore", "PySide6.Qt3DCore", "PySide6.QtMultimedia"):
        assert module in common.EXCLUDES
    for module in ("PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtPdf", "PySide6.QtCharts"):
        assert module in common.EXCLUDES
    assert not any(m in common.EXCLUDES for m in ("PySide6.QtWidgets", "PySide6.QtSvg"))


def test_staged_sources_put_resources_inside_the_package(
    common: ModuleType, tmp_path: Path
) -> None:
    src = common.stage_sources(tmp_path)
    assert (src / "regview" / "__init__.py").is_file()
    assert (src / "regview" / "resources" / "__init__.py").is_file()
    assert (src / "regview" / "resources" / "regview.desktop").is_file()
    assert (src / "regview" / "resources" / "icons" / "regview-256.png").is_file()
    assert not list(src.rglob("__pycache__"))
    assert not (src / "regview" / "resources" / "screenshots").exists()


def test_the_wheel_builds_without_warnings_and_carries_the_icons(tmp_path: Path) -> None:
    """`bash packaging/install.sh` printed two screens of setuptools warnings: the icon folders
    were importable packages missing from pyproject's package list."""
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "absent from the `packages` configuration" not in out.stderr + out.stdout
    (wheel,) = tmp_path.glob("regview-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "regview/resources/icons/actions/view-refresh.svg" in names
    assert not [n for n in names if n.startswith("regview/resources/screenshots/")]
