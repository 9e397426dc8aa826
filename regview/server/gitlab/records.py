"""The records of the GitLab instance's model (users, groups, projects, tokens, repository ids)
and the small helpers both the store and the API use. No I/O."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from regview.server.errors import StoreError
from regview.server.gitlab.perms import (
    Caller,
    ProjectFacts,
    RegistryAccess,
    TokenKind,
    Visibility,
)

JOB_USERNAME = "gitlab-ci-token"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """ISO 8601 date or date-time; naive values and bare dates are UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class NotFound(StoreError):
    """A user, group, project or token named in an administrative call does not exist."""


class Conflict(StoreError):
    """Creating something that already exists."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    admin: bool
    bot: bool


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    path: str
    visibility: Visibility

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    path: str
    visibility: Visibility
    registry_access: RegistryAccess
    policy: dict[str, Any]
    policy_next_run_at: str | None
    created_at: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def namespace_path(self) -> str:
        return self.path.rsplit("/", 1)[0]

    @property
    def facts(self) -> ProjectFacts:
        return ProjectFacts(self.id, self.path, self.visibility, self.registry_access)


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    kind: TokenKind
    name: str
    user_id: int | None
    username: str  # what a client logs in with (informational for personal/project/group)
    scopes: frozenset[str]
    project_id: int | None
    group_id: int | None
    expires_at: str | None
    revoked: bool

    def active(self, at: datetime | None = None) -> bool:
        if self.revoked:
            return False
        if self.expires_at is None:
            return True
        return (at or datetime.now(UTC)) < parse_time(self.expires_at)


@dataclass(frozen=True, slots=True)
class Repository:
    id: int
    path: str
    project_id: int
    created_at: str
    status: str | None
    cleanup_policy_started_at: str | None
    last_bulk_delete: float | None


@dataclass(frozen=True, slots=True)
class Identity:
    """A resolved credential: the permission-relevant `caller` plus who it acts as."""

    caller: Caller
    token: Token | None
    user: User | None

    @property
    def username(self) -> str:
        if self.token is not None and self.token.kind in (TokenKind.DEPLOY, TokenKind.JOB):
            return self.token.username
        return self.user.username if self.user else ""


def row_user(row: sqlite3.Row) -> User:
    return User(row["id"], row["username"], bool(row["admin"]), bool(row["bot"]))


def row_project(row: sqlite3.Row) -> Project:
    return Project(
        row["id"],
        row["path"],
        Visibility(row["visibility"]),
        RegistryAccess(row["registry_access"]),
        json.loads(row["policy"]),
        row["policy_next_run_at"],
        row["created_at"],
    )


def row_repo(row: sqlite3.Row) -> Repository:
    return Repository(
        row["id"],
        row["path"],
        row["project_id"],
        row["created_at"],
        row["status"],
        row["cleanup_policy_started_at"],
        row["last_bulk_delete"],
    )


def check_path(path: str) -> str:
    path = path.strip().strip("/")
    parts = path.split("/")
    if not path or any(not p or p != p.lower() or p in (".", "..") for p in parts):
        raise ValueError(
            f"{path!r} is not a valid GitLab path: use lowercase segments separated by '/'"
        )
    return path
