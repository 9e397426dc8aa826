"""Light and dark palettes that follow the system (Qt's color scheme), Fusion style.

apply_theme(app, scheme=None)   "light", "dark" or None (follow the system; REGVIEW_THEME
                                overrides, which screenshots use); re-applied when the
                                system switches, unless a scheme was chosen (View › Theme)
RegviewStyle                    Fusion with a visible keyboard focus on tables, trees and
                                lists (an outline in the highlight colour), the sort arrow
                                the Windows/macOS way: ▲ ascending (A → Z, oldest first),
                                ▼ descending (newest first), and a progress bar whose count
                                reads on the fill and on the groove
is_dark(palette) -> bool
accent(palette) -> QColor       the highlight colour charts and marks use
muted(palette) -> QColor        secondary text
mute(widget)                    draw a widget's text as secondary text (follows a switch)
set_sheet(widget, sheet)        give a widget a style sheet of its own (a string, or a function
                                of the palette that writes one), re-resolved against the
                                palette on every theme switch
set_colours(widget, colours)    give a widget a background and text colour (a function of the
                                palette), picked again on every theme switch
set_text(label, text)           a label's text (a string, or a function of the palette that writes
                                rich text with colours of its own), written again on a switch
error_colour(palette) -> QColor the red of error text, one per scheme
error_sheet, error_border_sheet, danger_sheet
                                sheets (functions of the palette) for error text, a line edit
                                whose text cannot be used and a button that deletes
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPalette, QPen, QRegion
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QProxyStyle,
    QStyle,
    QStyleHintReturn,
    QStyleOption,
    QStyleOptionComplex,
    QStyleOptionHeader,
    QStyleOptionProgressBar,
    QWidget,
)

_R = QPalette.ColorRole
_G = QPalette.ColorGroup

LIGHT = {
    _R.Window: "#f4f5f7",
    _R.WindowText: "#1d2129",
    _R.Base: "#ffffff",
    _R.AlternateBase: "#f6f8fa",
    _R.ToolTipBase: "#1d2129",
    _R.ToolTipText: "#f4f5f7",
    # secondary text (theme.mute, captions, notes, placeholders): 4.9:1 on the window, 5.3 on
    # the base, 5.0 on the alternate base, 4.6 on a button — a grey, but one that reads
    _R.PlaceholderText: "#656c77",
    _R.Text: "#1d2129",
    _R.Button: "#eceef1",
    _R.ButtonText: "#1d2129",
    _R.BrightText: "#d1242f",
    # selected rows, focus outlines, a progress bar's fill: white on it 4.7:1, it on the window
    # 4.3:1 and on the base 4.7:1
    _R.Highlight: "#2f6fdf",
    _R.HighlightedText: "#ffffff",
    _R.Link: "#1f5fcf",
    _R.Mid: "#c9ced6",
    _R.Midlight: "#e3e6ea",
    _R.Dark: "#a0a6b0",
    _R.Shadow: "#6b717c",
    _R.Light: "#ffffff",
}
DARK = {
    _R.Window: "#1e2127",
    _R.WindowText: "#e3e6eb",
    _R.Base: "#16181d",
    _R.AlternateBase: "#1c1f25",
    _R.ToolTipBase: "#e3e6eb",
    _R.ToolTipText: "#16181d",
    # 5.4:1 on the window, 6.0 on the base, 5.6 on the alternate base, 4.6 on a button
    _R.PlaceholderText: "#8f96a3",
    _R.Text: "#e3e6eb",
    _R.Button: "#2a2e36",
    _R.ButtonText: "#e3e6eb",
    _R.BrightText: "#ff6b6b",
    # white on it 4.7:1 (it was #3d7cf0, 3.9:1: a selected row's text in the dark scheme), it
    # on the window 3.4:1 and on the base 3.8:1
    _R.Highlight: "#3a6fd8",
    _R.HighlightedText: "#ffffff",
    _R.Link: "#79a8ff",
    _R.Mid: "#3a3f49",
    _R.Midlight: "#30343c",
    _R.Dark: "#111317",
    _R.Shadow: "#0b0c0f",
    _R.Light: "#3a3f49",
}


def system_scheme() -> str:
    forced = os.environ.get("REGVIEW_THEME", "").lower()
    if forced in ("light", "dark"):
        return forced
    hints = QGuiApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


def make_palette(scheme: str) -> QPalette:
    palette = QPalette()
    for role, colour in (DARK if scheme == "dark" else LIGHT).items():
        palette.setColor(role, QColor(colour))
    disabled = QColor("#6b717c") if scheme == "dark" else QColor("#a0a6b0")
    for role in (_R.Text, _R.WindowText, _R.ButtonText):
        palette.setColor(_G.Disabled, role, disabled)
    # A disabled field sinks into the window: on the base colour it looked like one to type
    # in (Username and Token under "Anonymous" took keys and showed nothing).
    palette.setColor(_G.Disabled, _R.Base, palette.color(_R.Window))
    palette.setColor(_G.Inactive, _R.Highlight, palette.color(_R.Highlight))
    return palette


_S = QStyle.StateFlag
#: width of the focus outline around a table, tree or list, in device-independent pixels
FOCUS_WIDTH = 2


class RegviewStyle(QProxyStyle):
    """Fusion, with changes people asked for.

    Focus: Fusion marks a focused line edit, but a focused table only by a faint rectangle
    around the current cell, which disappears inside a selected row. A focused item view gets
    an outline in the highlight colour, and the current cell's rectangle is drawn in a colour
    that contrasts with the selection.

    Sort arrow: Qt hands Fusion "SortDown" for ascending order and Fusion draws it pointing
    down, so a newest-first list showed ▲; here ▲ is ascending and ▼ descending, as on Windows
    and macOS (the header's tooltip says it in words too, see sort_words).

    Progress bar (with a known end): a flat fill in the highlight colour and its count in the
    highlighted-text colour on the fill and the text colour on the groove, cut at the same edge.
    """

    def __init__(self) -> None:
        super().__init__("Fusion")

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
        returnData: QStyleHintReturn | None = None,
    ) -> int:
        # Under X11 the platform theme puts icons on a button box's standard buttons only:
        # Cancel had one and "Add registry" / "Test" beside it had none. No dialog button
        # carries an icon (as on GNOME, macOS and Windows).
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, returnData)

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element == QStyle.PrimitiveElement.PE_IndicatorHeaderArrow and isinstance(
            option, QStyleOptionHeader
        ):
            flipped = QStyleOptionHeader(option)
            up, down = (
                QStyleOptionHeader.SortIndicator.SortUp,
                QStyleOptionHeader.SortIndicator.SortDown,
            )
            flipped.sortIndicator = down if option.sortIndicator == up else up
            super().drawPrimitive(element, flipped, painter, widget)
            return
        if element == QStyle.PrimitiveElement.PE_FrameFocusRect and _in_item_view(widget):
            selected = bool(option.state & _S.State_Selected)
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
            painter.save()
            painter.setPen(QPen(option.palette.color(role), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
            painter.restore()
            return
        super().drawPrimitive(element, option, painter, widget)
        if element == QStyle.PrimitiveElement.PE_IndicatorCheckBox and not (
            option.state & _S.State_HasFocus and option.state & _S.State_KeyboardFocusChange
        ):
            # Fusion outlines the box in the window colour darkened, which in the dark scheme
            # is all but the colour of the box and of the dialog behind it: an unchecked box
            # could not be seen. The outline in the secondary-text colour shows in both schemes
            # (keyboard focus keeps Fusion's highlight outline).
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.translate(0.5, 0.5)
            painter.setPen(QPen(muted(option.palette), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()

    def drawControl(
        self,
        element: QStyle.ControlElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if (
            element == QStyle.ControlElement.CE_HeaderLabel
            and isinstance(option, QStyleOptionHeader)
            and option.sortIndicator != QStyleOptionHeader.SortIndicator.None_
            and option.state & _S.State_Horizontal
        ):
            super().drawControl(element, self._label_before_arrow(option, widget), painter, widget)
            return
        if (
            element in _PROGRESS_PARTS
            and isinstance(option, QStyleOptionProgressBar)
            and option.state & _S.State_Horizontal
            and option.maximum > option.minimum  # a busy bar (0..0) keeps Fusion's animation
        ):
            _draw_progress(element, option, painter)
            return
        super().drawControl(element, option, painter, widget)
        if (
            element == QStyle.ControlElement.CE_ShapedFrame
            and isinstance(widget, QAbstractItemView)
            and widget.hasFocus()
        ):
            colour, r, w = (
                option.palette.color(QPalette.ColorRole.Highlight),
                option.rect,
                FOCUS_WIDTH,
            )
            # the four edges of the frame (what the viewport and headers leave uncovered)
            painter.fillRect(r.x(), r.y(), r.width(), w, colour)
            painter.fillRect(r.x(), r.y() + r.height() - w, r.width(), w, colour)
            painter.fillRect(r.x(), r.y(), w, r.height(), colour)
            painter.fillRect(r.x() + r.width() - w, r.y(), w, r.height(), colour)

    def _label_before_arrow(
        self, option: QStyleOptionHeader, widget: QWidget | None
    ) -> QStyleOptionHeader:
        """The label's rectangle ending before the sort arrow. Fusion leaves less room for the
        arrow than it draws it in: a right-aligned label ("Size", "Frees") ran under it. Both
        rectangles hang from the section's right edge, so a wide section of the same height
        tells how far the label reaches into the arrow."""
        margin = self.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, option, widget)
        probe = QStyleOptionHeader(option)
        probe.rect = QRect(0, 0, 1000, option.rect.height() + 2 * margin)
        # the stubs ask for a widget; Qt takes None (a header painted without one)
        label = self.subElementRect(QStyle.SubElement.SE_HeaderLabel, probe, widget)  # type: ignore[arg-type]
        arrow = self.subElementRect(QStyle.SubElement.SE_HeaderArrow, probe, widget)  # type: ignore[arg-type]
        overlap = label.right() - (arrow.left() - margin) + 1
        adjusted = QStyleOptionHeader(option)
        if arrow.isValid() and overlap > 0:
            adjusted.rect = option.rect.adjusted(0, 0, -overlap, 0)
        return adjusted

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if (
            control == QStyle.ComplexControl.CC_ToolButton
            and option.state & _S.State_HasFocus
            and option.state & _S.State_KeyboardFocusChange
        ):
            # Fusion shows a focused tool button (the details pane's Copy) only by a faint
            # raised frame: the keyboard stop looked empty. An outline in the highlight colour,
            # as on the tables and the line edits.
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(option.palette.color(_R.Highlight), FOCUS_WIDTH))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(option.rect.adjusted(1, 1, -1, -1), 3, 3)
            painter.restore()


_CE = QStyle.ControlElement
_PROGRESS_PARTS = (_CE.CE_ProgressBarContents, _CE.CE_ProgressBarLabel)
# A progress bar's fill is flat, in the highlight colour (white reads on it at 4.7:1 in both
# schemes, and it stands out from the empty groove, the base colour). Fusion's was a gradient,
# lighter at the top (white on it 3.5:1 in light, 2.3:1 in dark), and ended short of where the
# count's colour switched, so a glyph across the end ("/" of "1 / 2") was white on the white
# groove.


def _progress_fill(option: QStyleOptionProgressBar) -> QRect:
    """The filled part, inside the groove's 1px border: the fill and the count's two colours
    are cut at this one rectangle's edge."""
    inner = option.rect.adjusted(1, 1, -1, -1)
    span = option.maximum - option.minimum
    done = min(max(option.progress - option.minimum, 0), span)
    width = round(inner.width() * done / span)
    # right to left, or inverted (not both): the bar fills from the right
    from_right = (option.direction == Qt.LayoutDirection.RightToLeft) != option.invertedAppearance
    x = inner.right() + 1 - width if from_right else inner.left()
    return QRect(x, inner.top(), width, inner.height())


def _draw_progress(
    element: QStyle.ControlElement, option: QStyleOptionProgressBar, painter: QPainter
) -> None:
    filled = _progress_fill(option)
    if element == _CE.CE_ProgressBarContents:
        if not filled.isEmpty():
            painter.fillRect(filled, option.palette.color(_R.Highlight))
        return
    painter.save()
    empty = QRegion(option.rect).subtracted(QRegion(filled))
    for region, role in ((empty, _R.Text), (QRegion(filled), _R.HighlightedText)):
        painter.setClipRegion(region)
        painter.setPen(option.palette.color(role))
        painter.drawText(option.rect, Qt.AlignmentFlag.AlignCenter, option.text)
    painter.restore()


def _in_item_view(widget: QWidget | None) -> bool:
    while widget is not None:
        if isinstance(widget, QAbstractItemView):
            return True
        widget = widget.parentWidget()
    return False


def apply_theme(app: QApplication, scheme: str | None = None) -> str:
    chosen = scheme or system_scheme()
    if not isinstance(app.style(), RegviewStyle):
        app.setStyle(RegviewStyle())
    app.setPalette(make_palette(chosen))
    _restyle_sheeted_widgets()
    app.setProperty("regviewScheme", chosen)
    app.setProperty("regviewChoice", scheme or "system")
    if scheme is None and not getattr(app, "_regview_follows_system", False):
        app._regview_follows_system = True  # type: ignore[attr-defined]
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _s: _follow_system(app))
    return chosen


