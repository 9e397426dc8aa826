"""The client's listings: the `/v2/` check, the repository catalog and a repository's tags.

await c.ping() -> httpx.Headers                         GET /v2/
async for page in c.iter_repositories("group"): ...     catalog pages (CatalogRefused)
await c.list_tags(repo) -> list[str]                    Link paging, `tags: null` ok
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from regview.core import errors as E
from regview.core.client_http import RegistryHttp
from regview.core.pagination import PageGuard, next_link
from regview.spec.errors import ErrorCode

_JSON = {"Accept": "application/json"}


class ListingCalls(RegistryHttp):
    async def ping(self) -> httpx.Headers:
        response, body = await self.send("GET", "v2/", what="the registry check (/v2/)")
        if E.looks_like_html(body, response.headers.get("Content-Type", "")):
            raise E.NotARegistry(f"{self.registry}: {E.HTML_HINT}", registry=self.registry)
        return response.headers

    async def iter_repositories(self, namespace: str = "") -> AsyncIterator[list[str]]:
        prefix = namespace.strip("/") + "/" if namespace.strip("/") else ""
        url: httpx.URL | None = self.url("v2/_catalog").copy_merge_params({"n": 1000})
        guard = PageGuard(self.registry, "repository catalog")
        while url is not None:
            guard.check(url)
            try:
                response, body = await self.send(
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
            obj = self._json(body, "the repository catalog")
            repos = obj.get("repositories") if isinstance(obj, dict) else None
            names = [r for r in repos or [] if isinstance(r, str) and r.startswith(prefix)]
            if names:
                yield names
            url = next_link(response)

    def _catalog_refused(self, exc: E.ResponseError) -> E.CatalogRefused:
        gitlab = self.endpoint.kind == "gitlab" or "gitlab" in self.registry
        hint = (
            "GitLab only lets administrators list the whole registry: add the GitLab API "
            "address in the registry's settings to list a project's or group's repositories, "
            "or type the repository paths in"
            if gitlab
            else "this registry does not let this account list its repositories; type the "
            "repository paths in, or use an account allowed to read the catalog"
        )
        return E.CatalogRefused(
            f"{self.registry}: the repository catalog was refused (HTTP {exc.status}): {hint}",
            registry=self.registry,
            status=exc.status,
            errors=exc.errors,
        )

    async def list_tags(self, repository: str) -> list[str]:
        url: httpx.URL | None = self.url(f"v2/{repository}/tags/list")
        guard = PageGuard(self.registry, f"tag list of {repository}")
        tags: list[str] = []
        what = f"the tag list of {repository}"
        while url is not None:
            guard.check(url)
            response, body = await self.send("GET", url, what=what, headers=_JSON, cap=64 << 20)
            obj = self._json(body, what)
            page = obj.get("tags") if isinstance(obj, dict) else None
            tags.extend(t for t in page or [] if isinstance(t, str))
            url = next_link(response)
        return tags
