"""The registries the window knows (profiles as last read), and a load's failure in words.

Registries()
    read -> bool                     the profiles were read at least once
    set(profiles) ; get(name) -> Profile | None ; hand_added(name) -> list[str]
    await attempt(aw, name) -> result | Problem   an environment failure as words; a bug raises
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import TypeVar

from regview.settings.profiles import Profile
from regview.ui.errors import Problem, describe
from regview.ui.expiry import explain_refusal

T = TypeVar("T")


class Registries:
    def __init__(self) -> None:
        self.read = False
        self.by_name: dict[str, Profile] = {}

    def set(self, profiles: Iterable[Profile]) -> None:
        self.by_name = {p.name: p for p in profiles}
        self.read = True

    def put(self, profile: Profile) -> None:
        """A profile as saved again (its paths, its CA file)."""
        self.by_name[profile.name] = profile

    def get(self, name: str) -> Profile | None:
        return self.by_name.get(name)

    def hand_added(self, name: str) -> list[str]:
        profile = self.by_name.get(name)
        return list(profile.repositories) if profile is not None else []

    async def attempt(self, aw: Awaitable[T], name: str) -> T | Problem:
        """The result of `aw`, or the words for the environment failure it ran into (network,
        auth, registry refusal — an expired token of registry `name` told as such); any other
        exception is a bug and raises."""
        try:
            return await aw
        except Exception as exc:
            problem = explain_refusal(describe(exc), exc, self.by_name.get(name))
            if problem is None:
                raise
            return problem
