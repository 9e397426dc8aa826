"""The read-only listings of /v2: the base endpoint, the catalog, a repository's tags and the
referrers of a manifest, each paginated the way the distribution spec says."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from regview.server.auth import Access, Authorizer
from regview.server.config import ServerConfig
from regview.server.errors import RegistryError
from regview.server.v2.common import (
    VERSION_HEADER,
    Ctx,
    error_response,
    json_response,
    parse_digest,
    parse_n,
    unsupported,
)
from regview.spec import mediatypes as mt
from regview.spec.errors import ErrorCode


async def base(request: Request) -> Response:
    try:
        authorizer: Authorizer = request.app.state.authorizer
        await authorizer.authorize(request, [])
    except RegistryError as exc:
        response = error_response(exc, head=request.method == "HEAD")
    else:
        response = json_response({})
    response.headers[VERSION_HEADER[0]] = VERSION_HEADER[1]
    return response


async def catalog(ctx: Ctx) -> Response:
    await ctx.authorize([Access("registry", "catalog", ("*",))])
    config: ServerConfig = ctx.app.state.config
    q = ctx.request.query_params
    n = parse_n(q.get("n"), config.catalog_max)
    limit = config.catalog_default if n is None else n
    last = q.get("last", "")
    names = ctx.registry.catalog(limit + 1, last)
    headers = {}
    if len(names) > limit:
        names = names[:limit]
        headers["Link"] = f'</v2/_catalog?last={quote(names[-1], safe="")}&n={limit}>; rel="next"'
    return json_response({"repositories": names}, headers=headers)


async def tags_list(ctx: Ctx) -> Response:
    await ctx.authorize([ctx.pull()])
    config: ServerConfig = ctx.app.state.config
    q = ctx.request.query_params
    n = parse_n(q.get("n"), None)
    if n is not None:
        n = min(n, config.tags_max)
    last = q.get("last", "")
    tags = ctx.registry.tag_names(ctx.name, None if n is None else n + 1, last)
    if tags is None:
        raise RegistryError(ErrorCode.NAME_UNKNOWN, f"repository {ctx.name} is not known")
    headers = {}
    if n is not None and len(tags) > n:
        tags = tags[:n]
        if tags:
            link_last = quote(tags[-1], safe="")
            headers["Link"] = f'</v2/{ctx.name}/tags/list?last={link_last}&n={n}>; rel="next"'
    return json_response({"name": ctx.name, "tags": tags}, headers=headers)


async def referrers(ctx: Ctx) -> Response:
    if ctx.method not in ("GET", "HEAD"):
        raise unsupported(ctx.method, "GET, HEAD")
    await ctx.authorize([ctx.pull()])
    digest = parse_digest(ctx.extra)
    artifact_type = ctx.request.query_params.get("artifactType")
    found = ctx.registry.referrers(ctx.name, str(digest), artifact_type)
    headers = {}
    if artifact_type is not None:
        headers["OCI-Filters-Applied"] = "artifactType"
    body = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": found}
    response = json_response(body, headers=headers, media_type=mt.OCI_INDEX)
    if ctx.method == "HEAD":
        response.body = b""
    return response
