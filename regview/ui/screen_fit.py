"""Open windows and dialogs at a size that fits the screen they open on.

    fitted(widget, width, height) -> QSize   the wanted size, or less on a smaller screen
    resize_to_fit(widget, width, height)     widget.resize(fitted(...))

The wanted sizes (1360×820 for the main window, 1120×700 for the policy editor) suit a laptop at
scale 1; on a 1280×800 screen, or a 1600×1000 one at 200 % (800×500 in Qt's logical pixels),
they would open with their title bar or buttons off the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget

#: room left for the window frame and title bar, which `resize` does not include
FRAME = QSize(16, 48)


def fitted(widget: QWidget, width: int, height: int) -> QSize:
    parent = widget.parentWidget()
    screen = (parent or widget).screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(width, height)
    room = screen.availableGeometry().size() - FRAME
    return QSize(max(1, min(width, room.width())), max(1, min(height, room.height())))


def resize_to_fit(widget: QWidget, width: int, height: int) -> None:
    widget.resize(fitted(widget, width, height))


#: the average character width (px) the fixed column widths were chosen for (9 pt DejaVu Sans)
DESIGN_CHAR_WIDTH = 6.5


def text_scale(widget: QWidget) -> float:
    """How much wider than designed text runs in `widget`'s font (never below 1): fixed
    column widths grow by it, so "8 days ago" is not "8 days …" with a 15 pt system font."""
    return max(1.0, widget.fontMetrics().averageCharWidth() / DESIGN_CHAR_WIDTH)


def scaled(widget: QWidget, width: int) -> int:
    return round(width * text_scale(widget))


def grow_to_content(widget: QWidget) -> None:
    """Widen and heighten a built dialog to what its content asks for (a long repository path
    in a large font), within the screen: the size it was opened at is only a starting point."""
    hint = widget.sizeHint()
    widget.resize(
        fitted(widget, max(widget.width(), hint.width()), max(widget.height(), hint.height()))
    )


def keep_words_whole(label: QLabel) -> None:
    """A wrapped label never narrower than its longest word (a repository path does not wrap),
    up to most of the screen, so `grow_to_content` opens the dialog wide enough for it."""
    fm = label.fontMetrics()
    longest = max(label.text().split(), key=fm.horizontalAdvance, default="")
    limit = fitted(label, 100_000, 1).width() * 9 // 10
    label.setMinimumWidth(min(fm.horizontalAdvance(longest) + 2 * label.margin() + 4, limit))
