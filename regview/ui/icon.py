"""The application icon, for the window and the taskbar: `app_icon()`."""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

from regview.log import get_logger

log = get_logger("ui.icon")

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: The desktop entry's id without ".desktop". Give it to QGuiApplication.setDesktopFileName so
#: Wayland compositors and taskbars match windows to the entry and its icon.
DESKTOP_FILE_NAME = "io.github.regview"


@cache
def app_icon() -> QIcon:
    """regview's icon with every shipped PNG size, so no size is scaled from another.

    Needs a QGuiApplication. The PNGs are read as bytes rather than paths, which works the same
    from a source tree, a wheel or a PyInstaller bundle. Missing files (a broken install) give a
    null icon and a logged error rather than a crash: the window still opens.
    """
    icon = QIcon()
    try:
        icons = resources.files("regview.resources").joinpath("icons")
        for size in ICON_SIZES:
            pixmap = QPixmap()
            if pixmap.loadFromData(icons.joinpath(f"regview-{size}.png").read_bytes(), "PNG"):
                icon.addPixmap(pixmap)
    except (OSError, ModuleNotFoundError) as exc:
        log.error("regview's icon files could not be read (%s); reinstall regview", exc)
    return icon
