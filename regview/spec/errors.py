"""Errors of the OCI vocabulary layer, and the registry error codes both peers speak.

    SpecError(ValueError)             something does not follow the OCI/Docker grammar
    ├── InvalidReference              a repository name, tag or image reference is malformed
    ├── InvalidDigest                 a digest is malformed or uses an unknown algorithm
    └── InvalidManifest               manifest/index/config bytes cannot be understood
        └── UnsupportedSchema1        a deprecated Docker schema1 manifest

Every message names the bad part and says what would be valid, because users paste these
strings from CI logs and from GitLab's UI.
"""

from __future__ import annotations

import enum


class SpecError(ValueError):
    """Input that does not follow the OCI/Docker grammar."""


class InvalidReference(SpecError):
    """A repository name, tag or image reference is malformed."""


class InvalidDigest(SpecError):
    """A digest is malformed or uses an algorithm we do not support."""


class InvalidManifest(SpecError):
    """Manifest, index or config bytes cannot be parsed."""


class UnsupportedSchema1(InvalidManifest):
    """Docker schema1 manifests are deprecated; we recognise them only to say so."""


class ErrorCode(enum.StrEnum):
    """Error codes of OCI distribution-spec 1.1 plus the CNCF registry's extras."""

    BLOB_UNKNOWN = "BLOB_UNKNOWN"
    BLOB_UPLOAD_INVALID = "BLOB_UPLOAD_INVALID"
    BLOB_UPLOAD_UNKNOWN = "BLOB_UPLOAD_UNKNOWN"
    DIGEST_INVALID = "DIGEST_INVALID"
    MANIFEST_BLOB_UNKNOWN = "MANIFEST_BLOB_UNKNOWN"
    MANIFEST_INVALID = "MANIFEST_INVALID"
    MANIFEST_UNKNOWN = "MANIFEST_UNKNOWN"
    NAME_INVALID = "NAME_INVALID"
    NAME_UNKNOWN = "NAME_UNKNOWN"
    SIZE_INVALID = "SIZE_INVALID"
    UNAUTHORIZED = "UNAUTHORIZED"
    DENIED = "DENIED"
    UNSUPPORTED = "UNSUPPORTED"
    TOOMANYREQUESTS = "TOOMANYREQUESTS"
    # CNCF registry extensions
    TAG_INVALID = "TAG_INVALID"
    MANIFEST_UNVERIFIED = "MANIFEST_UNVERIFIED"
    RANGE_INVALID = "RANGE_INVALID"
    PAGINATION_NUMBER_INVALID = "PAGINATION_NUMBER_INVALID"
    UNAVAILABLE = "UNAVAILABLE"
    UNKNOWN = "UNKNOWN"


#: HTTP status each code is sent with (the CNCF registry's choices, which clients expect).
ERROR_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BLOB_UNKNOWN: 404,
    ErrorCode.BLOB_UPLOAD_INVALID: 400,
    ErrorCode.BLOB_UPLOAD_UNKNOWN: 404,
    ErrorCode.DIGEST_INVALID: 400,
    ErrorCode.MANIFEST_BLOB_UNKNOWN: 400,
    ErrorCode.MANIFEST_INVALID: 400,
    ErrorCode.MANIFEST_UNKNOWN: 404,
    ErrorCode.NAME_INVALID: 400,
    ErrorCode.NAME_UNKNOWN: 404,
    ErrorCode.SIZE_INVALID: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.DENIED: 403,
    ErrorCode.UNSUPPORTED: 405,
    ErrorCode.TOOMANYREQUESTS: 429,
    ErrorCode.TAG_INVALID: 400,
    ErrorCode.MANIFEST_UNVERIFIED: 400,
    ErrorCode.RANGE_INVALID: 416,
    ErrorCode.PAGINATION_NUMBER_INVALID: 400,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.UNKNOWN: 500,
}


def parse_error_code(raw: str) -> ErrorCode:
    """Map a code string from a registry body to an ErrorCode; unknown codes are UNKNOWN."""
    try:
        return ErrorCode(raw.upper())
    except ValueError:
        return ErrorCode.UNKNOWN
