"""What the browsing pages (repositories, tags) are built from: the window's shared parts.

PageContext(controller, tasks, registries, generation)   frozen; one per main window
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from regview.ui.controllers import BrowseController
from regview.ui.registries import Registries
from regview.ui.tasks import Tasks


@dataclass(frozen=True)
class PageContext:
    controller: BrowseController  # reads through the sessions (listings, tags, details)
    tasks: Tasks  # the window's task slots, which closing the window cancels
    registries: Registries  # the registries the sidebar lists, by profile name
    generation: Callable[[str], int]  # SessionManager.generation: a binding's freshness
