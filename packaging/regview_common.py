"""What the three PyInstaller specs share: the staged sources and which modules, data and Qt
parts go into a bundle. Each spec puts its own folder (SPECPATH) on sys.path and imports this.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def stage_sources(build_dir: Path) -> Path:
    """A copy of the package as a wheel would lay it out: regview/ with resources/ inside it.

    The repository keeps resources/ at the top and maps it to regview.resources in pyproject; an
    editable install does that with an import hook PyInstaller cannot follow. Building from this
    copy makes the bundle independent of how (or whether) regview is installed in the venv.
    """
    src = build_dir / "src"
    shutil.rmtree(src, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "regview", src / "regview", ignore=ignore)
    # resources/screenshots/ illustrates the README; nothing reads it at run time
    docs_only = shutil.ignore_patterns("__pycache__", "*.pyc", "screenshots")
    shutil.copytree(ROOT / "resources", src / "regview" / "resources", ignore=docs_only)
    return src


# Qt modules regview never imports. The PySide6 hooks follow imports, so most are left out anyway;
# excluding them also keeps a stray import (from a plugin or a third-party hook) from dragging in
# hundreds of megabytes (WebEngine alone is ~200 MB).
QT_EXCLUDES = [
    f"PySide6.{m}"
    for m in [
        "Qt3DAnimation",
        "Qt3DCore",
        "Qt3DExtras",
        "Qt3DInput",
        "Qt3DLogic",
        "Qt3DRender",
        "QtBluetooth",
        "QtCharts",
        "QtConcurrent",
        "QtDataVisualization",
        "QtDesigner",
        "QtGraphs",
        "QtHelp",
        "QtHttpServer",
        "QtLabsStyleKit",
        "QtLocation",
        "QtMultimedia",
        "QtMultimediaWidgets",
        "QtNfc",
        "QtOpenGL",
        "QtOpenGLWidgets",
        "QtPdf",
        "QtPdfWidgets",
        "QtPositioning",
        "QtPrintSupport",
        "QtQml",
        "QtQmlFeatures",
        "QtQuick",
        "QtQuick3D",
        "QtQuickControls2",
        "QtQuickTest",
        "QtQuickWidgets",
        "QtRemoteObjects",
        "QtScxml",
        "QtSensors",
        "QtSerialBus",
        "QtSerialPort",
        "QtSpatialAudio",
        "QtSql",
        "QtStateMachine",
        "QtTest",
        "QtTextToSpeech",
        "QtUiTools",
        "QtWebChannel",
        "QtWebEngineCore",
        "QtWebEngineQuick",
        "QtWebEngineWidgets",
        "QtWebSockets",
        "QtWebView",
        "QtXml",
    ]
]
# Never needed at run time: development tools that may sit in the build venv, httpx's own command
# line (it drags in pygments and rich, ~350 modules) and QtNetwork (regview talks HTTP via httpx).
OTHER_EXCLUDES = [
    "PySide6.QtNetwork",
    "httpx._main",
    "pygments",
    "rich",
    "tkinter",
    "_tkinter",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "mypy",
    "ruff",
    "IPython",
    "PyInstaller",
    "setuptools",
    "pip",
]
EXCLUDES = QT_EXCLUDES + OTHER_EXCLUDES

# Shared libraries and plugins of the Qt modules above, and of features regview has no use for.
# Matched against the destination path with a leading "lib" taken off the file name, so one
# pattern covers libQt6Quick.so.6 (Linux) and Qt6Quick.dll (Windows).
_DROP_PARTS = (
    "Qt6Quick",
    "Qt6Qml",
    "Qt6Pdf",
    "Qt6Designer",
    "Qt6Help",
    "Qt6Sql",
    "Qt6Test",
    "Qt6WebEngine",
    "Qt6Multimedia",
    "Qt6VirtualKeyboard",
    "Qt63D",
    "Qt6Charts",
    "Qt6OpenGLWidgets",
    "Qt6ShaderTools",
    "Qt6LabsStyleKit",
    "/qml/",
    "/plugins/qmltooling/",
    "/plugins/sqldrivers/",
    "/plugins/designer/",
    "/plugins/multimedia/",
    "/plugins/sceneparsers/",
    "/plugins/renderers/",
    "/plugins/virtualkeyboard/",
    "/plugins/platforminputcontexts/qtvirtualkeyboard",
    "/plugins/imageformats/qpdf",
    "/plugins/imageformats/qtiff",
    "/plugins/imageformats/qwebp",
    "/plugins/imageformats/qtga",
    "/plugins/imageformats/qwbmp",
    "/plugins/platforms/qvnc",
    "/plugins/platforms/qlinuxfb",
    "/plugins/platforms/qeglfs",
    "/plugins/platforms/qvkkhrdisplay",
    "/plugins/platforms/qminimalegl",
    "/plugins/egldeviceintegrations/",
    # the GTK3 theme plugin alone drags in GTK, GDK, ATK, cairo and pango (~25 MB); Qt's Fusion
    # style and the xdg-desktop-portal theme plugin cover regview's needs
    "/plugins/platformthemes/qgtk3",
    # touch, tablet and evdev input for kiosks; the desktop platforms handle input themselves
    "/plugins/generic/",
    # Wayland: keep xdg-shell (every desktop compositor) and the EGL/SHM client buffers
    "/plugins/wayland-shell-integration/fullscreen-shell",
    "/plugins/wayland-shell-integration/ivi-shell",
    "/plugins/wayland-shell-integration/wl-shell",
    "/plugins/wayland-shell-integration/qt-shell",
    "/plugins/wayland-graphics-integration-client/dmabuf-server",
    "/plugins/wayland-graphics-integration-client/drm-egl-server",
    "/plugins/wayland-graphics-integration-client/shm-emulation-server",
    "/plugins/wayland-graphics-integration-client/vulkan-server",
)
# Qt's own translations (5.7 MB): regview's UI is English and installs no QTranslator, so none are
# kept. Put "qtbase_" here when it does.
_KEEP_TRANSLATION_PREFIXES: tuple[str, ...] = ()


def keep(dest: str) -> bool:
    """Whether a (destination-path) entry of Analysis.binaries/datas belongs in the bundle."""
    folder, _, name = ("/" + dest.replace("\\", "/")).rpartition("/")
    path = f"{folder}/{name.removeprefix('lib')}"
    if any(part in path for part in _DROP_PARTS):
        return False
    if "/PySide6/translations/" in path or "/PySide6/Qt/translations/" in path:
        return bool(_KEEP_TRANSLATION_PREFIXES) and name.startswith(_KEEP_TRANSLATION_PREFIXES)
    return True


def analysis_options(src: Path) -> dict[str, Any]:
    """Analysis() keyword arguments every platform shares (src: from stage_sources)."""
    from PyInstaller.utils.hooks import collect_data_files, collect_submodules

    return {
        "pathex": [str(src)],
        # the icons, desktop entry and metainfo, read at run time with importlib.resources
        "datas": collect_data_files("regview.resources", include_py_files=True),
        # regview.cli discovers its cmd_* modules with pkgutil, which PyInstaller cannot follow
        "hiddenimports": collect_submodules("regview"),
        "excludes": EXCLUDES,
        "noarchive": False,
        "optimize": 0,
    }


def _is_library(dest: str) -> bool:
    name = dest.replace("\\", "/").rsplit("/", 1)[-1]
    return (
        name.startswith("lib")
        and ".so" in name
        and "/plugins/" not in "/" + dest
        and not name.startswith("libpython")
    )


def prune_binaries(binaries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Drop what `keep` rejects, and the shared libraries only those dropped files needed.

    A library stays when a kept extension module or plugin links to it (`ldd` is transitive), or
    when nothing dropped linked to it (libraries PyInstaller found by other means stay as found).
    Linux only: it asks PyInstaller's ldd-based dependency reader.
    """
    from PyInstaller.depend.bindepend import get_imports

    def needs(entries: list[tuple[str, str, str]]) -> set[str]:
        names: set[str] = set()
        for _dest, src, typecode in entries:
            if typecode in ("BINARY", "EXTENSION") and src:
                names.update(Path(name).name for name, _path in get_imports(src))
        return names

    kept = [e for e in binaries if keep(e[0])]
    dropped = [e for e in binaries if not keep(e[0])]
    roots = [e for e in kept if not _is_library(e[0])]
    orphans = needs(dropped) - needs(roots) - {Path(e[0]).name for e in roots}
    return [e for e in kept if Path(e[0]).name not in orphans]
