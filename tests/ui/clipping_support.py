"""Find text a widget tree shows cut off: labels, buttons and check boxes smaller than the text
they carry, word-wrapped labels shorter than their wrapped text or narrower than their longest
word, windows squeezed below their minimum, table rows lower than a line of text, tab bars
with tabs out of sight (behind scroll arrows), placeholders wider or taller than their box, and
tree cells cut short with no tooltip carrying the whole text.

    clipped_text(root) -> list[str]   one line per problem, naming the widget and its text

Layouts never squeeze a widget below its minimum size hint on their own; text is cut when a
fixed or maximum size is set by hand, when a wrapped label's height-for-width is not honoured
(a label in a card, in a horizontal row), or when the window itself is too small.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QCheckBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTabBar,
    QTableView,
    QTreeWidget,
    QWidget,
)

#: a pixel of rounding either way is not a cut
SLACK = 1


def clipped_text(root: QWidget) -> list[str]:
    found: list[str] = []
    if root.isWindow():
        need = root.minimumSizeHint()
        if root.width() + SLACK < need.width() or root.height() + SLACK < need.height():
            found.append(
                f"{_name(root)} is {root.width()}x{root.height()}, its content needs "
                f"{need.width()}x{need.height()}"
            )
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root) or _scrolled(widget, root):
            continue
        if isinstance(widget, QLabel):
            problem = _label(widget)
        elif isinstance(widget, QPushButton | QCheckBox | QRadioButton):
            problem = _button(widget)
        elif isinstance(widget, QTableView):
            problem = _rows(widget)
        elif isinstance(widget, QTabBar):
            problem = _tabs(widget)
        elif isinstance(widget, QLineEdit | QPlainTextEdit):
            problem = _placeholder(widget)
        elif isinstance(widget, QTreeWidget):
            problem = _cells(widget)
        else:
            problem = ""
        if not problem and isinstance(widget, QLabel | QAbstractButton) and widget.text():
            problem = _outside(widget, root)
        if problem:
            found.append(f"{_name(widget)}: {problem}")
    return found


def _outside(widget: QWidget, root: QWidget) -> str:
    """Cut off by an ancestor's edge: a page whose content is taller than the room the window
    gives it shows its end nowhere (there is no scroll bar to reach it)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) or isinstance(
            parent.parentWidget(), QAbstractScrollArea
        ):
            return ""  # a scroll area's viewport: scrolled into view on demand
        box = QRect(widget.mapTo(parent, QPoint(0, 0)), widget.size())
        if not parent.rect().contains(box):
            text = widget.text()[:40]  # type: ignore[attr-defined]
            return (
                f"{text!r} reaches {box.bottom()},{box.right()} in {type(parent).__name__}, "
                f"which is {parent.width()}x{parent.height()}"
            )
        if parent is root:
            break
        parent = parent.parentWidget()
    return ""


def _label(label: QLabel) -> str:
    text = _plain(label.text(), label.textFormat())
    if not text.strip():
        return ""
    if label.property("elides"):  # draws its own elided text, full text in the tooltip
        return ""
    box = label.contentsRect()
    margin = label.margin() * 2 + label.indent() if label.indent() > 0 else label.margin() * 2
    if not label.wordWrap():
        need = label.minimumSizeHint()
        if label.width() + SLACK < need.width() or label.height() + SLACK < need.height():
            return (
                f"{text[:60]!r} is {label.width()}x{label.height()}, its text needs "
                f"{need.width()}x{need.height()}"
            )
        return ""
    longest = max(text.split(), key=label.fontMetrics().horizontalAdvance, default="")
    wide = label.fontMetrics().horizontalAdvance(longest)
    if wide > box.width() - margin + SLACK:
        return f"the word {longest[:40]!r} needs {wide}px, the label is {box.width()}px wide"
    tall = label.heightForWidth(label.width())
    if tall > label.height() + SLACK:
        return (
            f"{text[:60]!r} wrapped needs {tall}px of height at {label.width()}px, "
            f"it has {label.height()}px"
        )
    return ""


