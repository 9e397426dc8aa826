"""Cleanup policies with GitLab's semantics, plus regview's own keep rules, and their preview.

GitLab (`container_expiration_policy`, bulk tag delete) decides per tag, keep rules first:

1. `latest` is never deleted;
2. a tag must match `name_regex_delete` and must not match `name_regex_keep`;
3. of the tags still candidates, the `keep_n` newest (by creation time; unknown time counts as
   newest) are kept;
4. of the rest, only tags created before now − `older_than` are deleted (unknown time: kept).

Regexes are RE2 (no lookarounds, no backreferences) anchored exactly as GitLab anchors them,
`\\A` + pattern + `\\z` with no group around the pattern (GitLab's
`UntrustedRegexp.new("\\A#{regex}\\z")`), so the preview predicts what GitLab will do with
the same policy; a top-level `|` gets a warning, since it anchors only the outer alternatives. regview adds: protected tags (names or a regex), a keep-list of references
in use (`host/path:tag`, `path@sha256:…`: the tags and digests named are kept), and optionally
untagged manifests that no kept tag, tagged index or kept referrer reaches.

`preview()` is pure (the clock is a parameter) and lists every tag as delete or keep with its
reason; `PolicyPreview.selection()` feeds the planner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import re2  # type: ignore[import-untyped]

from regview.core.deletion.plan import ManifestFacts, Selection
from regview.core.frees import TagSpace, untagged_bytes
from regview.core.model import ReferrerInfo, TagInfo

LATEST = "latest"
#: Values GitLab's policy form offers; `parse_age` accepts any `<n><unit>`.
GITLAB_OLDER_THAN = ("7d", "14d", "30d", "90d")
GITLAB_KEEP_N = (1, 5, 10, 25, 50, 100)
#: GitLab's own defaults for a new cleanup policy (keep the 10 newest; remove only tags older
#: than 90 days): where nothing is saved, an editor starts from these — not from "everything
#: but latest", which a first preview would show as almost every tag going.
GITLAB_DEFAULT_KEEP_N = 10
GITLAB_DEFAULT_OLDER_THAN = "90d"

_UNITS: dict[str, timedelta] = {
    "s": timedelta(seconds=1),
    "sec": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "hour": timedelta(hours=1),
    "d": timedelta(days=1),
    "day": timedelta(days=1),
    "w": timedelta(weeks=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "mo": timedelta(days=30),
    "y": timedelta(days=365),
    "year": timedelta(days=365),
}
#: the longest --older-than accepted: beyond it `now - age` leaves the calendar (year 1)
MAX_AGE = timedelta(days=365_250)
_AGE = re.compile(r"^\s*(\d+)\s*([a-z]+?)s?\s*$")


class PolicyError(ValueError):
    """A policy cannot be used as written; the message names the field and what is wrong."""


def parse_age(text: str) -> timedelta:
    """`1h`, `7d`, `14d`, `30d`, `90d`, `1month`, `3months`, `2w`, `1y` → timedelta."""
    m = _AGE.match(text.lower())
    if not m or m.group(2) not in _UNITS:
        raise PolicyError(
            f"older-than {text!r} is not an age: use a number and a unit, like 1h, 7d, 14d, "
            "30d, 90d or 1month"
        )
    try:
        age = int(m.group(1)) * _UNITS[m.group(2)]
    except OverflowError:
        age = MAX_AGE + _UNITS["s"]
    if age > MAX_AGE:
        # "now minus the age" must still be a date; nothing real is that old anyway
        raise PolicyError(
            f"older-than {text!r} is longer than 1000 years: use a real age, like 30d or 1y"
        )
    return age


def _top_level_alternation(pattern: str) -> bool:
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


def compile_anchored(pattern: str, what: str, *, gitlab: bool = True) -> Any:
    """Compile `pattern` with RE2, anchored; a clear PolicyError otherwise.

    GitLab's own rules are anchored as GitLab does (`\\A` + pattern + `\\z`, no group);
    regview's own rules (`gitlab=False`) are grouped, so they always match whole names.
    """
    options = re2.Options()
    options.log_errors = False
    anchored = rf"\A{pattern}\z" if gitlab else rf"\A(?:{pattern})\z"
    try:
        return re2.compile(anchored, options)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else exc
        complaint = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
        hint = ""
        if re.search(r"\(\?<?[=!]|\\[1-9]|\(\?P=", pattern):
            hint = (
                " RE2 (the engine GitLab uses) has no lookahead/lookbehind and no "
                "backreferences; express the rule with a keep pattern instead."
            )
        raise PolicyError(
            f"{what} '{pattern}' is not a valid RE2 regex: {complaint}.{hint}"
        ) from exc


def matches(compiled: Any, name: str) -> bool:
    """Whether an anchored pattern (`compile_anchored`) matches `name`. Asked with the name's
    UTF-8 bytes: RE2 matches in UTF-8 either way, and the wrapper's str path (converting match
    offsets back to characters) costs ~2.5× as much — a preview asks it of every tag. (A lone
    surrogate, which only a broken listing could hold, is passed through, not raised on.)"""
    return compiled.search(name.encode(errors="surrogatepass")) is not None


@dataclass(frozen=True, slots=True)
class KeepList:
    """References in use (from a deployment, a compose file, a paste): never delete these."""

    tags: Mapping[str, str] = field(default_factory=dict)  # tag → the line that names it
    digests: Mapping[str, str] = field(default_factory=dict)  # digest → line
    ignored: tuple[str, ...] = ()  # lines for other repositories, or unreadable


def parse_keep_list(text: str, repository: str) -> KeepList:
    """Lines like `host/group/app:v1`, `group/app@sha256:…`, `app:v1@sha256:…`; `#` comments.

    Only lines naming `repository` (with or without a registry host in front) count.
    """
    tags: dict[str, str] = {}
    digests: dict[str, str] = {}
    ignored: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        # a line may be a bit of YAML/compose: `image: host/app:v1`
        line = line.split()[-1].strip("'\"")
        name, _, digest = line.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = ""
        if ":" in last:
            name, tag = name.rsplit(":", 1)
        if not (name == repository or name.endswith("/" + repository)):
            ignored.append(raw.strip())
            continue
        if digest:
            digests[digest] = raw.strip()
        if tag:
            tags[tag] = raw.strip()
        if not tag and not digest:
            ignored.append(raw.strip())
    return KeepList(tags, digests, tuple(ignored))


@dataclass(frozen=True, slots=True)
class Policy:
    name_regex_delete: str
    name_regex_keep: str = ""
    keep_n: int | None = None
    older_than: str = ""
    protected: tuple[str, ...] = ()
    protected_regex: str = ""
    keep_list: KeepList = KeepList()
    delete_untagged: bool = False

    def validate(self) -> None:
        """Raise PolicyError for anything GitLab or RE2 would refuse."""
        if not self.name_regex_delete:
            raise PolicyError(
                "a delete pattern (name_regex_delete) is required; use '.*' to consider every tag"
            )
        compile_anchored(self.name_regex_delete, "delete pattern")
        if self.name_regex_keep:
            compile_anchored(self.name_regex_keep, "keep pattern")
        if self.protected_regex:
            compile_anchored(self.protected_regex, "protected-tags pattern")
        if self.keep_n is not None and self.keep_n < 0:
            raise PolicyError(f"keep-n must be zero or more, not {self.keep_n}")
        if self.older_than:
            parse_age(self.older_than)

    def to_gitlab(self) -> dict[str, Any]:
        """`container_expiration_policy_attributes` (GitLab keeps only its own fields)."""
        out: dict[str, Any] = {"name_regex": self.name_regex_delete}
        if self.name_regex_keep:
            out["name_regex_keep"] = self.name_regex_keep
        if self.keep_n is not None:
            out["keep_n"] = self.keep_n
        if self.older_than:
            out["older_than"] = self.older_than
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    tag: str
    delete: bool
    reason: str
    digest: str = ""
    created: datetime | None = None
    size: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PolicyPreview:
    delete: tuple[Decision, ...]
    keep: tuple[Decision, ...]
    untagged: tuple[tuple[str, str], ...] = ()  # (digest, reason) of untagged manifests to go
    reclaimable_bytes: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return {"delete": len(self.delete), "keep": len(self.keep), "untagged": len(self.untagged)}

    def selection(self) -> Selection:
        return Selection(
            tags=frozenset(d.tag for d in self.delete),
            untagged=frozenset(d for d, _ in self.untagged),
            reasons={d.tag: d.reason for d in self.delete},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "delete": [d.to_json() for d in self.delete],
            "keep": [d.to_json() for d in self.keep],
            "untagged": [{"digest": d, "reason": r} for d, r in self.untagged],
            "reclaimable_bytes": self.reclaimable_bytes,
            "warnings": list(self.warnings),
        }


def _age_text(age: timedelta) -> str:
    if age % timedelta(days=1) == timedelta(0):
        return f"{age.days}d"
    return f"{int(age.total_seconds() // 3600)}h"


def preview(
    policy: Policy,
    tags: Iterable[TagInfo],
    now: datetime,
    *,
    manifests: Mapping[str, ManifestFacts] | None = None,
    referrers: Mapping[str, tuple[ReferrerInfo, ...]] | None = None,
    space: TagSpace | None = None,
) -> PolicyPreview:
    """Every tag as delete or keep, with the reason; see the module docstring for the order.

    `space`: the snapshot of these same tags (`TagSpace.of(tags)`) when the caller keeps one —
    for 100,000 tags it is most of a preview's time, and an editor previews each change."""
    policy.validate()
    delete_re = compile_anchored(policy.name_regex_delete, "delete pattern")
    keep_re = (
        compile_anchored(policy.name_regex_keep, "keep pattern") if policy.name_regex_keep else None
    )
    protect_re = (
        compile_anchored(policy.protected_regex, "protected-tags pattern", gitlab=False)
        if policy.protected_regex
        else None
    )
    protected = set(policy.protected)
    keep_list = policy.keep_list
    warnings: list[str] = []
    for what, pattern in (("delete", policy.name_regex_delete), ("keep", policy.name_regex_keep)):
        if pattern and _top_level_alternation(pattern):
            warnings.append(
                f"The {what} pattern '{pattern}' has a top-level '|': GitLab (and this preview) "
                f"anchor it as \\A{pattern}\\z, which anchors only the first and last "
                f"alternative. Write ({pattern}) to match whole names."
            )

    all_tags = list(tags)
    keep: list[Decision] = []
    candidates: list[TagInfo] = []

    def kept(t: TagInfo, reason: str) -> None:
        keep.append(Decision(t.tag, False, reason, t.digest, t.created, t.size))

    for t in all_tags:
        if t.tag == LATEST:
            kept(t, "'latest' is never deleted")
        elif t.tag in protected or (protect_re is not None and matches(protect_re, t.tag)):
            kept(t, "protected tag")
        elif t.tag in keep_list.tags:
            kept(t, f"in use: {keep_list.tags[t.tag]}")
        elif t.digest and t.digest in keep_list.digests:
            kept(t, f"its digest is in use: {keep_list.digests[t.digest]}")
        elif not matches(delete_re, t.tag):
            kept(t, f"does not match the delete pattern '{policy.name_regex_delete}'")
        elif keep_re is not None and matches(keep_re, t.tag):
            kept(t, f"matches the keep pattern '{policy.name_regex_keep}'")
        else:
            candidates.append(t)

    # Newest first; GitLab counts an unknown creation time as "now" (newest).
    candidates.sort(key=lambda t: (t.created or now, t.tag), reverse=True)
    if policy.keep_n is not None:
        for t in candidates[: policy.keep_n]:
            kept(t, f"one of the {policy.keep_n} newest matching tags")
        candidates = candidates[policy.keep_n :]
    deleted: list[Decision] = []
    age = parse_age(policy.older_than) if policy.older_than else None
    because = f"matches '{policy.name_regex_delete}'"  # the same for every tag: built once
    if policy.name_regex_keep:
        because += f", not '{policy.name_regex_keep}'"
    if policy.keep_n is not None:
        because += f", beyond the {policy.keep_n} newest"
    for t in candidates:
        reason = because
        if age is not None:
            if t.created is None:
                kept(t, "creation time unknown, so it cannot be older than " + policy.older_than)
                continue
            if t.created >= now - age:
                kept(t, f"newer than {policy.older_than} (created {t.created:%Y-%m-%d %H:%M})")
                continue
            reason += f", older than {_age_text(age)} (created {t.created:%Y-%m-%d})"
        deleted.append(Decision(t.tag, True, reason, t.digest, t.created, t.size))

    deleted_names = {d.tag for d in deleted}
    # The figure the tags table's "Frees" and the delete plan give for the same tags.
    if space is None:
        space = TagSpace.of(all_tags)
    freed = space.freed_bytes(deleted_names)

    untagged: list[tuple[str, str]] = []
    if policy.delete_untagged and manifests is not None:
        untagged = _untagged(all_tags, deleted_names, manifests, referrers or {}, keep_list)
        # ... plus what only the untagged manifests it deletes hold (as the planner counts it)
        freed += untagged_bytes(space, {d: manifests[d].blobs for d, _ in untagged})
    order = {t.tag: i for i, t in enumerate(all_tags)}
    keep.sort(key=lambda d: order[d.tag])
    deleted.sort(key=lambda d: order[d.tag])
    return PolicyPreview(tuple(deleted), tuple(keep), tuple(untagged), freed, tuple(warnings))


