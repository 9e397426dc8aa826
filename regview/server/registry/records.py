"""The embedded registry's records: what its reads return and the events its writes broadcast."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    digest: str
    media_type: str
    content: bytes
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class RepositoryRecord:
    name: str
    created: datetime
    tag_count: int


@dataclass(frozen=True, slots=True)
class TagRecord:
    name: str
    digest: str  # manifest digest
    media_type: str
    config_digest: str | None  # None for an index
    size: int  # config + layers; for an index the sum over its children
    created: datetime  # image build time (annotation, else config), else push time
    pushed: datetime  # when the tag last moved


EventAction = Literal["push", "delete_tag", "delete_manifest", "delete_repository"]


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    action: EventAction
    repository: str
    digest: str | None = None
    tag: str | None = None


Listener = Callable[[RegistryEvent], None]
