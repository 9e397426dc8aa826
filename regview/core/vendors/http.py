"""The JSON-over-HTTPS plumbing every management API shares: one httpx client per API, errors
in words (`VendorAPIError`, with `temporary` and `retry_after` from `Retry-After` or the
`X-RateLimit-Reset` both Docker Hub and GitHub send), GETs retried on 429/5xx, `Link` paging.

    http = VendorHTTP(ctx, title="Docker Hub API", hints={401: "…", 403: "…"})
    response = await http.call("GET", "v2/namespaces/ns/repositories/app/tags", what="…")
    obj = http.object(response, what)
    async for page in http.link_pages(url, what=…)          GitHub-style paging

The caller sets the auth header (`http.client.headers["Authorization"] = …`); nothing secret
ever goes into a message.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from regview.core import errors as E
from regview.core.client.api_send import send_with_retry
from regview.core.client.pagination import PageGuard, next_link
from regview.core.client.transport import make_http_client
from regview.core.model import Endpoint
from regview.core.vendors.base import VendorContext
from regview.spec.errors import SpecError
from regview.spec.jsondoc import parse_json

#: a 429 is the API's ordinary way to pace a client (Docker Hub counts per minute): waited out
#: more often than a failure
MAX_ATTEMPTS_429 = 6
MAX_WAIT = 30.0


def rate_limit_wait(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After`, else from `X-RateLimit-Reset` (epoch seconds, sent
    by Docker Hub and GitHub) when `X-RateLimit-Remaining` is 0; None when neither says."""
    after = E.parse_retry_after(headers.get("Retry-After"))
    if after is not None:
        return after
    remaining, reset = headers.get("X-RateLimit-Remaining", ""), headers.get("X-RateLimit-Reset")
    if remaining.strip() == "0" and reset and reset.strip().isdigit():
        return max(0.0, float(reset) - (time.time() if now is None else now))
    return None


class VendorHTTP:
    def __init__(
        self,
        ctx: VendorContext,
        *,
        title: str,
        hints: Mapping[int, str] | None = None,
        said: Callable[[Any], str] | None = None,
    ) -> None:
        self.base = ctx.api_url.rstrip("/")
        self.host = httpx.URL(self.base).netloc.decode("ascii")
        self.title = title
        self.hints = dict(hints or {})
        self.said = said or _said
        e = ctx.endpoint
        self.client = make_http_client(
            Endpoint(self.base, insecure=e.insecure, ca_file=e.ca_file),
            transport=ctx.transport,
            concurrency=8,
        )
        self.client.headers["Accept"] = "application/json"

    async def aclose(self) -> None:
        await self.client.aclose()

    def url(self, path: str) -> httpx.URL:
        return httpx.URL(f"{self.base}/{path.lstrip('/')}")

    async def call(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        ok: tuple[int, ...] = (200,),
        headers: Mapping[str, str] | None = None,
        refused_is_scope: bool = False,
    ) -> httpx.Response:
        """`refused_is_scope`: a 403 means the credential lacks the scope or role for this
        change (`VendorScopeMissing`, which stops a deletion run)."""
        url = path if isinstance(path, httpx.URL) else self.url(path)
        response = await send_with_retry(
            self.client,
            method,
            url,
            host=self.host,
            what=what,
            ok=ok,
            params=params,
            body=body,
            headers=headers,
            attempts_429=MAX_ATTEMPTS_429,
            wait_of=rate_limit_wait,
            max_wait=MAX_WAIT,
        )
        status = response.status_code
        if status in ok:
            return response
        error = self.error(response, what, retry_after=rate_limit_wait(response.headers))
        if refused_is_scope and status == 403:
            raise E.VendorScopeMissing(error.message, registry=error.registry, status=403)
        raise error

    def json(self, response: httpx.Response, what: str) -> Any:
        try:
            return parse_json(response.content, what="answer")
        except SpecError as exc:
            hint = E.HTML_HINT if E.looks_like_html(response.content, "") else str(exc)
            raise E.VendorAPIError(
                f"{self.host}: {what}: {hint}", registry=self.host, status=response.status_code
            ) from exc

    def object(self, response: httpx.Response, what: str) -> dict[str, Any]:
        obj = self.json(response, what)
        if not isinstance(obj, dict):
            raise E.VendorAPIError(
                f"{self.host}: {what}: the answer is not a JSON object", registry=self.host
            )
        return obj

    def error(
        self, response: httpx.Response, what: str, *, retry_after: float | None = None
    ) -> E.VendorAPIError:
        body = response.content[: E.MAX_ERROR_BODY]
        said = ""
        try:
            said = self.said(parse_json(body, what="error body"))
        except SpecError:
            if E.looks_like_html(body, response.headers.get("Content-Type", "")):
                said = E.HTML_HINT
        status = response.status_code
        message = f"{self.host}: {what} failed (HTTP {status})" + (
            f" ({self.title} said: {said})" if said else ""
        )
        hint = self.hints.get(status, "")
        if status == 429:
            hint = "the API's rate limit is used up" + (
                f"; it resets in {retry_after:.0f} s" if retry_after is not None else ""
            )
        return E.VendorAPIError(
            f"{message}: {hint}" if hint else message,
            registry=self.host,
            status=status,
            temporary=status == 429 or status >= 500,
            retry_after=retry_after,
        )

    async def link_pages(
        self, path: str, *, what: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[httpx.Response]:
        """Every page of a `Link: <…>; rel="next"` paged listing (GitHub)."""
        url: httpx.URL | None = self.url(path).copy_merge_params(dict(params or {}))
        guard = PageGuard(self.host, what)
        while url is not None:
            guard.check(url)
            response = await self.call("GET", url, what=what)
            yield response
            url = next_link(response)

    async def next_pages(
        self, path: str, *, what: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of a `{"next": url, "results": […]}` paged listing (Docker Hub, Harbor
        style bodies)."""
        url: httpx.URL | None = self.url(path).copy_merge_params(dict(params or {}))
        guard = PageGuard(self.host, what)
        while url is not None:
            guard.check(url)
            response = await self.call("GET", url, what=what)
            page = self.object(response, what)
            yield page
            nxt = page.get("next")
            url = response.request.url.join(nxt) if isinstance(nxt, str) and nxt else None


def _said(obj: Any) -> str:
    """The vendor's own words from an error body: `message`, `detail`, `error` or `errors`."""
    if not isinstance(obj, dict):
        return ""
    for key in ("message", "detail", "error_description", "error"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    errors = obj.get("errors")
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message") or e.get("code") or "") for e in errors if isinstance(e, dict)
        )
    return ""
