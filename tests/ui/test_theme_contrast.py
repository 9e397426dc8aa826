"""Contrast (WCAG 2) of the app's own colours, in both schemes and after a switch at run time,
computed from the colours the widgets use and from the pixels they paint (QWidget.grab):
text >= 4.5:1, a border or mark that carries meaning >= 3:1, on every background it sits on.

Measured before: the secondary grey 2.9:1 on the light window and 4.2:1 on the dark one; the
connect cards' ✔ 3.2:1 and ✘ 4.2:1 and their amber border 2.7:1 in light (the same colours in
both schemes; ✘ 3.7:1 in dark); the progress bar's count white on the light fill's lighter top
(3.5:1), and the part of a glyph past the fill's end white on the white groove."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from connect_support import MemoryKeyring, make_accounts, run
from contrast_support import NON_TEXT, TEXT, background, contrast, ink_contrast
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from regview.core.deletion.executor import ItemResult, Outcome
from regview.core.deletion.plan import (
    Capabilities,
    DeletePlan,
    DeleteSupport,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.model import ArtifactKind, TagInfo
from regview.services.connect import AccessSummary
from regview.ui.dialogs.connect.cards import _Card, access_html, tone_colour
from regview.ui.dialogs.connect.dialog import AddRegistryDialog
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.progress import DeleteProgressDialog
from regview.ui.theme import apply_theme, make_palette, muted
from regview.ui.window.sidebar import MUTED_ROLE, Sidebar

pytestmark = [pytest.mark.ui]
OCI = "application/vnd.oci.image.manifest.v1+json"
SWITCHES = ("light", "dark", "light")
_R = QPalette.ColorRole
#: where secondary text sits: dialogs and pages (window), lists and tables (base, alternate
#: rows), the connect cards (alternate base) and beside buttons
GROUNDS = (_R.Window, _R.Base, _R.AlternateBase, _R.Button)


@pytest.fixture
def light() -> Iterator[QApplication]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    yield app
    apply_theme(app, "light")


def _image(widget: QWidget, rect: QRect | None = None) -> QImage:
    QApplication.processEvents()
    return (widget.grab(rect) if rect is not None else widget.grab()).toImage()


def _plan(tags: list[str]) -> DeletePlan:
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    infos = tuple(
        TagInfo("team/app", f"t{i}", f"sha256:{i:064x}", OCI, ArtifactKind.IMAGE, size=10)
        for i in range(2)
    )
    return make_plan(
        RepositoryFacts("reg.example", "team/app", infos, caps), Selection.of_tags(tags)
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_secondary_grey_reads_on_every_ground(scheme: str) -> None:
    palette = make_palette(scheme)
    for ground in GROUNDS:
        ratio = contrast(muted(palette), palette.color(ground))
        assert ratio >= TEXT, (scheme, ground, round(ratio, 2))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_selection_reads_and_shows(scheme: str) -> None:
    """A selected row's text (highlighted text on the highlight) is text; the highlight also
    draws the focus outline and a progress bar's fill: a mark on the window and the base."""
    palette = make_palette(scheme)
    highlight = palette.color(_R.Highlight)
    assert contrast(palette.color(_R.HighlightedText), highlight) >= TEXT, scheme
    for ground in (_R.Window, _R.Base):
        assert contrast(highlight, palette.color(ground)) >= NON_TEXT, (scheme, ground)


def test_secondary_text_as_painted_reads_in_both_schemes(
    qtbot: QtBot, light: QApplication, tmp_path: Path, qloop: asyncio.AbstractEventLoop
) -> None:
    """The delete dialog's note and card caption, the connect dialog's hints (a sheet with
    palette(placeholder-text)) and a sidebar status line, light -> dark -> light: the text's
    own pixels on the pixels around it."""
    dialog = DeleteDialog(_plan(["t0"]))
    qtbot.addWidget(dialog)
    dialog.show()
    caption = dialog.findChild(QLabel, "statLabel")
    assert isinstance(caption, QLabel)
    connect = AddRegistryDialog(make_accounts(tmp_path, MemoryKeyring()))
    qtbot.addWidget(connect)
    connect.show()
    run(qloop, asyncio.sleep(0.1))  # the dialog reads the keyring's state on the loop
    hints = [
        label
        for label in connect.findChildren(QLabel)
        if "placeholder-text" in label.styleSheet() and label.isVisible() and label.text()
    ]
    assert hints, "the connect dialog shows secondary text"
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.set_registries([("reg.example", "https://reg.example", False)])
    sidebar.set_loading("reg.example", "Listing repositories… (a long registry)")
    sidebar.resize(320, 160)
    sidebar.show()
    it = QTreeWidgetItemIterator(sidebar)
    status = None
    while (item := it.value()) is not None:
        status = item if item.data(0, MUTED_ROLE) else status
        it += 1
    assert status is not None
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        for label in (dialog.journal_note, caption, *hints):
            ratio = ink_contrast(_image(label))
            assert ratio >= TEXT, (scheme, label.text()[:40], round(ratio, 2))
        row = _image(sidebar.viewport(), sidebar.visualItemRect(status))
        assert ink_contrast(row) >= TEXT, (scheme, round(ink_contrast(row), 2))
        assert contrast(status.foreground(0).color(), background(row)) >= TEXT, scheme
        sidebar.setCurrentItem(status)  # selected: the highlight's colours (white on blue)
        selected = _image(sidebar.viewport(), sidebar.visualItemRect(status))
        assert background(selected) == sidebar.palette().color(_R.Highlight).name(), scheme
        assert ink_contrast(selected) >= TEXT, (scheme, round(ink_contrast(selected), 2))
        sidebar.setCurrentItem(None)


