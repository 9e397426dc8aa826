"""JSON shapes, errors and pagination of the GitLab REST API subset (see `gitlab.rest.api`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from regview.server.addresses import public_base
from regview.server.gitlab import perms
from regview.server.gitlab.records import Identity
from regview.server.registry.records import TagRecord

GITLAB_VERSION = "17.5.0-regview"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
#: Above this many records GitLab leaves out x-total, x-total-pages and the `last` link.
COUNT_LIMIT = 10_000
BULK_ONCE_AN_HOUR = (
    "This request has already been made. You can run this at most once an hour for a given "
    "container repository"
)


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def not_found(what: str = "") -> ApiError:
    return ApiError(404, {"message": f"404 {what} Not Found" if what else "404 Not found"})


def bad_request(reason: str) -> ApiError:
    return ApiError(400, {"message": f"400 Bad request - {reason}"})


def param_error(text: str) -> ApiError:
    return ApiError(400, {"error": text})


UNAUTHORIZED = ApiError(401, {"message": "401 Unauthorized"})
FORBIDDEN = ApiError(403, {"message": "403 Forbidden"})


def insufficient_scope(scope: str) -> ApiError:
    return ApiError(
        403,
        {
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the "
            "access token.",
            "scope": scope,
        },
    )


def flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def int_param(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise param_error(f"{name} is invalid")
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e999 is infinity
        raise param_error(f"{name} is invalid") from None


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Call:
    request: Request
    segments: list[str]
    params: dict[str, Any]
    identity: Identity
    raw_path: str
    #: the configured public URL; None: the address the connection arrived at
    public_url: str | None = None

    @property
    def caller(self) -> perms.Caller:
        return self.identity.caller

    @property
    def user_id(self) -> int | None:
        return self.identity.user.id if self.identity.user else None

    @property
    def registry_host(self) -> str:
        return self.base.split("://", 1)[1]

    @property
    def base(self) -> str:
        """Never the Host header: these URLs are what clients (and their tokens) go to next."""
        return public_base(self.request, self.public_url)


def tag_json(call: Call, path: str, tag: TagRecord) -> dict[str, Any]:
    return {
        "name": tag.name,
        "path": f"{path}:{tag.name}",
        "location": f"{call.registry_host}/{path}:{tag.name}",
    }


def tag_details_json(call: Call, path: str, tag: TagRecord) -> dict[str, Any]:
    revision = tag.config_digest.split(":", 1)[1] if tag.config_digest else None
    out = tag_json(call, path, tag)
    out.update(
        {
            "revision": revision,
            "short_revision": revision[:9] if revision else None,
            "digest": tag.digest,
            "created_at": iso(tag.created),
            "total_size": tag.size,
        }
    )
    return out


def paginate(call: Call, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    per_page = int_param(call.params, "per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, int_param(call.params, "page", 1) or 1)
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    counted = total <= COUNT_LIMIT
    headers = {
        "x-page": str(page),
        "x-per-page": str(per_page),
        "x-next-page": str(page + 1) if page * per_page < total else "",
        "x-prev-page": str(page - 1) if page > 1 else "",
    }
    if counted:
        headers["x-total"] = str(total)
        headers["x-total-pages"] = str(pages)

    def link(p: int) -> str:
        query = {
            k: v for k, v in call.request.query_params.items() if k not in ("page", "per_page")
        }
        query.update(page=str(p), per_page=str(per_page))
        return f"{call.base}{call.raw_path}?{urlencode(query)}"

    links = []
    if page > 1:
        links.append(f'<{link(page - 1)}>; rel="prev"')
    if headers["x-next-page"]:
        links.append(f'<{link(page + 1)}>; rel="next"')
    links.append(f'<{link(1)}>; rel="first"')
    if counted:
        links.append(f'<{link(pages)}>; rel="last"')
    headers["Link"] = ", ".join(links)
    return chunk, headers


def keyset(
    call: Call, path: str, records: list[TagRecord]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    if call.params.get("order_by", "name") != "name":
        raise param_error("order_by does not have a valid value")
    sort = call.params.get("sort", "asc")
    if sort not in ("asc", "desc"):
        raise param_error("sort does not have a valid value")
    per_page = max(1, min(int_param(call.params, "per_page", DEFAULT_PER_PAGE) or 1, MAX_PER_PAGE))
    ordered = sorted(records, key=lambda t: t.name, reverse=sort == "desc")
    last = call.params.get("last")
    if last:
        ordered = [t for t in ordered if (t.name > last if sort == "asc" else t.name < last)]
    chunk = ordered[:per_page]
    headers = {"x-per-page": str(per_page)}
    if len(ordered) > per_page and chunk:
        query = {k: v for k, v in call.request.query_params.items() if k != "last"}
        query["last"] = chunk[-1].name
        query["per_page"] = str(per_page)
        url = f"{call.base}{call.raw_path}?{urlencode(query)}"
        headers["Link"] = f'<{url}>; rel="next"'
    return [tag_json(call, path, t) for t in chunk], headers
