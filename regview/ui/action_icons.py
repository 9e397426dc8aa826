"""Icons for actions: the desktop theme's (`QIcon.fromTheme`), else regview's own line icons.

    action_icon(name) -> QIcon     `name` is a freedesktop icon name ("view-refresh"); the bundled
                                   fallback is resources/icons/actions/<name>.svg
    BUNDLED                        the names a fallback exists for

The fallbacks are drawn in `currentColor` and tinted with the palette's text colour each time
they are painted, so they follow light, dark and a theme switch while the app runs (a PyInstaller
bundle and Windows/macOS have no icon theme: there these are the icons).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from regview.log import get_logger

log = get_logger("ui.icons")


@cache
def _svg(name: str) -> bytes:
    try:
        icons = resources.files("regview.resources").joinpath("icons", "actions")
        return icons.joinpath(f"{name}.svg").read_bytes()
    except (OSError, ModuleNotFoundError) as exc:
        log.error("icon %s could not be read (%s); reinstall regview", name, exc)
        return b""


@cache
def bundled_names() -> frozenset[str]:
    try:
        folder = resources.files("regview.resources").joinpath("icons", "actions")
        return frozenset(
            p.name.removesuffix(".svg") for p in folder.iterdir() if p.name.endswith(".svg")
        )
    except (OSError, ModuleNotFoundError):
        return frozenset()


class TintedSvgEngine(QIconEngine):
    """Paints an SVG whose `currentColor` is the palette's text colour at paint time."""

    def __init__(self, svg: bytes) -> None:
        super().__init__()
        self._svg = svg
        self._cache: dict[tuple[int, int, str], QPixmap] = {}

    def _colour(self, mode: QIcon.Mode) -> str:
        palette = QGuiApplication.palette()
        group = (
            QPalette.ColorGroup.Disabled
            if mode == QIcon.Mode.Disabled
            else QPalette.ColorGroup.Normal
        )
        role = (
            QPalette.ColorRole.HighlightedText
            if mode == QIcon.Mode.Selected
            else QPalette.ColorRole.WindowText
        )
        return palette.color(group, role).name()

    def _render(self, width: int, height: int, mode: QIcon.Mode) -> QPixmap:
        colour = self._colour(mode)
        key = (width, height, colour)
        pixmap = self._cache.get(key)
        if pixmap is None:
            pixmap = QPixmap(max(width, 1), max(height, 1))
            pixmap.fill(Qt.GlobalColor.transparent)
            renderer = QSvgRenderer(QByteArray(self._svg.replace(b"currentColor", colour.encode())))
            painter = QPainter(pixmap)
            renderer.render(painter)
            painter.end()
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = pixmap
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self._render(size.width(), size.height(), mode)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        # drawn at device pixels: sharp at scale 1.5 and 2, not an upscaled 16 px image
        pixmap = QPixmap(
            self._render(round(size.width() * scale), round(size.height() * scale), mode)
        )
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        scale = painter.device().devicePixelRatioF() if painter.device() else 1.0
        painter.drawPixmap(rect, self.scaledPixmap(rect.size(), mode, state, scale))

    def clone(self) -> QIconEngine:
        return TintedSvgEngine(self._svg)

    def key(self) -> str:
        return "regview-tinted-svg"

    def isNull(self) -> bool:
        return not self._svg


def bundled_icon(name: str) -> QIcon:
    """regview's own icon `name`, tinted for the current palette (null when there is none)."""
    svg = _svg(name) if name in bundled_names() else b""
    return QIcon(TintedSvgEngine(svg)) if svg else QIcon()


def action_icon(name: str) -> QIcon:
    """The theme's icon `name` where the desktop has an icon theme, else regview's own."""
    return QIcon.fromTheme(name, bundled_icon(name))
