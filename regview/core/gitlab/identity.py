"""Who a GitLab token is: its user (`GET /user`) and its own record
(`GET /personal_access_tokens/self`, GitLab 15.5+), for the credential test.

    await token_identity(api) -> TokenIdentity

Nothing raises for an answer GitLab may legitimately give: a 404 on `/personal_access_tokens/self`
(older GitLab) or a 403 on `/user` (a token without read_api) becomes a note in words, so the
test can still say what it knows. A refused token (401) says whether GitLab called it expired or
revoked. Connection failures raise the client core's `RegistryError`s as every API call does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from regview.core import errors as E
from regview.core.client.http import connection_error

if TYPE_CHECKING:
    from regview.core.gitlab.api import GitLabAPI


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """What GitLab said about a token; empty fields are unknown (see `notes`)."""

    username: str = ""
    name: str = ""  # the user's display name
    bot: bool = False
    token_name: str = ""
    scopes: tuple[str, ...] = ()
    active: bool | None = None
    expires_at: datetime | None = None
    refused: str = ""  # why GitLab refused the token outright ('' = it did not)
    api_ok: bool | None = None  # whether the REST API answered this token at all
    notes: tuple[str, ...] = ()


async def token_identity(api: GitLabAPI) -> TokenIdentity:
    notes: list[str] = []
    status, user = await _get(api, "user", "who the token belongs to")
    if status == 401:
        return TokenIdentity(refused=_refusal(user), api_ok=False)
    username = name = ""
    bot = False
    api_ok: bool | None = None
    if status == 200 and isinstance(user, dict):
        username, name = str(user.get("username") or ""), str(user.get("name") or "")
        bot = bool(user.get("bot"))
        api_ok = True
    elif status == 403:
        api_ok = False
        notes.append("The token may not read the REST API (it needs read_api or api).")
    else:
        notes.append(f"GitLab did not say who the token belongs to (HTTP {status}).")
    status, record = await _get(api, "personal_access_tokens/self", "the token's own record")
    token_name, active, expires = "", None, None
    scopes: tuple[str, ...] = ()
    if status == 200 and isinstance(record, dict):
        token_name = str(record.get("name") or "")
        raw = record.get("scopes")
        scopes = tuple(str(s) for s in raw) if isinstance(raw, list) else ()
        active = bool(record.get("active")) if "active" in record else None
        expires = _expiry(record.get("expires_at"))
    elif status == 404:
        notes.append(
            "This GitLab does not tell a token its scopes or expiry (GitLab older than 15.5): "
            "check them on GitLab's access token page."
        )
    elif status == 401:
        return TokenIdentity(username, name, bot, refused=_refusal(record), api_ok=api_ok)
    else:
        notes.append(f"GitLab did not show the token's scopes (HTTP {status}).")
    return TokenIdentity(
        username, name, bot, token_name, scopes, active, expires, "", api_ok, tuple(notes)
    )


async def _get(api: GitLabAPI, path: str, what: str) -> tuple[int, Any]:
    try:
        response = await api.http.get(f"{api.api_url}/{path}")
    except httpx.HTTPError as exc:
        raise connection_error(api.host, exc, what) from exc
    try:
        body = json.loads(response.content[: E.MAX_ERROR_BODY * 64]) if response.content else None
    except ValueError:
        body = None
    return response.status_code, body


def _refusal(body: Any) -> str:
    said = ""
    if isinstance(body, dict):
        said = str(body.get("error_description") or body.get("message") or body.get("error") or "")
    lowered = said.lower()
    if "expired" in lowered:
        return "GitLab says this token has expired."
    if "revoked" in lowered:
        return "GitLab says this token was revoked."
    return "GitLab refused this token (401): it is wrong, expired or revoked."


def _expiry(value: Any) -> datetime | None:
    """GitLab's `expires_at` (`YYYY-MM-DD`, the day the token stops working) as a UTC time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
