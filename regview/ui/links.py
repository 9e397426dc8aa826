"""Shareable views: `regview://open?...` URLs that reopen a registry, repository, filter and sort.

Format (all parameters optional except `registry`; values are percent-encoded)::

    regview://open?registry=HOST[:PORT]&repository=PATH&tag=TAG
                  &filter=TEXT&regex=1&older=DAYS&newer=DAYS&platform=OS/ARCH[/VARIANT]
                  &sort=COLUMN[-desc]&view=tags|repositories|overview

- `registry` is the registry host as the user added it (`registry.gitlab.com`,
  `127.0.0.1:5000`); the link never carries a credential, the receiving side uses its own.
  `registry=local` is regview's local test registry, whose port may change between runs.
- `sort` names a column of the tags table: tag, created, size, digest, config, platforms, type,
  shared; `-desc` sorts descending (`sort=created-desc`).
- `tag` selects that tag and shows its details.
- Unknown parameters are ignored, so newer links open in older versions.

`regview URL` (or the desktop entry's `%u`) opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

SCHEME = "regview"
SORT_COLUMNS = (
    "tag",
    "created",
    "size",
    "digest",
    "config",
    "platforms",
    "type",
    "shared",
    "frees",
)
VIEWS = ("tags", "repositories", "overview")


#: `registry=` of a link to the local test registry (its address is not stable)
LOCAL_REGISTRY = "local"


class LinkError(ValueError):
    """The text is not a regview link this version understands."""


@dataclass(frozen=True, slots=True)
class ViewLink:
    registry: str
    repository: str = ""
    tag: str = ""
    filter: str = ""
    regex: bool = False
    older_than_days: float | None = None
    newer_than_days: float | None = None
    platform: str = ""
    sort: str = ""  # one of SORT_COLUMNS, or ""
    descending: bool = False
    view: str = ""

    def to_url(self) -> str:
        params: list[tuple[str, str]] = [("registry", self.registry)]
        for key, value in (
            ("repository", self.repository),
            ("tag", self.tag),
            ("filter", self.filter),
            ("platform", self.platform),
            ("view", self.view),
        ):
            if value:
                params.append((key, value))
        if self.regex:
            params.append(("regex", "1"))
        if self.older_than_days is not None:
            params.append(("older", _num(self.older_than_days)))
        if self.newer_than_days is not None:
            params.append(("newer", _num(self.newer_than_days)))
        if self.sort:
            params.append(("sort", self.sort + ("-desc" if self.descending else "")))
        return f"{SCHEME}://open?" + urlencode(params, quote_via=quote, safe="/:")

    @property
    def sort_column(self) -> int | None:
        return SORT_COLUMNS.index(self.sort) if self.sort in SORT_COLUMNS else None


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _days(value: str, name: str) -> float | None:
    if not value:
        return None
    try:
        days = float(value)
    except ValueError as exc:
        raise LinkError(f"'{name}' must be a number of days, not {value!r}") from exc
    if days < 0:
        raise LinkError(f"'{name}' must not be negative")
    return days


def parse_link(url: str) -> ViewLink:
    parts = urlsplit(url.strip())
    if parts.scheme != SCHEME or parts.netloc != "open":
        raise LinkError(f"Not a regview link (expected {SCHEME}://open?registry=…): {url[:200]}")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    registry = query.get("registry", "").strip()
    if not registry:
        raise LinkError("The link does not name a registry (registry=…)")
    sort = query.get("sort", "")
    descending = sort.endswith("-desc")
    sort = sort.removesuffix("-desc")
    if sort and sort not in SORT_COLUMNS:
        sort, descending = "", False  # an unknown column: open unsorted rather than fail
    view = query.get("view", "")
    return ViewLink(
        registry=registry,
        repository=query.get("repository", "").strip("/"),
        tag=query.get("tag", ""),
        filter=query.get("filter", ""),
        regex=query.get("regex", "") in ("1", "true", "yes"),
        older_than_days=_days(query.get("older", ""), "older"),
        newer_than_days=_days(query.get("newer", ""), "newer"),
        platform=query.get("platform", ""),
        sort=sort,
        descending=descending,
        view=view if view in VIEWS else "",
    )