def _untagged(
    tags: list[TagInfo],
    deleted: set[str],
    manifests: Mapping[str, ManifestFacts],
    referrers: Mapping[str, tuple[ReferrerInfo, ...]],
    keep_list: KeepList,
) -> list[tuple[str, str]]:
    """Untagged manifests that nothing kept reaches (children, referrers, subjects)."""
    tagged = {t.digest for t in tags if t.digest}
    children: dict[str, tuple[str, ...]] = {d: m.children for d, m in manifests.items()}
    for t in tags:
        if t.child_digests:
            children.setdefault(t.digest, t.child_digests)
    refs: dict[str, list[str]] = {s: [r.digest for r in rs] for s, rs in referrers.items()}
    subject = {d: m.subject for d, m in manifests.items() if m.subject}
    for d, s in subject.items():
        refs.setdefault(s, [])
        if d not in refs[s]:
            refs[s].append(d)
    roots = {t.digest for t in tags if t.digest and t.tag not in deleted} | set(keep_list.digests)
    reach: set[str] = set()
    stack = list(roots)
    while stack:
        d = stack.pop()
        if d in reach:
            continue
        reach.add(d)
        stack.extend(children.get(d, ()))
        stack.extend(refs.get(d, ()))
        if d in subject:
            stack.append(subject[d])  # a kept referrer keeps its subject
    out = []
    for d in sorted(manifests):
        if d in reach or d in tagged:
            continue
        out.append(
            (d, "untagged and not referenced by any kept tag, tagged index or kept referrer")
        )
    return out
