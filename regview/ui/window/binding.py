"""What a page of the main window shows: the registry, the session generation, the request.

    Binding(page, profile, generation, request, repository="", scope="")
    PageBinding(page, generation)     owned by one page; generation(profile) -> int
        bind(profile, repository="", scope="") -> Binding   a new request
        current -> Binding | None         what the page shows now (None: nothing)
        holds(binding) -> bool            still what the page shows, through the same session?
        shows(profile) -> bool            the page shows `profile` (its current binding holds)
        unbind(profile) -> bool           the page showed `profile` and now shows nothing

A page is bound when it is asked to show something (a registry's repositories, a repository's
tags, a storage overview). Every load carries the binding it was started for and touches the page
only while `holds(binding)`: a late answer for another registry, an older request, or a session
that was since replaced (its generation changed) is dropped instead of being shown under the
wrong name. Actions (delete, cleanup policy, copy link) take their registry and repository from
the binding of the page they were started on, never from a window-wide "current" attribute.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

PAGE_WELCOME, PAGE_REPOS, PAGE_TAGS, PAGE_OVERVIEW = range(4)  # the window's pages, in order

_requests = itertools.count(1)


@dataclass(frozen=True)
class Binding:
    page: int
    profile: str
    generation: int  # SessionManager.generation(profile) when bound
    request: int  # unique per bind: a newer request for the same thing is a different binding
    repository: str = ""
    scope: str = ""


class PageBinding:
    def __init__(self, page: int, generation: Callable[[str], int]) -> None:
        self.page = page
        self._generation = generation
        self.current: Binding | None = None

    def bind(self, profile: str, repository: str = "", scope: str = "") -> Binding:
        self.current = Binding(
            self.page, profile, self._generation(profile), next(_requests), repository, scope
        )
        return self.current

    def holds(self, binding: Binding) -> bool:
        return self.current is binding and binding.generation == self._generation(binding.profile)

    def shows(self, profile: str) -> bool:
        current = self.current
        return current is not None and current.profile == profile and self.holds(current)

    def unbind(self, profile: str) -> bool:
        if self.current is None or self.current.profile != profile:
            return False
        self.current = None
        return True
