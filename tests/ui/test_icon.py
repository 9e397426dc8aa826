"""regview.ui.icon.app_icon: every shipped size, sharp (not scaled from another size)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QSize

from regview.ui.icon import ICON_SIZES, app_icon

pytestmark = pytest.mark.ui


def test_app_icon_offers_every_shipped_size(qapp: Any) -> None:
    icon = app_icon()
    assert not icon.isNull()
    assert sorted(s.width() for s in icon.availableSizes()) == sorted(ICON_SIZES)
    assert all(s.width() == s.height() for s in icon.availableSizes())


@pytest.mark.parametrize("size", [16, 32, 256])
def test_each_size_is_a_real_drawing_not_a_blank(qapp: Any, size: int) -> None:
    image = app_icon().pixmap(QSize(size, size)).toImage()
    assert (image.width(), image.height()) == (size, size)
    centre = image.pixelColor(size // 2, size // 2)
    corner = image.pixelColor(0, 0)
    assert centre.alpha() == 255, "the tile is opaque in the middle"
    assert corner.alpha() < 128, "the rounded tile leaves the corner transparent"
    colours = {image.pixel(x, y) for x in range(0, size, max(1, size // 16)) for y in range(size)}
    assert len(colours) > 8
