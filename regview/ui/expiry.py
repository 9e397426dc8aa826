"""Token expiry in the main window: the start-up warning, and a 401 explained by a known expiry.

    expiry_warning(profiles, now=None) -> Problem | None    tokens expired or expiring within
                                                            `WARN_DAYS`, for the banner at start
    explain_refusal(problem, exc, profile) -> Problem | None
                                                            a 401 on a token past its known
                                                            expiry says so, with the date and a
                                                            Replace button

The expiry comes from the last Test (`Profile.expires_at`, GitLab's `expires_at`). Plain code on
top of `errors.Problem`; the window shows what these return.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from regview.core.model import CredentialKind
from regview.services.connect import days_left
from regview.services.connect_words import expired_words
from regview.settings.profiles import Profile
from regview.ui.errors import Problem

WARN_DAYS = 7
REPLACE_ACTION = "replace"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def expiring(profiles: Iterable[Profile], now: datetime | None = None) -> list[Profile]:
    """Profiles whose token has expired or expires within `WARN_DAYS`, soonest first."""
    now = now or datetime.now(UTC)
    soon = [
        p
        for p in profiles
        if p.expires_at is not None
        and p.credential_kind != CredentialKind.ANONYMOUS
        and _aware(p.expires_at) - now <= timedelta(days=WARN_DAYS)
    ]
    return sorted(soon, key=lambda p: _aware(p.expires_at or now))


def expiry_warning(profiles: Iterable[Profile], now: datetime | None = None) -> Problem | None:
    soon = expiring(profiles, now)
    if not soon:
        return None
    now = now or datetime.now(UTC)
    listed = "; ".join(
        f"{p.name}: {days_left(_aware(p.expires_at), now)} ({p.expires_at:%Y-%m-%d})"
        for p in soon
        if p.expires_at is not None
    )
    title = (
        "A token has expired"
        if any(_aware(p.expires_at or now) <= now for p in soon)
        else ("A token expires soon")
    )
    return Problem(
        title,
        listed,
        "Create a new token on the registry and store it with Manage tokens → Replace.",
        "tokens",
    )


def explain_refusal(
    problem: Problem | None, exc: BaseException, profile: Profile | None
) -> Problem | None:
    """`problem` (from `errors.describe`), told as an expired token when that is why."""
    if problem is None or profile is None:
        return problem
    words = expired_words(profile, exc)
    if not words:
        return problem
    return Problem("The token has expired", words, "", REPLACE_ACTION)