#: a style sheet, or a function of the application's palette that writes one: set_sheet runs it
#: again on every theme switch, so a colour that no palette role names (the red of an error)
#: is picked for the scheme shown. The function must not hold the widget (a lambda over `self`
#: would keep the widget alive from the registry below); the module-level ones here do not.
Sheet = str | Callable[[QPalette], str]
#: (background, text) for the scheme of a palette, as warning_colours returns them
Colours = Callable[[QPalette], tuple[QColor, QColor]]

#: the widgets given a style sheet of their own (set_sheet), with the function that writes it
#: (None: a fixed sheet, set again as it is); an entry goes with its widget
_SHEETED: weakref.WeakKeyDictionary[QWidget, Callable[[QPalette], str] | None] = (
    weakref.WeakKeyDictionary()
)
#: the widgets given colours of their own (set_colours)
_COLOURED: weakref.WeakKeyDictionary[QWidget, Colours] = weakref.WeakKeyDictionary()
#: the labels whose text is written by a function of the palette (set_text)
_WRITTEN: weakref.WeakKeyDictionary[QLabel, Callable[[QPalette], str]] = weakref.WeakKeyDictionary()


def set_sheet(widget: QWidget, sheet: Sheet) -> None:
    """widget.setStyleSheet(sheet), and restyle the widget on every later theme switch.

    Every widget with a sheet of its own sets it through here: a theme switch restyles these
    and leaves the application's other widgets alone (it used to walk all of them). A sheet
    with a colour of its own is a function of the palette (error_sheet, danger_sheet): a
    string computed once kept the colours of the scheme it was set in after a switch."""
    _SHEETED[widget] = sheet if callable(sheet) else None
    widget.setStyleSheet(sheet(QGuiApplication.palette()) if callable(sheet) else sheet)


