"""The status cards of the connect and token dialogs: a rounded panel in a tone (neutral, good,
warn, bad), secondary text, and a tested credential's abilities as ✔/✘/? rows.

    _Card(parent=None).show_text(html, tone)      tone: "neutral", "good", "warn" or "bad";
                                                  html: a string, or a function of the palette
                                                  (written again on a theme switch)
    _secondary(label) -> QLabel                   word-wrapped, in the placeholder colour
    access_html(access, palette=None) -> str      an `AccessSummary` as rich text (escaped), its
                                                  marks in the colours of the palette's scheme
    tone_colour(tone, palette) -> str             a tone's colour (border, ✔/✘) in that scheme
"""

from __future__ import annotations

import html
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from regview.services.connect import AccessSummary
from regview.ui.theme import ERROR_TEXT, is_dark, muted, set_sheet, set_text

#: a card's tone, per scheme: the colour of its left border and of the ✔ (good) and ✘ (bad)
#: marks. The marks are text: >= 4.5:1 on the card (alternate base) — light ✔ 4.8, ✘ 5.3;
#: dark ✔ 6.5, ✘ 6.6. The border marks the result: >= 3:1 on the card and on the window
#: behind it — light amber 3.8 / 3.7 (it was one #d08a12 for both schemes, 2.7:1 in light).
#: "bad" is the error red of theme.py. "?" (not checked) is the secondary grey.
TONE_COLOURS = {
    "light": {"good": "#1a7f37", "warn": "#b07000", "bad": ERROR_TEXT["light"]},
    "dark": {"good": "#3fb950", "warn": "#d29922", "bad": ERROR_TEXT["dark"]},
}


def _secondary(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    label.setForegroundRole(label.foregroundRole())
    set_sheet(label, "color: palette(placeholder-text);")
    return label


def tone_colour(tone: str, palette: QPalette) -> str:
    """The colour of `tone` ("good", "warn", "bad"; "neutral": the palette's mid grey)."""
    colours = TONE_COLOURS["dark" if is_dark(palette) else "light"]
    return colours.get(tone) or palette.color(QPalette.ColorRole.Mid).name()


def access_html(access: AccessSummary, palette: QPalette | None = None) -> str:
    """Rich text in the colours of `palette`'s scheme (the application's by default); give a
    card `partial(access_html, access)` so that it is written again on a theme switch."""
    pal = palette if palette is not None else QGuiApplication.palette()
    rows = []
    for ok, text in access.lines():
        if not text:
            continue
        mark, colour = (
            ("✔", tone_colour("good", pal))
            if ok
            else ("✘", tone_colour("bad", pal))
            if ok is False
            else ("?", muted(pal).name())
        )
        rows.append(
            f"<tr><td style='color:{colour}; font-weight:bold; padding-right:8px'>{mark}</td>"
            f"<td>{html.escape(text)}</td></tr>"
        )
    notes = "".join(f"<p style='margin-top:6px'>{html.escape(n)}</p>" for n in access.notes)
    warning = access.warning()
    head = (
        f"<p style='margin-top:0; margin-bottom:4px'><b>{html.escape(warning)}</b></p>"
        if warning
        else ""
    )
    return f"{head}<table cellspacing='2'>{''.join(rows)}</table>{notes}"


def _card_sheet(tone: str, palette: QPalette) -> str:
    return (
        "QFrame#card { border: 1px solid palette(mid); border-left: 4px solid "
        f"{tone_colour(tone, palette)}; border-radius: 6px; background: palette(alternate-base); }}"
    )


class _Card(QFrame):
    """A rounded panel for a status message: neutral, good, warn or bad."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A word longer than the card (a URL, a digest) must not widen the dialog and push the
        # form off its right edge: the card takes the width it is given and wraps within it.
        policy = self.label.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.label.setSizePolicy(policy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 9, 12, 9)
        layout.addWidget(self.label)
        self.show_text("", "neutral")

    def show_text(self, text: str | Callable[[QPalette], str], tone: str) -> None:
        """Show `text`, which is rich text: escape anything a registry or a user wrote. Text
        with colours of its own (access_html's marks) is a function of the palette."""
        self.tone = tone
        set_sheet(self, partial(_card_sheet, tone))
        set_text(self.label, text)
        self.setVisible(bool(self.label.text()))
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        # The label ignores its width hint (see __init__), so no layout asks it how tall its
        # wrapped text is at the width it got: ask here, or its last lines are cut off in a
        # dialog without a scroll area (Tokens).
        width = self.label.width()
        if width > 0:
            self.label.setMinimumHeight(max(0, self.label.heightForWidth(width)))
