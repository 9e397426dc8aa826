"""The client's listings: the `/v2/` check, the repository catalog and a repository's tags.

await c.ping() -> httpx.Headers                         GET /v2/
async for page in c.iter_repositories("group"): ...     catalog pages (CatalogRefused)
await c.list_tags(repo) -> list[str]                    Link paging, `tags: null` ok
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from regview.core import errors as E
from regview.core.client.http import RegistryHttp
from regview.core.client.pagination import PageGuard, next_link
from regview.spec.errors import ErrorCode

_JSON = {"Accept": "application/json"}


class ListingCalls:
    """Catalog and tag-list paging, over one request path."""

    def __init__(self, http: RegistryHttp) -> None:
        self._http = http
        # Repositories whose tag list was answered without the registry asking for
        # credentials: their manifests need the same pull scope, so reading them will not be
        # challenged either (inventory fans out at once instead of sending one read alone).
        self.open_repositories: set[str] = set()

    async def ping(self) -> httpx.Headers:
        response, body = await self._http.send("GET", "v2/", what="the registry check (/v2/)")
        if E.looks_like_html(body, response.headers.get("Content-Type", "")):
            raise E.NotARegistry(
                f"{self._http.registry}: {E.HTML_HINT}", registry=self._http.registry
            )
        return response.headers

    async def iter_repositories(self, namespace: str = "") -> AsyncIterator[list[str]]:
        prefix = namespace.strip("/") + "/" if namespace.strip("/") else ""
        url: httpx.URL | None = self._http.url("v2/_catalog").copy_merge_params({"n": 1000})
        guard = PageGuard(self._http.registry, "repository catalog")
        while url is not None:
            guard.check(url)
            try:
                response, body = await self._http.send(
                    "GET", url, what="the repository catalog", headers=_JSON
                )
            except (E.AccessDenied, E.AuthenticationFailed, E.NotFound) as exc:
                if isinstance(exc, E.AuthenticationFailed):
                    # a wrong password is not a refused catalog: /v2/ says which it is
                    await self.ping()
                raise self._catalog_refused(exc) from exc
            except E.ResponseError as exc:
                if ErrorCode.PAGINATION_NUMBER_INVALID in exc.codes and url.params.get("n"):
                    url = url.copy_remove_param("n")  # the registry caps n lower: its default
                    continue
                raise
            repos = self._names(body, "the repository catalog", "repositories")
            names = [r for r in repos if r.startswith(prefix)]
            if names:
                yield names
            url = next_link(response)

    def _catalog_refused(self, exc: E.ResponseError) -> E.CatalogRefused:
        gitlab = self._http.endpoint.kind == "gitlab" or "gitlab" in self._http.registry
        hint = (
            "GitLab only lets administrators list the whole registry: add the GitLab API "
            "address in the registry's settings to list a project's or group's repositories, "
            "or type the repository paths in"
            if gitlab
            else "this registry does not let this account list its repositories; type the "
            "repository paths in, or use an account allowed to read the catalog"
        )
        return E.CatalogRefused(
            f"{self._http.registry}: the repository catalog was refused (HTTP {exc.status}): {hint}",
            registry=self._http.registry,
            status=exc.status,
            errors=exc.errors,
        )

    async def list_tags(self, repository: str) -> list[str]:
        url: httpx.URL | None = self._http.url(f"v2/{repository}/tags/list")
        guard = PageGuard(self._http.registry, f"tag list of {repository}")
        tags: list[str] = []
        what = f"the tag list of {repository}"
        while url is not None:
            guard.check(url)
            response, body = await self._http.send(
                "GET", url, what=what, headers=_JSON, cap=64 << 20
            )
            tags.extend(self._names(body, what, "tags"))
            url = next_link(response)
        if self._http.auth.challenge is None:
            self.open_repositories.add(repository)
        return tags

    def _names(self, body: bytes, what: str, key: str) -> list[str]:
        """The list of names under `key` of a listing page: `{"tags": ["v1", …]}`.

        A missing key or `null` is an empty page (registries answer `"tags": null` for a
        repository without tags). Anything else that is not a list of strings is a registry
        answering nonsense: an error in words, never a guess (iterating `"nope"` would list
        `n`, `o`, `p`, `e`)."""
        obj = self._http._json(body, what)
        if not isinstance(obj, dict):
            raise self._bad_listing(what, f"the answer is a JSON {_kind(obj)}, not an object")
        names = obj.get(key)
        if names is None:
            return []
        if not isinstance(names, list):
            raise self._bad_listing(what, f'its "{key}" is a JSON {_kind(names)}, not a list')
        for name in names:
            if not isinstance(name, str):
                raise self._bad_listing(what, f'its "{key}" holds a JSON {_kind(name)}, not a name')
        return names

    def _bad_listing(self, what: str, problem: str) -> E.ProtocolError:
        return E.ProtocolError(
            f"{self._http.registry}: {what}: {problem}; this is not a registry listing (check the "
            "address; if it is right, the registry is misbehaving: tell its operators)",
            registry=self._http.registry,
        )


def _kind(value: object) -> str:
    """The JSON type name of a decoded value, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    return "array" if isinstance(value, list) else "null"
