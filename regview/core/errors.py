"""Errors of the registry client: every failure talking to a registry is one of these.

    RegistryError(Exception)              talking to a registry failed; `.message` is for people
    ├── ConnectionFailed                  DNS, refused, reset, timeout (temporary)
    │   └── CertificateNotTrusted         TLS verification failed: trust a CA file in settings
    ├── InsecureRefused                   plain http to a non-loopback host not marked insecure
    ├── RealmRejected                     the token realm fails the security rules
    ├── NotARegistry                      an HTML page, or /v2/ does not answer like a registry
    ├── ProtocolError                     a malformed answer: digest mismatch, bad JSON, too big,
    │                                     a pagination loop
    ├── ResponseError                     the registry answered with an error status
    │   ├── AuthenticationFailed          401: bad credentials, expired token
    │   ├── AccessDenied                  403 / DENIED: the credential lacks a right
    │   │   └── CatalogRefused            the catalog is refused (GitLab: admins only)
    │   ├── NotFound                      404: NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN
    │   ├── Unsupported                   405 / UNSUPPORTED: e.g. deletion is disabled
    │   ├── TooManyRequests               429 (temporary; `.retry_after`)
    │   └── ServerError                   5xx (temporary)
    ├── GitLabAPIError                    the GitLab REST API refused or failed
    │   └── DeployTokenNoAPI              deploy tokens cannot call the REST API
    └── VendorAPIError                    a registry's management API (Docker Hub, GitHub
        │                                 packages, Harbor, Quay) refused or failed
        └── VendorScopeMissing            the credential lacks the scope/permission it needs

Foreign exceptions (httpx, ssl, json, spec) are translated at the boundary with
`raise ... from exc`. "Temporary" errors (429, 5xx, connection failures) are the only ones the
client retries, and only on idempotent requests. Every message names the registry and says what
to do; none ever contains a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from regview.spec.errors import ErrorCode, SpecError, parse_error_code
from regview.spec.jsondoc import parse_json

if TYPE_CHECKING:
    from regview.core.client.limiter import Allowance

MAX_ERROR_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of a registry's `{"errors": [...]}` body."""

    code: ErrorCode
    raw_code: str
    message: str
    detail: object = None


class RegistryError(Exception):
    """Something went wrong talking to `registry`; `message` is written for people."""

    temporary: bool = False

    def __init__(self, message: str, *, registry: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.registry = registry

    def __str__(self) -> str:
        return self.message


class ConnectionFailed(RegistryError):
    temporary = True


class CertificateNotTrusted(ConnectionFailed):
    temporary = False


class InsecureRefused(RegistryError):
    pass


class RealmRejected(RegistryError):
    pass


class NotARegistry(RegistryError):
    pass


class ProtocolError(RegistryError):
    pass


class ResponseError(RegistryError):
    """The registry answered with an error status; `errors` holds the parsed body entries."""

    def __init__(
        self,
        message: str,
        *,
        registry: str = "",
        status: int = 0,
        errors: tuple[ErrorDetail, ...] = (),
    ) -> None:
        super().__init__(message, registry=registry)
        self.status = status
        self.errors = errors

    @property
    def codes(self) -> tuple[ErrorCode, ...]:
        return tuple(e.code for e in self.errors)


class AuthenticationFailed(ResponseError):
    pass


class AccessDenied(ResponseError):
    pass


class CatalogRefused(AccessDenied):
    pass


class NotFound(ResponseError):
    pass


class Unsupported(ResponseError):
    pass


class TooManyRequests(ResponseError):
    temporary = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        registry: str = "",
        status: int = 0,
        errors: tuple[ErrorDetail, ...] = (),
    ) -> None:
        super().__init__(message, registry=registry, status=status, errors=errors)
        self.retry_after = retry_after
        # what the registry said is left of its pull allowance (RateLimit-Remaining), if it did
        self.allowance: Allowance | None = None


def allowance_used_up(registry: str, allowance: str) -> str:
    """The words for a 429 once the registry's pull allowance is at zero."""
    return (
        f"{registry}: the registry's pull allowance is used up ({allowance}); wait until it "
        "resets, or log in — an account usually has a larger allowance than anonymous pulls"
    )


class ServerError(ResponseError):
    temporary = True


class GitLabAPIError(RegistryError):
    def __init__(self, message: str, *, registry: str = "", status: int = 0) -> None:
        super().__init__(message, registry=registry)
        self.status = status


class DeployTokenNoAPI(GitLabAPIError):
    pass


