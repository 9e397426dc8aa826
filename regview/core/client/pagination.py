"""`Link: <url>; rel="next"` paging, shared by the catalog, tags lists and GitLab's API.

URLs are usually relative and resolved against the URL of the request that returned them.
A page URL seen twice is a loop: it raises ProtocolError instead of spinning forever.

    next_link(response) -> httpx.URL | None
    PageGuard(registry, what).check(url)   raises ProtocolError on a repeated URL or too many pages
"""

from __future__ import annotations

import re

import httpx

from regview.core.errors import ProtocolError

MAX_PAGES = 100_000
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_REL = re.compile(r"""rel\s*=\s*"?([^";]+)"?""", re.IGNORECASE)


def parse_links(header: str) -> dict[str, str]:
    """rel → url for every entry of one or more Link headers (joined by commas)."""
    out: dict[str, str] = {}
    for m in _LINK.finditer(header):
        rel = _REL.search(m.group(2))
        if rel:
            for name in rel.group(1).split():
                out.setdefault(name.lower(), m.group(1))
    return out


def next_link(response: httpx.Response) -> httpx.URL | None:
    headers = response.headers.get_list("Link")
    if not headers:
        return None
    target = parse_links(", ".join(headers)).get("next")
    if not target:
        return None
    return response.request.url.join(target)


class PageGuard:
    def __init__(self, registry: str, what: str) -> None:
        self.registry = registry
        self.what = what
        self._seen: set[str] = set()

    def check(self, url: httpx.URL) -> None:
        key = str(url)
        if key in self._seen:
            raise ProtocolError(
                f"{self.registry}: the {self.what} pages loop back to a page already read "
                f"({url.path}); the registry's paging is broken",
                registry=self.registry,
            )
        if len(self._seen) >= MAX_PAGES:
            raise ProtocolError(
                f"{self.registry}: the {self.what} has more than {MAX_PAGES} pages; stopping",
                registry=self.registry,
            )
        self._seen.add(key)