def _button(button: QAbstractButton) -> str:
    text = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    if not text.strip():
        return ""
    need = button.minimumSizeHint()
    if isinstance(button, QPushButton):
        need = button.sizeHint()  # a push button's text is laid out against its size hint
        # Fusion's hint includes a minimum width; only the text and its margins count here
        fm = button.fontMetrics()
        icon = button.iconSize().width() + 4 if not button.icon().isNull() else 0
        wanted = fm.horizontalAdvance(text) + icon + 12
        if button.width() + SLACK < wanted or button.height() + SLACK < fm.height() + 4:
            return f"{text!r} is {button.width()}x{button.height()}, its text needs {wanted}px"
        return ""
    if button.width() + SLACK < need.width() or button.height() + SLACK < need.height():
        return (
            f"{text!r} is {button.width()}x{button.height()}, it needs "
            f"{need.width()}x{need.height()}"
        )
    return ""


def _rows(view: QTableView) -> str:
    line = view.fontMetrics().height()
    model = view.model()
    if model is None or model.rowCount() == 0:
        return ""
    shown = [r for r in range(min(model.rowCount(), 50)) if not view.isRowHidden(r)]
    if not shown:
        return ""
    lowest = min(view.rowHeight(r) for r in shown)
    if lowest < line:
        return f"rows are {lowest}px high, a line of text is {line}px"
    return ""


def _tabs(bar: QTabBar) -> str:
    """A tab out of the bar's sight (scrolled away behind the arrows, or cut at its edge)."""
    hidden = [
        bar.tabText(i).replace("&", "")
        for i in range(bar.count())
        if bar.isTabVisible(i) and not bar.rect().contains(bar.tabRect(i))
    ]
    return f"tabs {hidden} do not fit the {bar.width()}px bar" if hidden else ""


def _placeholder(edit: QLineEdit | QPlainTextEdit) -> str:
    text = edit.placeholderText()
    if not text or (edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()):
        return ""
    fm = edit.fontMetrics()
    if isinstance(edit, QLineEdit):
        room = edit.width() - 12  # the frame and text margins
        if edit.isClearButtonEnabled():
            room -= 4  # the clear button shows only over typed text
        wide = fm.horizontalAdvance(text)
        if wide > room + SLACK:
            return f"placeholder {text[:40]!r} needs {wide}px, the box has {room}px"
        return ""
    viewport = edit.viewport()
    margin = int(edit.document().documentMargin()) * 2
    wrapped = fm.boundingRect(
        QRect(0, 0, viewport.width() - margin, 10_000), Qt.TextFlag.TextWordWrap, text
    )
    if wrapped.height() > viewport.height() - margin + SLACK:
        return (
            f"placeholder {text[:40]!r} needs {wrapped.height()}px of height, "
            f"the box has {viewport.height() - margin}px"
        )
    return ""


def _cells(tree: QTreeWidget) -> str:
    """A cell whose text is elided and whose tooltip does not carry it whole."""
    header = tree.header()
    for row in range(min(tree.topLevelItemCount(), 50)):
        item = tree.topLevelItem(row)
        if item is None:
            continue
        for column in range(tree.columnCount()):
            text = item.text(column)
            if not text or header.isSectionHidden(column):
                continue
            if item.isFirstColumnSpanned():
                if column:
                    break
                room = tree.viewport().width()
            else:
                room = header.sectionSize(column)
            room -= 2 * tree.style().pixelMetric(tree.style().PixelMetric.PM_FocusFrameHMargin) + 6
            if column == 0:
                room -= tree.indentation() if tree.rootIsDecorated() else 0
            wide = tree.fontMetrics().horizontalAdvance(text)
            if wide > room + SLACK and text not in item.toolTip(column):
                return f"{text[:40]!r} is cut to {room}px (needs {wide}px) with no tooltip"
    return ""


def _scrolled(widget: QWidget, root: QWidget) -> bool:
    """Inside a scroll area's viewport (or an item view): cut off there means scroll to it."""
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, QAbstractItemView):
            return True
        if isinstance(parent, QAbstractScrollArea) and not isinstance(parent, QAbstractItemView):
            return False  # the scroll area's content is laid out whole; check it
        parent = parent.parentWidget()
    return False


def _plain(text: str, label_format: Qt.TextFormat = Qt.TextFormat.AutoText) -> str:
    if label_format == Qt.TextFormat.RichText or (
        label_format == Qt.TextFormat.AutoText and re.search(r"<[a-zA-Z/!]", text)
    ):
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return re.sub(r"\s+", " ", text)


def _name(widget: QWidget) -> str:
    chain = []
    parent = widget.parentWidget()
    while parent is not None and len(chain) < 3:
        chain.append(type(parent).__name__)
        parent = parent.parentWidget()
    name = f"{type(widget).__name__}"
    if widget.objectName():
        name += f" {widget.objectName()!r}"
    return f"{name} in {' < '.join(chain)}" if chain else name
