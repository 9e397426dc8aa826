"""The capability probe: ask a registry what it lets these credentials delete, without
changing anything."""

from __future__ import annotations

import secrets
from typing import Protocol

from regview.core.executor_types import error_message, is_not_found
from regview.core.plan import Capabilities, DeleteSupport


def _probe_detail(exc: BaseException) -> str:
    """What the registry answered the capability probe, in short: without the made-up digest
    the probe asked to delete, which would only puzzle the user."""
    status = getattr(exc, "status", 0)
    said = "; ".join(
        str(m).rstrip(".") for e in getattr(exc, "errors", ()) if (m := getattr(e, "message", ""))
    )
    short = ": ".join(p for p in (f"HTTP {status}" if status else "", said) if p)
    return short or error_message(exc)


class ProbePort(Protocol):
    async def supports_tag_delete(self, repository: str) -> bool: ...

    async def delete_manifest(self, repository: str, reference: str) -> None: ...


async def probe_capabilities(
    port: ProbePort, repository: str, *, gitlab_tag_api: bool = False, can_push: bool = True
) -> Capabilities:
    """Ask the registry what it allows, without changing anything.

    Deleting a digest that cannot exist tells us: 404 → deletion works, 405/400 UNSUPPORTED →
    disabled, 401/403 → these credentials may not delete.
    """
    nothing = "sha256:" + secrets.token_hex(32)
    support, detail = DeleteSupport.UNKNOWN, ""
    try:
        await port.delete_manifest(repository, nothing)
        support = DeleteSupport.ALLOWED  # accepted?! the digest did not exist anyway
    except Exception as exc:
        status = getattr(exc, "status", 0)
        name = type(exc).__name__
        detail = _probe_detail(exc)
        if is_not_found(exc):
            support = DeleteSupport.ALLOWED
        elif status == 405 or name == "Unsupported":
            support = DeleteSupport.DISABLED
        elif status in (401, 403) or name in ("AccessDenied", "AuthenticationFailed"):
            support = DeleteSupport.DENIED
        elif status == 400:
            support = DeleteSupport.DISABLED
    tag_delete = False
    if support is DeleteSupport.ALLOWED:
        try:
            tag_delete = await port.supports_tag_delete(repository)
        except Exception:
            tag_delete = False
    return Capabilities(
        manifest_delete=support,
        tag_delete=tag_delete,
        gitlab_tag_api=gitlab_tag_api,
        can_push=can_push,
        detail=detail if support is not DeleteSupport.ALLOWED else "",
    )
