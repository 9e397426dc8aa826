"""The details pane for the current tag.

    TagDetails(manifest_json, layers, config, referrers, platform_shown)   what the controller
                                         fetched (manifest, chosen platform's layers and config)
    DetailsPane(parent=None)
        show_tag(tag, reference)         at once, from the table row: digests, size, platforms
        show_details(details)            once fetched: layers, config, raw manifest, referrers
        show_loading() / show_error(text) / clear()

Every digest and the pull command have a Copy button (GitLab's "Copy" habit) that copies the
full value; a value too long for the pane is elided in the middle, in full in its tooltip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont, QFontDatabase, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from regview.core.model import ReferrerInfo, TagInfo
from regview.spec.manifest import ImageConfig
from regview.spec.mediatypes import friendly_artifact_type, referrer_kind
from regview.ui.models.tags_model import exact_time, relative_time, short_digest
from regview.ui.theme import mute
from regview.util.units import human_size


@dataclass(frozen=True, slots=True)
class LayerRow:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class TagDetails:
    tag: str
    manifest_json: bytes = b""
    layers: tuple[LayerRow, ...] = ()
    config: ImageConfig | None = None
    referrers: tuple[ReferrerInfo, ...] = ()
    platform_shown: str = ""  # for an index: the platform whose layers/config are shown
    notes: tuple[str, ...] = field(default=())


def _mono() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class ElidedLabel(QLabel):
    """One line of text elided in the middle to the width it gets (a long registry host and a
    long tag both stay readable); the full text is its tooltip and what its menu copies."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.copy_text = ""  # what Copy puts on the clipboard (the full value)
        # Shrinks with the pane instead of widening it; the text follows the width.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy", self)
        copy.triggered.connect(self.copy)
        self.addAction(copy)

    def set_full_text(self, text: str, copy_text: str | None = None) -> None:
        self.full_text = text
        self.copy_text = text if copy_text is None else copy_text
        self.setToolTip(self.copy_text)
        self._elide()

    def copy(self) -> None:
        if self.copy_text:
            QGuiApplication.clipboard().setText(self.copy_text)

    def is_elided(self) -> bool:
        return self.text() != self.full_text

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width())
        metrics = self.fontMetrics()
        shown = metrics.elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width)
        if shown != self.text():
            self.setText(shown)


class CopyField(QWidget):
    """A value (elided in the middle when long, full text on hover) with a Copy button that
    copies the full value."""

    def __init__(self, parent: QWidget | None = None, *, mono: bool = True) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.label = ElidedLabel()
        if mono:
            self.label.setFont(_mono())
        self.button = QToolButton()
        self.button.setText("Copy")
        self.button.setAutoRaise(True)
        self.button.clicked.connect(self.copy)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.value = ""

    def set_value(self, value: str, shown: str | None = None) -> None:
        self.value = value
        self.label.set_full_text(shown if shown is not None else value, value)
        self.button.setEnabled(bool(value))
        self.button.setText("Copy")
        self.button.setToolTip(f"Copy {value}" if value else "")

    def copy(self) -> None:
        if self.value:
            QGuiApplication.clipboard().setText(self.value)
            self.button.setText("Copied")
            QTimer.singleShot(1500, self.button, lambda: self.button.setText("Copy"))


