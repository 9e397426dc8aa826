"""Walk a widget tree for interactive controls a screen reader cannot name."""

from __future__ import annotations

from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QAbstractSlider,
    QTextEdit,
    QPlainTextEdit,
    QTabBar,
)
#: parts of a composite control that are named through the control itself
COMPOSITE = (QAbstractSpinBox, QComboBox, QLineEdit, QTabBar, QScrollBar, QHeaderView)


def accessible_name(widget: QWidget) -> str:
    """The name assistive technology reads: the accessible name, the label buddy's text, a
    button's text, as Qt's accessibility bridge gives it."""
    iface = QAccessible.queryAccessibleInterface(widget)
    name = iface.text(QAccessible.Text.Name) if iface is not None else ""
    return (name or widget.accessibleName()).strip()


def unnamed_controls(root: QWidget) -> list[str]:
    """'Class objectName (parent chain)' of each interactive control without a name."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, INTERACTIVE) or isinstance(widget, QScrollBar | QHeaderView):
            continue
        if widget.objectName().startswith("qt_"):
            continue
        if _inside_composite(widget, root) or _hidden_for_now(widget, root):
            continue
        if not accessible_name(widget):
            found.append(_describe(widget))
    return found


def _inside_composite(widget: QWidget, root: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not root.parentWidget():
        if isinstance(parent, COMPOSITE):
            return True
        parent = parent.parentWidget()
    return False


def _hidden_for_now(widget: QWidget, root: QWidget) -> bool:
    """Hidden by itself or an ancestor that is not a page of a stack or tab widget (those are
    shown by switching pages, so their controls count): e.g. an empty banner's button."""
    current: QWidget | None = widget
    while current is not None and current is not root:
        parent = current.parentWidget()
        if current.isHidden() and not (parent is not None and _is_stack(parent)):
            return True
        current = parent
    return False


def _is_stack(widget: QWidget) -> bool:
    from PySide6.QtWidgets import QStackedWidget

    return isinstance(widget, QStackedWidget)


def _describe(widget: QWidget) -> str:
    chain = []
    parent = widget.parentWidget()
    while parent is not None and len(chain) < 4:
        chain.append(type(parent).__name__)
        parent = parent.parentWidget()
    tip = widget.toolTip()[:40]
    return f"{type(widget).__name__} {widget.objectName()!r} tip={tip!r} in {' < '.join(chain)}"


def unexposed_headers(root: QWidget) -> list[str]:
    """Tables and trees whose column headers a screen reader cannot read: each shown column
    must be an accessible child with the ColumnHeader role named as the model names it."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTableView, QTreeView

    found = []
    for view in [root, *root.findChildren(QWidget)]:
        if not isinstance(view, QTableView | QTreeView) or not view.isVisibleTo(root):
            continue
        model = view.model()
        header = view.horizontalHeader() if isinstance(view, QTableView) else view.header()
        if model is None or header.isHidden():
            continue
        iface = QAccessible.queryAccessibleInterface(view)
        exposed = set()
        for i in range(iface.childCount() if iface is not None else 0):
            child = iface.child(i)
            if child is not None and child.role() == QAccessible.Role.ColumnHeader:
                exposed.add(child.text(QAccessible.Text.Name))
        for col in range(model.columnCount()):
            if header.isSectionHidden(col):
                continue
            name = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
            if not name or name not in exposed:
                found.append(f"{_describe(view)}: column {col} ({name!r}) is not exposed")
    return found
