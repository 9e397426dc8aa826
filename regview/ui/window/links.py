"""`regview://` links to a view, and the window's saved state (settings.json `ui`) as text.

ViewLinks(browser, registries, local_mode, status)
    view_link() -> ViewLink | None   the view on screen as a link ("Copy link to this view")
    copy_link() ; open_link(ViewLink)
b64(QByteArray) -> str ; unb64(text) -> QByteArray | None   saved Qt state in settings.json
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QObject
from PySide6.QtGui import QGuiApplication

from regview.settings.profiles import Profile, registry_host
from regview.ui.errors import Problem
from regview.ui.links import LOCAL_REGISTRY, SORT_COLUMNS, ViewLink
from regview.ui.local_mode import LOCAL_PROFILE, LocalMode
from regview.ui.registries import Registries
from regview.ui.window.binding import PAGE_OVERVIEW, PAGE_TAGS
from regview.ui.window.browse import Browser


def b64(data: QByteArray) -> str:
    return base64.b64encode(bytes(data.data())).decode("ascii")


def unb64(text: Any) -> QByteArray | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return QByteArray(base64.b64decode(text))
    except ValueError:
        return None


class ViewLinks(QObject):
    def __init__(
        self,
        browser: Browser,
        registries: Registries,
        local_mode: LocalMode,
        status: Callable[[str, int], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.browser, self.registries, self.local_mode = browser, registries, local_mode
        self._status = status

    def view_link(self) -> ViewLink | None:
        stack, tags = self.browser.stack, self.browser.tags
        binding = stack.view_binding()
        profile = self.registries.get(binding.profile) if binding else None
        if binding is None or profile is None:
            return None
        spec = tags.tags_view.spec()
        model = tags.tags_view.model
        on_tags = stack.current() == PAGE_TAGS
        current = tags.tags_view.current_tag() if on_tags else None
        return ViewLink(
            registry=LOCAL_REGISTRY if self._is_local(profile) else registry_host(profile.url),
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
            view="overview" if stack.current() == PAGE_OVERVIEW else "",
        )

    def _is_local(self, profile: Profile) -> bool:
        """Is `profile` the local test registry this app runs? Its port changes when the last
        one is taken: a link names it `local`, not by address."""
        local = self.local_mode
        return (
            local.running
            and profile.name == LOCAL_PROFILE
            and registry_host(profile.url) == registry_host(local.url)
        )

    def copy_link(self) -> None:
        link = self.view_link()
        if link is not None:
            QGuiApplication.clipboard().setText(link.to_url())
            self._status("Link to this view copied", 4000)

    def open_link(self, link: ViewLink) -> None:
        profiles = self.registries.by_name
        match = next((p.name for p in profiles.values() if p.answers_to(link.registry)), None)
        if match is None and link.registry in (LOCAL_REGISTRY, "localhost"):
            # the local test registry, on whatever port it runs this time
            match = next((n for n, p in profiles.items() if self._is_local(p)), None)
        browser = self.browser
        if match is None:
            browser.stack.banner.show_problem(_no_registry(link.registry))
            return
        if link.view == "overview":
            browser.show_overview(match)
        elif link.repository:
            browser.pending_link = link
            browser.open_profile(match)
            browser.open_repository(match, link.repository)
        else:
            browser.open_profile(match)


def _no_registry(host: str) -> Problem:
    if host == LOCAL_REGISTRY:
        return Problem(
            "Local test registry not running",
            "The link points at regview's local test registry, which is not running here.",
            "Start it (regview gui --local, or Local test registry on the welcome page), then "
            "open the link again.",
            "",
        )
    return Problem(
        "Registry not configured",
        f"The link points at {host}, which is not one of your registries.",
        "Add it with Add registry…, then open the link again.",
        "",
    )