def _tree(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    tree.header().setStretchLastSection(False)
    tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return tree


#: the narrowest the pane gets, whatever its tabs need
MIN_WIDTH = 320


class DetailsPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel()
        mute(self.subtitle)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.status)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # every tab whole: with scroll buttons "Referrers" hid behind the arrows as "Re" at the
        # window's default size; without them the pane is at least as wide as its tabs
        self.tabs.setUsesScrollButtons(False)
        self.tabs.setElideMode(Qt.TextElideMode.ElideNone)
        layout.addWidget(self.tabs, 1)

        summary = QWidget()
        form = QFormLayout(summary)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.reference = CopyField()
        self.pull = CopyField()
        self.digest = CopyField()
        self.config_digest = CopyField()
        self.size_label = QLabel()
        self.created = QLabel()
        self.pulled = QLabel()  # where the registry's API says (Harbor, Docker Hub)
        self.kind = QLabel()
        self.shared = QLabel()
        self.shared.setWordWrap(True)
        form.addRow("Reference", self.reference)
        form.addRow("Pull", self.pull)
        form.addRow("Digest", self.digest)
        form.addRow("Config", self.config_digest)
        form.addRow("Type", self.kind)
        form.addRow("Size", self.size_label)
        form.addRow("Created", self.created)
        form.addRow("Last pulled", self.pulled)
        self._form = form
        form.addRow("Platforms", QLabel())
        self.platforms = _tree(["Platform", "Size", "Digest"])
        self.platforms.setMinimumHeight(90)
        self.platforms.setAccessibleName("Platforms")
        form.addRow(self.platforms)
        scroll = QScrollArea()
        # not a Tab stop of its own: it showed no focus (one invisible stop between the tabs
        # and the Copy buttons); the fields in it take focus and scroll into view
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(summary)
        self.tabs.addTab(scroll, "Summary")

        self.layers = _tree(["Layer", "Size", "Media type"])
        self.layers.setAccessibleName("Layers")
        self.tabs.addTab(self.layers, "Layers")
        self.config = QPlainTextEdit()
        self.config.setReadOnly(True)
        self.config.setFont(_mono())
        self.config.setAccessibleName("Config (JSON)")
        self.tabs.addTab(self.config, "Config")
        self.manifest = QPlainTextEdit()
        self.manifest.setReadOnly(True)
        self.manifest.setFont(_mono())
        self.manifest.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.manifest.setAccessibleName("Manifest (JSON)")
        self.tabs.addTab(self.manifest, "Manifest")
        self.referrers = _tree(["Referrer", "Type", "Size"])
        self.referrers.setAccessibleName("Referrers")
        self.tabs.addTab(self.referrers, "Referrers")
        self.current: TagInfo | None = None
        self.counted = 0  # how many tags are selected when it is several
        self._reading = 0  # the last details read started (show_loading's token)
        self._waiting = False  # "Reading…" is shown for it
        self._shared_note = ""
        self.clear()

    def minimumSizeHint(self) -> QSize:
        # at least 320 px, and as wide as the tabs (their counts change the width) — and never
        # narrower than it has been: a pane at its minimum that followed what it shows (a tag,
        # none, several) moved the splitter, and the filter row's buttons under the pointer,
        # with every click in the table
        hint = super().minimumSizeHint()
        self._widest = max(getattr(self, "_widest", 0), MIN_WIDTH, hint.width())
        return QSize(self._widest, hint.height())

    def clear(self) -> None:
        self._empty(
            "No tag selected", "Select a tag to see its digests, platforms, layers and config."
        )

    def show_count(self, count: int) -> None:
        """Several tags selected: the pane names none of them (Del acts on all)."""
        self._empty(
            f"{count:,} tags selected",
            "Select one tag to see its digests, platforms, layers and config.",
        )
        self.counted = count

    def _empty(self, title: str, subtitle: str) -> None:
        self.current = None
        self._waiting = False
        self.counted = 0
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.status.hide()
        self.tabs.setEnabled(False)
        # greyed values of the tag shown before would still read as facts about "no tag"
        for copy_field in (self.reference, self.pull, self.digest, self.config_digest):
            copy_field.set_value("")
        for label in (self.size_label, self.created, self.pulled, self.kind, self.shared):
            label.setText("")
        self._form.setRowVisible(self.pulled, False)
        for tree in (self.platforms, self.layers, self.referrers):
            tree.clear()
        self.config.setPlainText("")
        self.manifest.setPlainText("")
        self._reset_counts()

    def _reset_counts(self) -> None:
        """The tabs' counts belong to the tag whose details arrived; none until then."""
        self.tabs.setTabText(1, "Layers")
        self.tabs.setTabText(4, "Referrers")

    def show_tag(
        self, tag: TagInfo | None, reference: str = "", shared_with: list[str] | None = None
    ) -> None:
        if tag is None:
            self.clear()
            return
        self.current = tag
        self.counted = 0
        self._waiting = False
        self.tabs.setEnabled(True)
        self._reset_counts()
        self.title.setText(tag.tag)
        self.subtitle.setText(
            f"{tag.kind.value} · {human_size(tag.size) or 'size unknown'} · "
            f"{relative_time(tag.created) or 'date unknown'}"
        )
        self.reference.set_value(reference)
        self.pull.set_value(f"docker pull {reference}" if reference else "")
        self.digest.set_value(tag.digest)
        self.config_digest.set_value(tag.config_digest, tag.config_digest or "—")
        self.kind.setText(tag.kind.value + (f" ({tag.artifact_type})" if tag.artifact_type else ""))
        self.size_label.setText(
            f"{human_size(tag.size)}  ({tag.size:,} bytes)" if tag.size is not None else "unknown"
        )
        self.created.setText(exact_time(tag.created))
        if tag.pulled is not None:
            self.pulled.setText(f"{exact_time(tag.pulled)} ({relative_time(tag.pulled)})")
        self._form.setRowVisible(self.pulled, tag.pulled is not None)
        self.platforms.clear()
        for p in tag.platforms:
            item = QTreeWidgetItem([p.label, human_size(p.size), short_digest(p.digest)])
            item.setToolTip(2, p.digest)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.platforms.addTopLevelItem(item)
        self.layers.clear()
        self.config.setPlainText("")
        self.manifest.setPlainText("")
        self.referrers.clear()
        if tag.error:
            self.show_error(f"Could not read this tag: {tag.error}")
        else:
            self.status.hide()
        # kept when the details arrive (they replace the "Reading…" line, not this one)
        self._shared_note = (
            "Same manifest as: " + ", ".join(shared_with[:12]) if shared_with else ""
        )
        if self._shared_note and not tag.error:
            self.status.setText(self._shared_note)
            self.status.show()

    def show_loading(self) -> int:
        """ "Reading…" until the read answers; the token names this read for end_reading."""
        self._reading += 1
        self._waiting = True
        self.status.setText("Reading manifest and config…")
        self.status.show()
        return self._reading

    def end_reading(self, token: int, text: str) -> None:
        """Read `token` ended: if the pane still waits for it (nothing arrived, no newer read,
        not cleared), `text` replaces "Reading…" — a read dropped or failed never leaves the
        pane reading for good."""
        if token == self._reading and self._waiting:
            self.show_error(text)

    def show_error(self, text: str) -> None:
        self._waiting = False
        self.status.setText(text)
        self.status.show()

    def show_details(self, details: TagDetails) -> None:
        if self.current is None or details.tag != self.current.tag:
            return  # an answer for a tag that is no longer shown
        self._waiting = False
        lines = [*details.notes, self._shared_note] if self._shared_note else details.notes
        self.status.setVisible(bool(lines))
        self.status.setText(" ".join(lines))
        self.layers.clear()
        for layer in details.layers:
            item = QTreeWidgetItem(
                [short_digest(layer.digest, 16), human_size(layer.size), layer.media_type]
            )
            item.setToolTip(0, layer.digest)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.layers.addTopLevelItem(item)
        self.tabs.setTabText(1, f"Layers ({len(details.layers)})")
        for tree in (self.layers,):
            tree.setToolTip(
                f"Layers of the {details.platform_shown} image of this index"
                if details.platform_shown
                else ""
            )
        self.config.setPlainText(config_text(details.config))
        self.manifest.setPlainText(pretty_json(details.manifest_json))
        self.referrers.clear()
        for ref in details.referrers:
            label = ref.annotations.get("org.opencontainers.image.title", "") or short_digest(
                ref.digest, 16
            )
            full = ref.artifact_type or ref.media_type
            # the Type column is narrow: "application/v…" could not tell a signature from an
            # SBOM; the kind in one word, the whole type in the tooltip
            item = QTreeWidgetItem([label, referrer_kind(full), human_size(ref.size)])
            item.setToolTip(0, ref.digest)
            named = friendly_artifact_type(full)
            item.setToolTip(1, f"{named} ({full})" if named != full else full)
            self.referrers.addTopLevelItem(item)
        if not details.referrers:  # an empty list looked like "still loading" or broken
            none = QTreeWidgetItem(["No referrers"])  # the long form was cut off
            none.setToolTip(0, "No signature, SBOM or attestation refers to this manifest.")
            none.setFlags(Qt.ItemFlag.NoItemFlags)
            none.setFirstColumnSpanned(True)
            self.referrers.addTopLevelItem(none)
        self.tabs.setTabText(
            4, f"Referrers ({len(details.referrers)})" if details.referrers else "Referrers"
        )


