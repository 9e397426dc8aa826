"""`--screenshot FILE`: wait until the window shows real content, save it as PNG, and quit.

await capture(window, path, timeout=60.0) -> None
    waits for the first repository's tags (or the overview) and the current tag's details,
    lets the window paint, then grabs it; raises TimeoutError with what was missing
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from regview.log import get_logger

log = get_logger("ui.screenshot")


async def wait_for(predicate: Callable[[], bool], limit: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {limit:.0f} s")
        await asyncio.sleep(0.05)


async def settle(widget: QWidget, seconds: float = 0.3) -> None:
    """Let pending layouts and paints run (offscreen platforms paint lazily)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        QApplication.processEvents()
        await asyncio.sleep(0.02)
    widget.repaint()


def save(widget: QWidget, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    pixmap = widget.grab()
    if not pixmap.save(str(target), "PNG"):
        raise OSError(f"could not write the screenshot to {target}")
    log.info("screenshot saved to %s (%dx%d)", target, pixmap.width(), pixmap.height())
    return target