def set_colours(widget: QWidget, colours: Colours) -> None:
    """Paint `widget` (its background and foreground roles) in `colours(palette)`, and again
    in the new scheme's on every theme switch: a colour set into the widget's palette once
    stays when the application's palette changes (Qt keeps what was set explicitly)."""
    _COLOURED[widget] = colours
    _paint(widget, colours)


def set_text(label: QLabel, text: str | Callable[[QPalette], str]) -> None:
    """label.setText(text). Rich text with colours no palette role names (the ✔ and ✘ of the
    connect cards) is a function of the palette, written again in the new scheme's colours on
    every theme switch: a colour in a label's HTML stays as written when the palette changes.
    A string ends that (the label keeps it). Like set_sheet's, the function must not hold the
    label."""
    if callable(text):
        _WRITTEN[label] = text
        label.setText(text(QGuiApplication.palette()))
    else:
        _WRITTEN.pop(label, None)
        label.setText(text)


def _paint(widget: QWidget, colours: Colours) -> None:
    background, text = colours(QGuiApplication.palette())
    pal = widget.palette()
    pal.setColor(widget.backgroundRole(), background)
    pal.setColor(widget.foregroundRole(), text)
    widget.setPalette(pal)


def _restyle_sheeted_widgets() -> None:
    # A widget with a style sheet of its own (the toolbar's spacing, the sidebar's row padding,
    # the welcome cards) is painted by Qt's style-sheet style from a palette it resolved when
    # the sheet was applied; QApplication.setPalette does not reach it, so after a switch at
    # run time the toolbar and the sidebar stayed white in the dark scheme. Setting the same
    # sheet again makes Qt resolve it against the new palette; a sheet written by a function
    # is written again, in the new scheme's colours.
    palette = QGuiApplication.palette()
    for widget, write in list(_SHEETED.items()):
        # The weak dictionary drops a widget when Python lets go of it; one deleted by Qt
        # while Python still holds it (a closed dialog's label in a callback) is dropped here.
        # No slot on `destroyed`: it would run Python from inside Qt's destructors, at exit too.
        if not shiboken6.isValid(widget):
            _SHEETED.pop(widget, None)
            continue
        sheet = write(palette) if write is not None else widget.styleSheet()
        if sheet:
            widget.setStyleSheet(sheet)
    for widget, colours in list(_COLOURED.items()):
        if not shiboken6.isValid(widget):
            _COLOURED.pop(widget, None)
            continue
        _paint(widget, colours)
    for label, write in list(_WRITTEN.items()):
        if not shiboken6.isValid(label):
            _WRITTEN.pop(label, None)
            continue
        label.setText(write(palette))


