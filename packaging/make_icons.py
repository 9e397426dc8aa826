"""Render regview's icon sizes from the SVG masters in resources/icons/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

Writes regview-<size>.png for 16…512 px (16 px from the pixel-fitted regview-small.svg, the rest
from regview.svg), regview.ico (Windows: PNG entries 16…256) and regview.icns (macOS: PNG entries
16…1024). The outputs are committed, so a build needs neither this script nor an SVG renderer;
run it again after editing an SVG. ICO and ICNS are written with the standard library: both are
small containers of PNG streams.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (Apple's IconFamily.h; @2x types share sizes).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"icp6", 64),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),
    (b"ic09", 512),
    (b"ic14", 512),
    (b"ic10", 1024),
)
SMALL_MAX = 16  # sizes up to this use regview-small.svg


def render(size: int) -> bytes:
    master = ICONS / ("regview-small.svg" if size <= SMALL_MAX else "regview.svg")
    renderer = QSvgRenderer(str(master))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {master}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + one ICONDIRENTRY per size + the PNG streams (Windows Vista and later)."""
    sizes = [s for s in ICO_SIZES if s in pngs]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the one-byte width/height fields
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    pngs = {size: render(size) for size in {*PNG_SIZES, *ICO_SIZES, *(s for _, s in ICNS_TYPES)}}
    for size in PNG_SIZES:
        (ICONS / f"regview-{size}.png").write_bytes(pngs[size])
    (ICONS / "regview.ico").write_bytes(ico(pngs))
    (ICONS / "regview.icns").write_bytes(icns(pngs))
    del app
    print(f"wrote {len(PNG_SIZES)} PNGs, regview.ico and regview.icns to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
