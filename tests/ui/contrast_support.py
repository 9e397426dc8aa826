"""WCAG 2 contrast, computed in the tests from colours and from painted pixels.

    contrast(a, b) -> float          ratio of two colours ('#rrggbb' or QColor), 1 .. 21
    background(image) -> str         the commonest pixel colour of an image
    ink_contrast(image) -> float     the contrast of the image's most contrasting pixel on its
                                     background: for a widget that draws one colour of text,
                                     the contrast its text is read at

Text must read at >= 4.5:1 (WCAG 1.4.3, AA); a border or mark that carries meaning at >= 3:1
(1.4.11).
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtGui import QColor, QImage

TEXT = 4.5
NON_TEXT = 3.0


def luminance(colour: str | QColor) -> float:
    """WCAG 2 relative luminance."""
    c = QColor(colour)
    channels = (c.redF(), c.greenF(), c.blueF())
    r, g, b = (x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str | QColor, b: str | QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def pixels(image: QImage) -> Counter[str]:
    return Counter(
        image.pixelColor(x, y).name() for y in range(image.height()) for x in range(image.width())
    )


def background(image: QImage) -> str:
    return pixels(image).most_common(1)[0][0]


def ink_contrast(image: QImage) -> float:
    seen = pixels(image)
    ground = seen.most_common(1)[0][0]
    return max(contrast(colour, ground) for colour in seen)