def _follow_system(app: QApplication) -> None:
    # a scheme chosen in View › Theme stays until the user picks "Follow the system" again
    if app.property("regviewChoice") == "system":
        apply_theme(app)


def is_dark(palette: QPalette) -> bool:
    return palette.color(_R.Window).lightness() < 128


def accent(palette: QPalette) -> QColor:
    return palette.color(_R.Highlight)


def muted(palette: QPalette) -> QColor:
    return palette.color(_R.PlaceholderText)


def mute(widget: QWidget) -> None:
    """Draw the widget's text in the secondary-text colour, whichever scheme is shown.

    By the palette role, not by its colour: a colour set into the widget's palette stays when
    the application's palette switches (Qt keeps what was set explicitly), so a caption
    written in the light scheme's grey kept it in the dark scheme."""
    widget.setForegroundRole(_R.PlaceholderText)


def warning_colours(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, text) for an error banner, readable in both schemes."""
    if is_dark(palette):
        return QColor("#3b2326"), QColor("#ffb4b4")
    return QColor("#fdecea"), QColor("#8a1c1c")


#: The red of error text, per scheme: >= 4.5:1 (WCAG AA for text) on the scheme's window, base
#: and alternate-base colours — light 5.2 / 5.6 / 5.3, dark 6.4 / 7.0 / 6.6. The one place for
#: it: the error labels, the filter's red border and the delete tables' "failed" all use it.
ERROR_TEXT = {"light": "#c62828", "dark": "#ff7b72"}
#: A button that deletes: white text on red, 5.2:1 (light) and 6.5:1 (dark).
DANGER_BUTTON = {
    "light": "QPushButton { background: #d1242f; color: white; border: 1px solid #a40e26;"
    " border-radius: 4px; padding: 5px 14px; font-weight: 600; }"
    " QPushButton:disabled { background: #e8a3a8; border-color: #e0a0a5; color: #fbeff0; }",
    "dark": "QPushButton { background: #b62324; color: white; border: 1px solid #da3633;"
    " border-radius: 4px; padding: 5px 14px; font-weight: 600; }"
    " QPushButton:disabled { background: #4a2a2d; border-color: #5a3236; color: #9c7c80; }",
}


def _scheme(palette: QPalette) -> str:
    return "dark" if is_dark(palette) else "light"


def error_colour(palette: QPalette) -> QColor:
    return QColor(ERROR_TEXT[_scheme(palette)])


def error_sheet(palette: QPalette) -> str:
    """A sheet for error text (give set_sheet the function, not its result)."""
    return f"color: {ERROR_TEXT[_scheme(palette)]};"


def error_border_sheet(palette: QPalette) -> str:
    """A sheet for a line edit whose text cannot be used: a border in the error red."""
    return f"QLineEdit {{ border: 1px solid {ERROR_TEXT[_scheme(palette)]}; }}"


def danger_sheet(palette: QPalette) -> str:
    """A sheet for a button that deletes (give set_sheet the function, not its result)."""
    return DANGER_BUTTON[_scheme(palette)]
