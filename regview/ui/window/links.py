"""The main window's links and saved view state: `regview://` links and settings.json `ui`.

WindowLinks (a part of MainWindow, see window.base)
    view_link() -> ViewLink | None   the view as a link ("Copy link to this view")
    copy_link() ; open_link(ViewLink)
    ui_state() -> dict               window/columns/last view; _restore_state() reads it back
"""

from __future__ import annotations

import base64
from typing import Any

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QGuiApplication

from regview.settings.profiles import registry_host
from regview.ui.errors import Problem
from regview.ui.links import SORT_COLUMNS, ViewLink
from regview.ui.models import tags_model as tm
from regview.ui.models.filtering import FilterSpec
from regview.ui.window.base import PAGE_OVERVIEW, PAGE_TAGS, WindowBase


def _b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def _unb64(text: Any) -> QByteArray | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return QByteArray(base64.b64decode(text))
    except ValueError:
        return None


class WindowLinks(WindowBase):
    def _restore_state(self) -> None:
        s = self._ui_state
        if (geo := _unb64(s.get("geometry"))) is not None:
            self.restoreGeometry(geo)
        if (state := _unb64(s.get("window_state"))) is not None:
            self.restoreState(state)
        header = self.tags_view.table.horizontalHeader()
        if (cols := _unb64(s.get("tags_columns"))) is not None:
            header.restoreState(cols)  # also the sort indicator: the model sorts the same way
        else:
            header.setSortIndicator(tm.CREATED, Qt.SortOrder.DescendingOrder)  # newest first
        for key, splitter in (("split", self.split), ("tags_split", self.tags_split)):
            if (data := _unb64(s.get(key))) is not None:
                splitter.restoreState(data)

    def ui_state(self) -> dict[str, Any]:
        link = self.view_link()
        return {
            "geometry": _b64(self.saveGeometry()),
            "window_state": _b64(self.saveState()),
            "tags_columns": _b64(self.tags_view.table.horizontalHeader().saveState()),
            "split": _b64(self.split.saveState()),
            "tags_split": _b64(self.tags_split.saveState()),
            "last_view": link.to_url() if link is not None else "",
            "theme": self.menus.theme_choice(),
        }

    def view_link(self) -> ViewLink | None:
        binding = self.view_binding()
        profile = getattr(self, "_profiles", {}).get(binding.profile) if binding else None
        if binding is None or profile is None:
            return None
        spec = self.tags_view.spec()
        model = self.tags_view.model
        on_tags = self.pages.currentIndex() == PAGE_TAGS
        current = self.tags_view.current_tag() if on_tags else None
        return ViewLink(
            registry=registry_host(profile.url),
            repository=binding.repository if on_tags else "",
            tag=current.tag if current else "",
            filter=spec.text if on_tags else "",
            regex=spec.regex and on_tags,
            older_than_days=spec.older_than_days if on_tags else None,
            newer_than_days=spec.newer_than_days if on_tags else None,
            platform=spec.platform if on_tags else "",
            sort=SORT_COLUMNS[model.sort_column]
            if on_tags and model.sort_column is not None
            else "",
            descending=model.sort_descending,
            view="overview" if self.pages.currentIndex() == PAGE_OVERVIEW else "",
        )

    def copy_link(self) -> None:
        link = self.view_link()
        if link is not None:
            QGuiApplication.clipboard().setText(link.to_url())
            self.statusBar().showMessage("Link to this view copied", 4000)

    def open_link(self, link: ViewLink) -> None:
        profiles = getattr(self, "_profiles", {})
        match = next((p.name for p in profiles.values() if p.answers_to(link.registry)), None)
        if match is None and self.local_mode.running and link.registry in ("local", "localhost"):
            match = next(iter(profiles), None)
        if match is None:
            self.banner.show_problem(_no_registry(link.registry))
            return
        if link.view == "overview":
            self.show_overview(match)
        elif link.repository:
            self._pending_link = link
            self.open_profile(match)
            self.open_repository(match, link.repository)
        else:
            self.open_profile(match)

    def _apply_link_view(self, link: ViewLink) -> None:
        self.tags_view.set_spec(
            FilterSpec(
                text=link.filter,
                regex=link.regex,
                older_than_days=link.older_than_days,
                newer_than_days=link.newer_than_days,
                platform=link.platform,
            )
        )
        if link.sort_column is not None:
            self.tags_view.sort_by(link.sort_column, link.descending)
        if link.tag:
            self.tags_view.select_tags([link.tag], current=link.tag)


def _no_registry(host: str) -> Problem:
    return Problem(
        "Registry not configured",
        f"The link points at {host}, which is not one of your registries.",
        "Add it with Add registry…, then open the link again.",
        "",
    )
