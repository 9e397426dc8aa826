"""The status cards of the connect and token dialogs: a rounded panel in a tone (neutral, good,
warn, bad), secondary text, and a tested credential's abilities as ✔/✘/? rows.

    _Card(parent=None).show_text(html, tone)      tone: "neutral", "good", "warn" or "bad"
    _secondary(label) -> QLabel                   word-wrapped, in the placeholder colour
    access_html(access) -> str                    an `AccessSummary` as rich text (escaped)
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from regview.services.connect import AccessSummary
from regview.ui.theme import set_sheet

OK_COLOUR = "#2f9e55"
WARN_COLOUR = "#d08a12"  # a partial result: it works, but not for everything (deleting)
BAD_COLOUR = "#d2453b"
UNKNOWN_COLOUR = "#8a8f98"


def _secondary(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    label.setForegroundRole(label.foregroundRole())
    set_sheet(label, "color: palette(placeholder-text);")
    return label


def access_html(access: AccessSummary) -> str:
    rows = []
    for ok, text in access.lines():
        if not text:
            continue
        mark, colour = (
            ("✔", OK_COLOUR) if ok else ("✘", BAD_COLOUR) if ok is False else ("?", UNKNOWN_COLOUR)
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

    def show_text(self, text: str, tone: str) -> None:
        """Show `text`, which is rich text: escape anything a registry or a user wrote."""
        self.tone = tone
        colour = {"good": OK_COLOUR, "warn": WARN_COLOUR, "bad": BAD_COLOUR}.get(
            tone, "palette(mid)"
        )
        set_sheet(
            self,
            "QFrame#card { border: 1px solid palette(mid); border-left: 4px solid "
            f"{colour}; border-radius: 6px; background: palette(alternate-base); }}",
        )
        self.label.setText(text)
        self.setVisible(bool(text))
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
