"""Which tags GitLab's cleanup deletes, cleanup-policy validation, and the policy runner.

`tags_to_delete` is the one rule both the bulk-delete API and cleanup policies use, in GitLab's
order (`CleanupTagsService`):

1. `latest` is never deleted;
2. a tag is a candidate if its name matches `name_regex_delete` and not `name_regex_keep`
   (RE2 semantics, anchored as GitLab does: `\\A` + pattern + `\\z`, no group);
3. `keep_n`: the n newest candidates are kept (tags of unknown date count as newest);
4. `older_than`: only candidates created before now − older_than are deleted (unknown date: kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import re2

from regview.log import get_logger

log = get_logger("server.gitlab.policy")

CADENCES: dict[str, timedelta] = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
    "1month": timedelta(days=30),
    "3month": timedelta(days=90),
}
KEEP_N_VALUES = (1, 5, 10, 25, 50, 100)
OLDER_THAN_VALUES = ("7d", "14d", "30d", "90d")

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False

_DURATION = re.compile(r"^\s*(\d+)\s*([a-z]+)\s*$")
_UNITS: dict[str, timedelta] = {}
for _names, _delta in (
    (("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    (("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    (("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    (("d", "day", "days"), timedelta(days=1)),
    (("w", "wk", "week", "weeks"), timedelta(weeks=1)),
    (("mo", "month", "months"), timedelta(days=30)),
    (("y", "yr", "year", "years"), timedelta(days=365)),
):
    for _n in _names:
        _UNITS[_n] = _delta


class InvalidRule(ValueError):
    """A regex or duration GitLab would refuse; the message names the field."""


def anchored(pattern: str, field: str = "name_regex") -> Any:
    """Compile `pattern` with RE2 semantics, anchored at both ends as GitLab does."""
    try:
        # GitLab: UntrustedRegexp.new("\\A#{regex}\\z"); no group, so 'a|b' anchors only the ends.
        return re2.compile(r"\A" + pattern + r"\z", options=_RE2_OPTIONS)
    except re2.error as exc:
        raise InvalidRule(f"{field} is an invalid regexp") from exc


def parse_duration(text: str, field: str = "older_than") -> timedelta:
    """GitLab's durations (`1h`, `7d`, `1month`, `2 weeks`)."""
    m = _DURATION.match(text.lower())
    if not m or m.group(2) not in _UNITS:
        raise InvalidRule(f"{field} is not a duration like 1h, 7d or 1month")
    try:
        return int(m.group(1)) * _UNITS[m.group(2)]
    except OverflowError:  # past timedelta's 999999999 days
        raise InvalidRule(f"{field} is longer than any image has existed") from None


@dataclass(frozen=True, slots=True)
class CleanupRules:
    name_regex_delete: str
    name_regex_keep: str | None = None
    keep_n: int | None = None
    older_than: str | None = None

    def check(self) -> None:
        """Raise InvalidRule for what GitLab's API would answer 400 to."""
        anchored(self.name_regex_delete, "name_regex_delete")
        if self.name_regex_keep:
            anchored(self.name_regex_keep, "name_regex_keep")
        if self.keep_n is not None and self.keep_n < 0:
            raise InvalidRule("keep_n must be a positive number")
        if self.older_than:
            parse_duration(self.older_than)


def tags_to_delete(
    tags: Sequence[tuple[str, datetime | None]], rules: CleanupRules, now: datetime
) -> list[str]:
    """Names of the tags the rules delete, newest first. `tags` is (name, created)."""
    delete_re = anchored(rules.name_regex_delete, "name_regex_delete")
    keep_re = anchored(rules.name_regex_keep, "name_regex_keep") if rules.name_regex_keep else None
    candidates = [
        (name, created)
        for name, created in tags
        if name != "latest"
        and delete_re.search(name) is not None
        and (keep_re is None or keep_re.search(name) is None)
    ]
    # newest first; unknown dates sort as "now" (GitLab: `tag.created_at || now`), ties by name
    candidates.sort(key=lambda t: (t[1] or now, t[0]), reverse=True)
    if rules.keep_n is not None:
        candidates = candidates[rules.keep_n :]
    if rules.older_than:
        try:
            limit = now - parse_duration(rules.older_than)
        except OverflowError:  # reaches before year 1: nothing is that old
            return []
        candidates = [(n, c) for n, c in candidates if c is not None and c < limit]
    return [name for name, _ in candidates]


# --- cleanup policies (project setting) --------------------------------------------------------


def validate_policy(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `container_expiration_policy_attributes` to a policy; returns the new policy or
    raises ValueError whose args[0] maps `container_expiration_policy.<field>` to messages."""
    policy = dict(current)
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        field = "name_regex" if key == "name_regex_delete" else key
        problem: str | None = None
        if field == "cadence":
            if not isinstance(value, str) or value not in CADENCES:
                problem = "is not included in the list"
        elif field == "keep_n":
            if value is not None and (
                isinstance(value, bool) or _int_or_none(value) not in KEEP_N_VALUES
            ):
                problem = "is not included in the list"
            else:
                value = _int_or_none(value)
        elif field == "older_than":
            if value is not None and (not isinstance(value, str) or value not in OLDER_THAN_VALUES):
                problem = "is not included in the list"
        elif field == "enabled":
            if isinstance(value, str) and value.lower() in ("true", "false"):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                problem = "is not a boolean"
        elif field in ("name_regex", "name_regex_keep"):
            if value is not None and not isinstance(value, str):
                problem = "is not a string"
            elif value:
                try:
                    anchored(value, field)
                except InvalidRule:
                    problem = "not valid RE2 syntax"
        else:
            problem = "is not a cleanup policy setting"
        if problem:
            errors.setdefault(f"container_expiration_policy.{field}", []).append(problem)
        else:
            policy[field] = value
    if errors:
        raise ValueError(errors)
    return policy


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e999 is infinity
        return None


def next_run_after(policy: dict[str, Any], when: datetime) -> datetime:
    return when + CADENCES.get(str(policy.get("cadence")), CADENCES["1d"])


def policy_rules(policy: dict[str, Any]) -> CleanupRules:
    return CleanupRules(
        name_regex_delete=policy.get("name_regex") or "",
        name_regex_keep=policy.get("name_regex_keep") or None,
        keep_n=policy.get("keep_n"),
        older_than=policy.get("older_than"),
    )


class PolicyRunner:
    """Runs due cleanup policies every `interval` seconds (GitLab's cron worker).

    `run_due` is synchronous (it calls the store and the registry); `run_forever` is the
    background task the server owns and cancels on shutdown.
    """

    def __init__(self, run_due: Callable[[datetime], int], interval: float = 60.0) -> None:
        self._run_due = run_due
        self.interval = interval

    async def run_forever(self) -> None:
        while True:
            try:
                now = datetime.now(UTC)
                await anyio.to_thread.run_sync(self._run_due, now)
            except Exception:  # a policy bug must not stop the server; logged with traceback
                log.exception("running cleanup policies failed")
            await asyncio.sleep(self.interval)

    @contextlib.asynccontextmanager
    async def running(self) -> Any:
        task = asyncio.create_task(self.run_forever(), name="gitlab-cleanup-policies")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
