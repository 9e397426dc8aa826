"""Errors of the embedded registry; the app turns each into an OCI error body.

RegistryError(Exception)          a request the registry refuses: code, message, status
├── AuthenticationRequired        401 UNAUTHORIZED + the authorizer's WWW-Authenticate challenge
└── AccessDenied                  403 DENIED: authenticated, but not allowed
StoreError(Exception)             the data directory cannot be used (not a request's fault)
└── SchemaTooNew                  metadata.db was written by a newer regview
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regview.spec.errors import ERROR_STATUS, ErrorCode


class RegistryError(Exception):
    """A request the registry refuses, with the OCI error code clients act on."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        detail: Any = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        self.status = status if status is not None else ERROR_STATUS[code]
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.detail is not None:
            err["detail"] = self.detail
        return {"errors": [err]}


class AuthenticationRequired(RegistryError):
    """No or bad credentials: 401 with the challenge telling the client how to authenticate."""

    def __init__(self, challenge: str, message: str = "authentication required") -> None:
        super().__init__(ErrorCode.UNAUTHORIZED, message, headers={"WWW-Authenticate": challenge})
        self.challenge = challenge


class AccessDenied(RegistryError):
    """Authenticated but not allowed: 403 DENIED."""

    def __init__(self, message: str = "requested access to the resource is denied") -> None:
        super().__init__(ErrorCode.DENIED, message)


class StoreError(Exception):
    """The registry's data directory cannot be used."""


class StoreClosed(StoreError):
    """The registry was closed (the server is stopping) while a job still wanted it."""


class SchemaTooNew(StoreError):
    """The metadata database comes from a newer regview; refuse rather than damage it."""