class VendorAPIError(RegistryError):
    """A management API beside `/v2` (`regview.core.vendors`) refused or failed. `temporary`
    (429, 5xx) and `retry_after` are what the executor's retries look at."""

    def __init__(
        self,
        message: str,
        *,
        registry: str = "",
        status: int = 0,
        temporary: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, registry=registry)
        self.status = status
        self.temporary = temporary
        self.retry_after = retry_after


class VendorScopeMissing(VendorAPIError):
    """The credential may not do this through the management API (a missing scope or role):
    said before anything is deleted."""


def parse_error_body(body: bytes) -> tuple[ErrorDetail, ...]:
    """Parse a registry error body; anything unparseable yields no details."""
    try:
        obj = parse_json(body[:MAX_ERROR_BODY], what="error body")
    except SpecError:  # not JSON, or nested absurdly deep
        return ()
    if not isinstance(obj, dict) or not isinstance(obj.get("errors"), list):
        return ()
    out = []
    for e in obj["errors"]:
        if isinstance(e, dict):
            raw = str(e.get("code", ""))
            out.append(
                ErrorDetail(parse_error_code(raw), raw, str(e.get("message", "")), e.get("detail"))
            )
    return tuple(out)


def looks_like_html(body: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = body[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


HTML_HINT = "the server answered with an HTML page — is this the registry address, not the web UI?"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


NEEDED_RIGHTS = (
    "on GitLab, a token with the read_registry scope and at least the Reporter role in the "
    "project to read; write_registry and the Developer role to push or delete; a deploy token "
    "or CI job token reaches only its own project"
)


def may_not(registry: str, what: str, method: str, www_authenticate: str, said_part: str) -> str:
    """ "this credential may not read X", with the scope the registry asked for and the rights
    that grant it."""
    verb = {"GET": "read", "HEAD": "read", "DELETE": "delete", "OPTIONS": "query"}.get(
        method, "push"
    )
    scope = re.search(r'scope="([^"]*)"', www_authenticate)
    asked = f" (the registry wants {scope.group(1)})" if scope else ""
    if verb == "read":
        text = f"this credential may not read {what}"
    else:
        text = f"{what}: this credential may not {verb} here"
    return f"{registry}: {text}{asked}{said_part}. Needed: {NEEDED_RIGHTS}."


def error_for_status(
    status: int,
    body: bytes,
    content_type: str,
    *,
    registry: str,
    what: str,
    method: str = "GET",
    retry_after: str | None = None,
    www_authenticate: str = "",
) -> RegistryError:
    """The typed error for a failed answer. `what` names the thing asked for, in words."""
    errors = parse_error_body(body)
    codes = {e.code for e in errors}
    said = "; ".join(e.message for e in errors if e.message)
    said_part = f" (the registry said: {said})" if said else ""

    def mk(cls: type[ResponseError], message: str) -> ResponseError:
        return cls(message, registry=registry, status=status, errors=errors)

    if not errors and looks_like_html(body, content_type) and status != 404:
        return NotARegistry(
            f"{registry}: {what} failed with HTTP {status}: {HTML_HINT}", registry=registry
        )
    if "insufficient_scope" in www_authenticate or (status == 403 or ErrorCode.DENIED in codes):
        # Signed in, but this credential lacks the right: never "check the password" (GitLab
        # answers 401 insufficient_scope for a project the token cannot read).
        return mk(AccessDenied, may_not(registry, what, method, www_authenticate, said_part))
    if status == 401 or ErrorCode.UNAUTHORIZED in codes:
        expired = "invalid_token" in www_authenticate or "expired" in said.lower()
        hint = (
            "the access token expired or was revoked; log in again"
            if expired
            else "check the username and password or token in the registry's settings"
        )
        return mk(
            AuthenticationFailed, f"{registry}: {what} needs authentication{said_part}: {hint}"
        )
    if status == 404:
        return mk(NotFound, f"{registry}: {what}: not found{said_part}")
    if status == 405 or ErrorCode.UNSUPPORTED in codes:
        hint = (
            "deletion is disabled on this registry (docker-registry: storage.delete.enabled)"
            if method == "DELETE"
            else "the registry does not support this operation"
        )
        return mk(Unsupported, f"{registry}: {what} refused{said_part}: {hint}")
    if status == 429 or ErrorCode.TOOMANYREQUESTS in codes:
        return TooManyRequests(
            f"{registry}: too many requests{said_part}; wait a little and try again",
            retry_after=parse_retry_after(retry_after),
            registry=registry,
            status=status,
            errors=errors,
        )
    if status >= 500:
        return mk(
            ServerError,
            f"{registry}: {what} failed with a server error (HTTP {status}){said_part}; "
            "the registry may be overloaded or down, try again later",
        )
    return mk(ResponseError, f"{registry}: {what} failed with HTTP {status}{said_part}")
