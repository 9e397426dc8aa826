"""Colours that no palette role names (the red of errors and of the Delete button, the error
banner) follow a theme switch at run time: light → dark → light, with the real widgets, read
from their pixels (QWidget.grab).

They were computed once, when the sheet was set, from the palette of that moment (danger_style,
the error labels' "color: …"), or hard-coded (#d1242f in the tags filter): a switch re-applied
the old scheme's colours — a light-scheme red Delete button in the dark scheme, error text of
the other scheme. A switch of the system's scheme while the app runs takes the same path
(theme._follow_system → apply_theme), tested last."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from connect_support import PASSWORD, USER, MemoryKeyring, local_registry, make_accounts, run
from contrast_support import contrast
from delete_support import open_policy_editor, open_repo, open_window, until
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from regview.core.deletion.plan import (
    Capabilities,
    DeleteSupport,
    RepositoryFacts,
    Selection,
    make_plan,
)
from regview.core.model import ArtifactKind, CredentialKind, Endpoint, TagInfo
from regview.settings.profiles import Profile
from regview.ui.dialogs.delete.dialog import DeleteDialog
from regview.ui.dialogs.delete.models import Record, RecordsModel, records_table
from regview.ui.dialogs.tokens_dialog import TokensDialog
from regview.ui.errors import ErrorBanner, Problem
from regview.ui.pages.tags_view import FilterBar
from regview.ui.repository_paths import PathDialog
from regview.ui.theme import apply_theme, danger_sheet, error_colour, make_palette, warning_colours
from regview.ui.window.sidebar import Sidebar

pytestmark = [pytest.mark.ui]
OCI = "application/vnd.oci.image.manifest.v1+json"

#: what each scheme must show (the colours of theme.py, written out: the test names them)
DANGER_BACKGROUND = {"light": "#d1242f", "dark": "#b62324"}
ERROR_TEXT = {"light": "#c62828", "dark": "#ff7b72"}
MUTED = {"light": "#656c77", "dark": "#8f96a3"}  # the palette's PlaceholderText
BANNER = {"light": ("#fdecea", "#8a1c1c"), "dark": ("#3b2326", "#ffb4b4")}
SWITCHES = ("light", "dark", "light")


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app


@pytest.fixture
def light() -> Iterator[QApplication]:
    app = _app()
    apply_theme(app, "light")
    yield app
    apply_theme(app, "light")


def _image(widget: QWidget) -> QImage:
    QApplication.processEvents()
    return widget.grab().toImage()


def _pixel(widget: QWidget, x: int, y: int) -> str:
    image = _image(widget)
    ratio = image.devicePixelRatio()
    return image.pixelColor(QPoint(int(x * ratio), int(y * ratio))).name()


def _colours(widget: QWidget) -> set[str]:
    image = _image(widget)
    return {
        image.pixelColor(x, y).name() for y in range(image.height()) for x in range(image.width())
    }


def _in_colour_of(widget: QWidget, colours: dict[str, str], scheme: str) -> bool:
    """Some of the widget's pixels are `colours[scheme]` and none the other scheme's colour."""
    seen = _colours(widget)
    other = "dark" if scheme == "light" else "light"
    return colours[scheme] in seen and colours[other] not in seen


def _delete_dialog(qtbot: QtBot) -> DeleteDialog:
    caps = Capabilities(manifest_delete=DeleteSupport.ALLOWED, tag_delete=True)
    tags = tuple(
        TagInfo("team/app", f"t{i}", f"sha256:{i:064x}", OCI, ArtifactKind.IMAGE, size=10)
        for i in range(2)
    )
    plan = make_plan(
        RepositoryFacts("reg.example", "team/app", tags, caps), Selection.of_tags(["t0"])
    )
    dialog = DeleteDialog(plan)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_delete_button_is_the_red_of_the_scheme_shown(
    qtbot: QtBot, light: QApplication
) -> None:
    dialog = _delete_dialog(qtbot)
    button = dialog.delete_button
    assert button.isVisible() and button.isEnabled()
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        # inside the 1px border, left of the centred word "Delete"
        assert _pixel(button, 4, button.height() // 2) == DANGER_BACKGROUND[scheme], scheme


def test_secondary_text_is_the_grey_of_the_scheme_shown(qtbot: QtBot, light: QApplication) -> None:
    """The delete dialog's notes and card captions: their grey was set into their palette
    once (Qt keeps a colour set explicitly when the application's palette changes)."""
    dialog = _delete_dialog(qtbot)
    caption = dialog.findChild(QLabel, "statLabel")
    assert isinstance(caption, QLabel)
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        for label in (dialog.journal_note, caption):
            assert _in_colour_of(label, MUTED, scheme), (scheme, label.text())


def test_a_failed_row_and_a_sidebar_status_are_in_the_colours_of_the_scheme_shown(
    qtbot: QtBot, light: QApplication
) -> None:
    """The deletion tables' tones came from a copy of the view's palette taken when the table
    was built; the sidebar's status lines from the grey of the scheme they were added in."""
    model = RecordsModel(("Tag", "Result"), tone_column=1)
    model.set_records([Record(("t0", "failed: HTTP 500 from reg.example"), tone="fail")])
    table = records_table(model, (80,))
    qtbot.addWidget(table)
    table.resize(420, 120)
    table.show()
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.set_registries([("reg.example", "https://reg.example", False)])
    sidebar.set_loading("reg.example", "Listing repositories… (a long registry)")
    sidebar.resize(320, 160)
    sidebar.show()
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        assert _in_colour_of(table.viewport(), ERROR_TEXT, scheme), scheme
        assert _in_colour_of(sidebar.viewport(), MUTED, scheme), scheme


def test_a_missing_secret_is_in_the_red_of_the_scheme_shown(
    qtbot: QtBot, light: QApplication, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Registries and tokens: "missing" in the Secret column was Qt's pure red in both schemes
    (4.0:1 on the light base, below the 4.5:1 text needs); it is the error red of the scheme
    shown, also after a switch (an item's colour stays as set: the dialog sets it again)."""
    backend = MemoryKeyring()
    accounts = make_accounts(tmp_path, backend)
    profile = Profile.for_endpoint(
        Endpoint(url="https://registry.example.com"),
        name="remote",
        username=USER,
        credential_kind=CredentialKind.PASSWORD,
    )
    run(qloop, accounts.save(profile, PASSWORD))
    backend.entries.clear()  # the keyring lost the secret
    dialog = TokensDialog(accounts)
    qtbot.addWidget(dialog)
    run(qloop, dialog.refresh())
    dialog.show()
    row = dialog.tree.topLevelItem(0)
    assert row is not None and row.text(5) == "missing"
    dialog.tree.clearSelection()  # a selected row is drawn in the highlight's colours
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        # (grabbing processes the switch's events first)
        assert _in_colour_of(dialog.tree.viewport(), ERROR_TEXT, scheme), scheme
        assert row.foreground(5).color().name() == ERROR_TEXT[scheme], scheme


@pytest.mark.integration
def test_the_policy_editor_run_button_and_errors_follow_a_switch(
    qtbot: QtBot, light: QApplication, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The cleanup policy editor on the demo registry: "Run now…" is the Delete button's red,
    an invalid pattern's complaint and the tester's error the error red, of the scheme shown."""
    with local_registry(tmp_path / "reg", demo=True) as url:
        window = open_window(qtbot, qloop, tmp_path, url)
        open_repo(qloop, window, "acme/webshop/frontend")
        editor = open_policy_editor(qloop, window)
        editor.keep_n.setCurrentText("1")  # something to run: a new policy keeps the 10 newest
        editor.older_than.setCurrentText("any age")
        run(qloop, until(lambda: editor.preview is not None and editor.run_button.isEnabled()))
        button = editor.run_button
        for scheme in SWITCHES:
            apply_theme(light, scheme)
            assert _pixel(button, 4, button.height() // 2) == DANGER_BACKGROUND[scheme], scheme

        editor.keep_regex.setText("(?!v).*")  # RE2 has no lookahead
        run(qloop, until(lambda: editor.keep_error.isVisible()))
        editor.tester.setText("v1.2.3")
        assert "lookahead" in editor.tester_result.text()
        for scheme in SWITCHES:
            apply_theme(light, scheme)
            for label in (editor.keep_error, editor.tester_result):
                assert _in_colour_of(label, ERROR_TEXT, scheme), scheme
        editor.reject()
        run(qloop, window.aclose())
        window.close()


def test_a_path_error_is_the_red_of_the_scheme_shown(qtbot: QtBot, light: QApplication) -> None:
    dialog = PathDialog("Add a repository by its path")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.edit.setText("Team/App")  # upper case: not a valid image path
    assert dialog.error.isVisible() and dialog.error.text()
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        assert _in_colour_of(dialog.error, ERROR_TEXT, scheme), scheme


def test_the_filter_error_and_its_border_are_the_red_of_the_scheme_shown(
    qtbot: QtBot, light: QApplication
) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.resize(520, bar.sizeHint().height())
    bar.show()
    bar.show_error("Not a regular expression: missing ), unterminated subpattern at position 0")
    assert bar.error.isVisible()
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        assert _in_colour_of(bar.error, ERROR_TEXT, scheme), scheme
        # the line edit's red border, on its left edge
        assert _pixel(bar.text, 0, bar.text.height() // 2) == ERROR_TEXT[scheme], scheme
    bar.show_error("")  # the filter is fine again: no red border, in either scheme
    for scheme in ("dark", "light"):
        apply_theme(light, scheme)
        assert bar.text.styleSheet() == ""


def test_the_error_banner_is_in_the_colours_of_the_scheme_shown(
    qtbot: QtBot, light: QApplication
) -> None:
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    banner.resize(520, 60)
    banner.show_problem(Problem("Cannot connect", "reg.example refused the connection", "Retry."))
    for scheme in SWITCHES:
        apply_theme(light, scheme)
        background, text = BANNER[scheme]
        assert _pixel(banner, 3, 3) == background, scheme
        assert text in _colours(banner.label), scheme


def test_a_switch_of_the_system_scheme_recolours_them_too(
    qtbot: QtBot, light: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_theme(light)  # follow the system (REGVIEW_THEME stands in for the system's choice)
    dialog = _delete_dialog(qtbot)
    button = dialog.delete_button
    hints = QGuiApplication.styleHints()
    try:
        for scheme, qt_scheme in (("dark", Qt.ColorScheme.Dark), ("light", Qt.ColorScheme.Light)):
            monkeypatch.setenv("REGVIEW_THEME", scheme)
            hints.colorSchemeChanged.emit(qt_scheme)
            assert light.property("regviewScheme") == scheme
            assert _pixel(button, 4, button.height() // 2) == DANGER_BACKGROUND[scheme], scheme
    finally:
        monkeypatch.delenv("REGVIEW_THEME", raising=False)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_scheme_has_a_readable_red(scheme: str) -> None:
    """Error text reads at >= 4.5:1 (WCAG AA for text) on every background it sits on in that
    scheme; the Delete button's white word on its red too; the banner's text on the banner."""
    palette = make_palette(scheme)
    role = palette.ColorRole
    for background in (role.Window, role.Base, role.AlternateBase, role.Button):
        shade = palette.color(background).name()
        assert contrast(error_colour(palette).name(), shade) >= 4.5, (scheme, background, shade)
    assert contrast("#ffffff", DANGER_BACKGROUND[scheme]) >= 4.5
    assert f"background: {DANGER_BACKGROUND[scheme]}" in danger_sheet(palette)
    assert contrast(*BANNER[scheme]) >= 4.5
    assert tuple(c.name() for c in warning_colours(palette)) == BANNER[scheme]