def _cards(qtbot: QtBot) -> tuple[QWidget, dict[str, _Card]]:
    """The connect dialog's cards, on a dialog's window colour: each tone, and one card per
    mark (✔ only, ✘ only, ? only) for reading a mark's own pixels."""
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    repo = "team/app"
    shown = {
        "warn": ("warn", AccessSummary(repository=repo, pull=True, push=True, delete=False)),
        "✔": (
            "good",
            AccessSummary(repository=repo, pull=True, push=True, delete=True, catalog=True),
        ),
        "✘": ("bad", AccessSummary(refused="The token expired on 2026-11-30")),
        "?": ("bad", AccessSummary()),
    }
    cards: dict[str, _Card] = {}
    for name, (tone, access) in shown.items():
        assert name == "warn" or {mark for mark, _ in _marks(access)} == {name}
        card = cards[name] = _Card(host)
        card.show_text(partial(access_html, access), tone)  # as the connect dialog does
        layout.addWidget(card)
    host.resize(560, 460)
    host.show()
    qtbot.waitExposed(host)
    return host, cards


def _marks(access: AccessSummary) -> list[tuple[str, str]]:
    return [
        ("✔" if ok else "✘" if ok is False else "?", text) for ok, text in access.lines() if text
    ]


def test_the_connect_cards_marks_and_tone_borders_read_in_both_schemes(
    qtbot: QtBot, light: QApplication
) -> None:
    """The ✔/✘/? marks are text on the card (>= 4.5:1); the coloured left border, which says
    good / partial / failed, a mark on the card and on the window behind it (>= 3:1). Read
    from the pixels, light -> dark -> light: the colours were one set for both schemes."""
    host, cards = _cards(qtbot)
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        window = _image(host).pixelColor(2, 2).name()  # in the layout's margin
        assert window == host.palette().color(_R.Window).name(), scheme
        for name, card in cards.items():
            image = _image(card)
            middle = image.height() // 2
            border = image.pixelColor(1, middle).name()  # the 4px left border
            inside = image.pixelColor(image.width() - 3, middle).name()  # the card's ground
            assert border == tone_colour(card.tone, host.palette()), (scheme, name)
            assert contrast(border, inside) >= NON_TEXT, (scheme, name, border, inside)
            assert contrast(border, window) >= NON_TEXT, (scheme, name, border, window)
            if name == "warn":
                continue
            label = card.label
            column = _image(label, QRect(0, 0, label.fontMetrics().height(), label.height()))
            ratio = ink_contrast(column)  # the marks' column: the mark on the card
            assert ratio >= TEXT, (scheme, name, round(ratio, 2))


def test_the_progress_count_reads_on_the_fill_and_on_the_groove(
    qtbot: QtBot, light: QApplication
) -> None:
    """The deletion's progress bar at 1 of 2: "1 / 2" sits across the end of the fill. Every
    pixel of the count's ink (where, on an empty bar, the text is its full colour) reads at
    >= 4.5:1 on what is under it — the fill or the empty groove — and the fill stands out from
    the groove at >= 3:1; light -> dark -> light. The count is drawn three times larger so that
    its strokes have pixels of full ink (the thin "/" has none at the dialog's size)."""
    progress = DeleteProgressDialog(_plan(["t0", "t1"]))
    qtbot.addWidget(progress)
    progress.show()
    plan = progress.plan
    progress.add_result(ItemResult("tag", "t0", plan.tag_actions[0].digest, Outcome.DELETED, ""))
    bar = progress.bar
    assert (bar.value(), bar.maximum(), bar.text()) == (1, 2, "1 / 2")
    font = bar.font()
    font.setPointSizeF(font.pointSizeF() * 3)
    bar.setFont(font)
    bar.setFixedHeight(bar.fontMetrics().height() + 8)

    # the count's box (centred), with a margin: the pixels looked at
    width = bar.fontMetrics().horizontalAdvance(bar.text()) + 16
    box = QRect((bar.width() - width) // 2, 0, width, bar.height())

    def shots(value: int) -> tuple[QImage, QImage]:
        bar.setValue(value)
        with_text = _image(bar, box)
        bar.setTextVisible(False)
        bare = _image(bar, box)
        bar.setTextVisible(True)
        return with_text, bare

    def ratio(image: QImage, under: QImage, p: tuple[int, int]) -> float:
        return contrast(image.pixelColor(*p), under.pixelColor(*p))

    for scheme in SWITCHES:
        apply_theme(light, scheme)
        QApplication.processEvents()  # the bar takes the new palette
        text = bar.palette().color(_R.Text).name()
        empty_text, groove = shots(0)  # where the ink is: the text on an empty bar
        ink = [
            (x, y)
            for y in range(empty_text.height())
            for x in range(empty_text.width())
            if empty_text.pixelColor(x, y).name() == text
            and empty_text.pixelColor(x, y) != groove.pixelColor(x, y)
        ]
        at_half, under = shots(1)
        on_fill = [p for p in ink if under.pixelColor(*p) != groove.pixelColor(*p)]
        assert 0 < len(on_fill) < len(ink), scheme  # the count is across the end of the fill
        worst = min(ink, key=lambda p: ratio(at_half, under, p))
        seen = (at_half.pixelColor(*worst).name(), under.pixelColor(*worst).name())
        assert ratio(at_half, under, worst) >= TEXT, (scheme, worst, seen)
        fill = min(on_fill, key=lambda p: ratio(under, groove, p))
        assert ratio(under, groove, fill) >= NON_TEXT, (scheme, under.pixelColor(*fill).name())
