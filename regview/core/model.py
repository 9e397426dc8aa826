"""Plain data the client hands to its consumers (UI, CLI, planner): no I/O, no Qt.

These are the shared vocabulary between `core` and its front ends; keep them small, frozen and
cheap to build in bulk (a repository may have 100,000 tags).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class RegistryKind(enum.StrEnum):
    GENERIC = "generic"
    GITLAB = "gitlab"
    DOCKER_HUB = "dockerhub"
    GHCR = "ghcr"
    HARBOR = "harbor"
    QUAY = "quay"
    REGVIEW = "regview"  # our embedded registry (generic OCI unless in GitLab mode)


class ArtifactKind(enum.StrEnum):
    IMAGE = "image"
    INDEX = "index"
    ARTIFACT = "artifact"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    os: str
    architecture: str
    variant: str
    digest: str
    size: int

    @property
    def label(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def to_json(self) -> dict[str, Any]:
        return {
            "os": self.os,
            "architecture": self.architecture,
            "variant": self.variant,
            "digest": self.digest,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class ReferrerInfo:
    digest: str
    artifact_type: str
    media_type: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TagInfo:
    """Everything the tags table shows for one tag.

    `size` is config + layers for an image; for an index it is the de-duplicated union of the
    blobs of all its platform children. `created` follows the reference's order of preference:
    registry metadata, annotation, config. `blobs` lists every blob digest the tag keeps alive
    (used for "bytes reclaimable" estimates), with `blob_sizes` alongside.
    """

    repository: str
    tag: str
    digest: str
    media_type: str
    kind: ArtifactKind
    size: int | None = None
    created: datetime | None = None
    config_digest: str = ""
    platforms: tuple[PlatformInfo, ...] = ()
    child_digests: tuple[str, ...] = ()
    blobs: tuple[tuple[str, int], ...] = ()
    artifact_type: str = ""
    subject: str = ""
    error: str = ""
    #: when the tag was last pulled, where the registry's management API says (Harbor, Docker
    #: Hub); None: never pulled there, or the registry does not say
    pulled: datetime | None = None

    @property
    def platform_labels(self) -> str:
        return ", ".join(p.label for p in self.platforms)


@dataclass(frozen=True, slots=True)
class RepositoryInfo:
    path: str
    tag_count: int | None = None
    size: int | None = None
    created: datetime | None = None
    status: str = ""  # GitLab: delete_scheduled, delete_failed, delete_ongoing
    gitlab_id: int | None = None
    gitlab_project_id: int | None = None
    location: str = ""


def shares_digest(tags: list[TagInfo]) -> dict[str, list[str]]:
    """digest → sorted tag names for every digest carried by more than one tag."""
    by_digest: dict[str, list[str]] = {}
    for t in tags:
        if t.digest:
            by_digest.setdefault(t.digest, []).append(t.tag)
    return {d: sorted(names) for d, names in by_digest.items() if len(names) > 1}


class CredentialKind(enum.StrEnum):
    """How a secret was issued; decides the username and what the secret may do."""

    ANONYMOUS = "anonymous"
    PASSWORD = "password"  # username + password (Basic, or token realm with Basic)
    PERSONAL = "personal"  # GitLab personal access token (username = the user)
    DEPLOY = "deploy"  # GitLab deploy token (gitlab+deploy-token-<n>); no REST API
    PROJECT = "project"  # GitLab project access token
    GROUP = "group"  # GitLab group access token
    JOB = "job"  # GitLab CI job token (gitlab-ci-token)
    IDENTITY = "identity"  # Docker identity/refresh token (OAuth2 refresh_token grant)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A username and secret for one registry. Never logged, never written to settings."""

    username: str
    secret: str = field(repr=False)
    kind: CredentialKind = CredentialKind.PASSWORD
    #: a management API's own token beside this login (Quay's OAuth token with a robot
    #: account): the vendor API uses it, `/v2` never sees it ("" = none)
    api_token: str = field(default="", repr=False)

    @property
    def can_call_gitlab_api(self) -> bool:
        return self.kind in (
            CredentialKind.PERSONAL,
            CredentialKind.PROJECT,
            CredentialKind.GROUP,
            CredentialKind.JOB,
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a registry is and how to reach it (no secrets).

    `url` is the base URL (`https://registry.example.com` or `http://127.0.0.1:5000`); plain
    http is refused unless the host is loopback or `insecure` is set. `api_url` is a GitLab
    `/api/v4` base the user confirmed, if any. `max_concurrency` caps the requests in flight
    (0: the adaptive limiter's default ceiling), for a registry that should see fewer.
    """

    url: str
    insecure: bool = False
    ca_file: str = ""
    api_url: str = ""
    kind: RegistryKind = RegistryKind.GENERIC
    max_concurrency: int = 0
    vendor_api: str = ""
