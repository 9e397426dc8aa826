"""What each page of the main window shows: the registry, the session generation, the request.

    Binding(page, profile, generation, request, repository="", scope="")
    Bindings()
        bind(page, profile, generation, repository="", scope="") -> Binding   a new request
        of(page) -> Binding | None        what the page shows now (None: nothing)
        holds(binding) -> bool            is this still what its page shows?
        unbind(profile) -> list[int]      the pages that showed `profile`, now showing nothing

A page is bound when it is asked to show something (a registry's repositories, a repository's
tags, a storage overview). Every load carries the binding it was started for and touches the page
only while `holds(binding)`: a late answer for another registry, an older request, or a session
that was since replaced (its generation changed) is dropped instead of being shown under the
wrong name. Actions (delete, cleanup policy, copy link) take their registry and repository from
the binding of the page they were started on, never from a window-wide "current" attribute.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    page: int
    profile: str
    generation: int  # SessionManager.generation(profile) when bound
    request: int  # unique per bind: a newer request for the same thing is a different binding
    repository: str = ""
    scope: str = ""


class Bindings:
    def __init__(self) -> None:
        self._by_page: dict[int, Binding] = {}
        self._requests = itertools.count(1)

    def bind(
        self, page: int, profile: str, generation: int, repository: str = "", scope: str = ""
    ) -> Binding:
        binding = Binding(page, profile, generation, next(self._requests), repository, scope)
        self._by_page[page] = binding
        return binding

    def of(self, page: int) -> Binding | None:
        return self._by_page.get(page)

    def holds(self, binding: Binding) -> bool:
        return self._by_page.get(binding.page) is binding

    def unbind(self, profile: str) -> list[int]:
        pages = [page for page, b in self._by_page.items() if b.profile == profile]
        for page in pages:
            del self._by_page[page]
        return pages