def pretty_json(data: bytes) -> str:
    if not data:
        return ""
    try:
        return json.dumps(json.loads(data), indent=2, ensure_ascii=False)
    except ValueError:
        return data.decode("utf-8", "replace")


def config_text(config: ImageConfig | None) -> str:
    if config is None:
        return "No image config (an index or another kind of artifact)."
    lines: list[str] = []
    if config.created:
        lines.append(f"Created      {exact_time(config.created)}")
    if config.platform:
        plat = f"{config.platform.os}/{config.platform.architecture}"
        lines.append(
            f"Platform     {plat}{'/' + config.platform.variant if config.platform.variant else ''}"
        )
    if config.entrypoint:
        lines.append(f"Entrypoint   {json.dumps(list(config.entrypoint))}")
    if config.cmd:
        lines.append(f"Cmd          {json.dumps(list(config.cmd))}")
    if config.working_dir:
        lines.append(f"WorkingDir   {config.working_dir}")
    if config.user:
        lines.append(f"User         {config.user}")
    if config.exposed_ports:
        lines.append(f"Ports        {', '.join(config.exposed_ports)}")
    if config.env:
        lines.append("\nEnvironment")
        lines.extend(f"  {e}" for e in config.env)
    if config.labels:
        lines.append("\nLabels")
        lines.extend(f"  {k} = {v}" for k, v in sorted(config.labels.items()))
    if config.history:
        lines.append("\nHistory")
        for h in config.history:
            when = h.created.strftime("%Y-%m-%d") if h.created else "          "
            mark = "  (no layer)" if h.empty_layer else ""
            lines.append(f"  {when}  {h.created_by.strip()}{mark}")
    return "\n".join(lines)
