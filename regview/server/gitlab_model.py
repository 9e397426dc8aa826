"""The GitLab instance's own data: users, groups, projects, memberships, tokens, repository ids.

Kept in `gitlab.db` next to the registry's data (its own SQLite file, schema version in
`user_version`, forward migrations only, a newer major version is refused). Tokens are stored as
SHA-256 digests: they are 160-bit random strings, so a slow hash would add nothing but latency.

Paths are GitLab "full paths": a group `acme`, a subgroup `acme/tools`, a project `acme/webshop`.
A project sits in a group or in a user's personal namespace (`alice/sandbox`). Registry images
sit at the project path or up to two levels below it (`acme/webshop/frontend/nightly`).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from regview.server.errors import SchemaTooNew, StoreError
from regview.server.gitlab_perms import (
    KNOWN_SCOPES,
    Caller,
    CallerKind,
    RegistryAccess,
    Role,
    TokenKind,
    Visibility,
)
from regview.server.gitlab_records import (
    JOB_USERNAME,
    Conflict,
    Group,
    Identity,
    NotFound,
    Project,
    Repository,
    Token,
    User,
    check_path,
    hash_token,
    iso,
    now_iso,
    parse_time,
    row_project,
    row_repo,
    row_user,
)

SCHEMA_VERSION = 1
DB_NAME = "gitlab.db"

_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    visibility TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    visibility TEXT NOT NULL,
    registry_access TEXT NOT NULL,
    policy TEXT NOT NULL,
    policy_next_run_at TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE members (
    source_type TEXT NOT NULL,      -- 'project' | 'group'
    source_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    access_level INTEGER NOT NULL,
    PRIMARY KEY (source_type, source_id, user_id)
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    username TEXT,                  -- deploy tokens only
    token_sha256 TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    project_id INTEGER REFERENCES projects(id),
    group_id INTEGER REFERENCES groups(id),
    expires_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    created_at TEXT NOT NULL,
    status TEXT,
    cleanup_policy_started_at TEXT,
    last_bulk_delete REAL
);
"""

#: GitLab's defaults for a new project's cleanup policy.
DEFAULT_POLICY: dict[str, Any] = {
    "cadence": "1d",
    "enabled": False,
    "keep_n": 10,
    "older_than": "90d",
    "name_regex": ".*",
    "name_regex_keep": None,
}

_TOKEN_PREFIX = {
    TokenKind.PERSONAL: "glpat-",
    TokenKind.PROJECT: "glpat-",
    TokenKind.GROUP: "glpat-",
    TokenKind.DEPLOY: "gldt-",
    TokenKind.JOB: "glcbt-",
}


class GitLabStore:
    """Thread-safe access to `gitlab.db`. Every method is short and blocking (call it off the
    event loop from async code)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the GitLab database {self.path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{self.path} was written by a newer regview (schema {version}, this one "
                    f"knows {SCHEMA_VERSION}); upgrade regview or use another --data folder"
                )
            if version == 0:
                self._db.executescript(
                    "BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    # --- users and groups -----------------------------------------------------------------

    def add_user(self, username: str, *, admin: bool = False, bot: bool = False) -> User:
        username = username.strip()
        if not username or "/" in username or username == JOB_USERNAME:
            raise ValueError(f"{username!r} is not a usable user name")
        with self._tx() as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise Conflict(f"the user {username!r} already exists")
            cur = db.execute(
                "INSERT INTO users (username, admin, bot, created_at) VALUES (?, ?, ?, ?)",
                (username, int(admin), int(bot), now_iso()),
            )
            assert cur.lastrowid is not None
            return User(cur.lastrowid, username, admin, bot)

    def user(self, username: str) -> User:
        row = self._one("SELECT * FROM users WHERE username = ?", username)
        if row is None:
            raise NotFound(f"there is no user {username!r}; add it with 'regview local user add'")
        return row_user(row)

    def user_by_id(self, user_id: int) -> User:
        row = self._one("SELECT * FROM users WHERE id = ?", user_id)
        if row is None:
            raise NotFound(f"there is no user with id {user_id}")
        return row_user(row)

    def add_group(self, path: str, visibility: Visibility = Visibility.PUBLIC) -> Group:
        path = check_path(path)
        with self._tx() as db:
            if db.execute("SELECT 1 FROM groups WHERE path = ?", (path,)).fetchone():
                raise Conflict(f"the group {path!r} already exists")
            if db.execute("SELECT 1 FROM projects WHERE path = ?", (path,)).fetchone():
                raise Conflict(f"{path!r} is already a project")
            if "/" in path:
                parent = path.rsplit("/", 1)[0]
                if not db.execute("SELECT 1 FROM groups WHERE path = ?", (parent,)).fetchone():
                    self.add_group(parent, visibility)
            cur = db.execute(
                "INSERT INTO groups (path, visibility, created_at) VALUES (?, ?, ?)",
                (path, str(visibility), now_iso()),
            )
            assert cur.lastrowid is not None
            return Group(cur.lastrowid, path, visibility)

    def group(self, ref: str | int) -> Group:
        if isinstance(ref, int) or ref.isdigit():
            row = self._one("SELECT * FROM groups WHERE id = ?", int(ref))
        else:
            row = self._one("SELECT * FROM groups WHERE path = ?", ref.strip("/"))
        if row is None:
            raise NotFound(f"there is no group {ref!r}")
        return Group(row["id"], row["path"], Visibility(row["visibility"]))

    # --- projects -------------------------------------------------------------------------

    def add_project(
        self,
        path: str,
        visibility: Visibility = Visibility.PRIVATE,
        registry_access: RegistryAccess = RegistryAccess.ENABLED,
    ) -> Project:
        path = check_path(path)
        if "/" not in path:
            raise ValueError(f"a project path needs a namespace: 'group/{path}' or 'user/{path}'")
        namespace = path.rsplit("/", 1)[0]
        with self._tx() as db:
            if db.execute("SELECT 1 FROM projects WHERE path = ?", (path,)).fetchone():
                raise Conflict(f"the project {path!r} already exists")
            if db.execute("SELECT 1 FROM groups WHERE path = ?", (path,)).fetchone():
                raise Conflict(f"{path!r} is already a group")
            personal = (
                "/" not in namespace
                and db.execute("SELECT 1 FROM users WHERE username = ?", (namespace,)).fetchone()
            )
            if (
                not personal
                and not db.execute("SELECT 1 FROM groups WHERE path = ?", (namespace,)).fetchone()
            ):
                self.add_group(namespace)
            cur = db.execute(
                "INSERT INTO projects (path, visibility, registry_access, policy, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    path,
                    str(visibility),
                    str(registry_access),
                    json.dumps(DEFAULT_POLICY),
                    now_iso(),
                ),
            )
            assert cur.lastrowid is not None
            if personal:
                owner = self.user(namespace)
                self.add_member(path, owner.username, Role.OWNER)
            return self.project(cur.lastrowid)

    def project(self, ref: str | int) -> Project:
        if isinstance(ref, int) or ref.isdigit():
            row = self._one("SELECT * FROM projects WHERE id = ?", int(ref))
        else:
            row = self._one("SELECT * FROM projects WHERE path = ?", ref.strip("/"))
        if row is None:
            raise NotFound(f"there is no project {ref!r}")
        return row_project(row)

    def projects(self) -> list[Project]:
        return [row_project(r) for r in self._all("SELECT * FROM projects ORDER BY id")]

    def projects_in_group(self, group_path: str) -> list[Project]:
        rows = self._all(
            "SELECT * FROM projects WHERE path LIKE ? ESCAPE '\\' ORDER BY id",
            group_path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%",
        )
        return [row_project(r) for r in rows]

    def update_project(
        self,
        project_id: int,
        *,
        visibility: Visibility | None = None,
        registry_access: RegistryAccess | None = None,
        policy: dict[str, Any] | None = None,
        policy_next_run_at: str | bool | None = False,
    ) -> Project:
        """Change settings; `policy_next_run_at=False` leaves it alone, None clears it."""
        with self._tx() as db:
            if visibility is not None:
                db.execute(
                    "UPDATE projects SET visibility = ? WHERE id = ?", (str(visibility), project_id)
                )
            if registry_access is not None:
                db.execute(
                    "UPDATE projects SET registry_access = ? WHERE id = ?",
                    (str(registry_access), project_id),
                )
            if policy is not None:
                db.execute(
                    "UPDATE projects SET policy = ? WHERE id = ?", (json.dumps(policy), project_id)
                )
            if policy_next_run_at is not False:
                db.execute(
                    "UPDATE projects SET policy_next_run_at = ? WHERE id = ?",
                    (policy_next_run_at, project_id),
                )
            return self.project(project_id)

    def project_for_image(self, image_path: str) -> Project | None:
        """The project owning an image path: the path itself or up to two levels above it."""
        parts = image_path.strip("/").split("/")
        for drop in range(3):
            if len(parts) - drop < 2:
                break
            row = self._one(
                "SELECT * FROM projects WHERE path = ?", "/".join(parts[: len(parts) - drop])
            )
            if row is not None:
                return row_project(row)
        return None

    # --- memberships ----------------------------------------------------------------------

    def add_member(self, source: str, username: str, role: Role) -> None:
        """Make `username` a member of the project or group at path `source` with `role`."""
        user = self.user(username)
        source = source.strip("/")
        with self._tx() as db:
            prow = db.execute("SELECT id FROM projects WHERE path = ?", (source,)).fetchone()
            if prow is not None:
                kind, sid = "project", prow["id"]
            else:
                grow = db.execute("SELECT id FROM groups WHERE path = ?", (source,)).fetchone()
                if grow is None:
                    raise NotFound(f"there is no project or group {source!r}")
                kind, sid = "group", grow["id"]
            db.execute(
                "INSERT INTO members (source_type, source_id, user_id, access_level) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (source_type, source_id, user_id) "
                "DO UPDATE SET access_level = excluded.access_level",
                (kind, sid, user.id, int(role)),
            )

    def role(self, user_id: int | None, project: Project) -> Role:
        """Effective role: the highest of the project membership and any ancestor group's."""
        if user_id is None:
            return Role.NONE
        parts = project.path.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(1, len(parts))]
        marks = ",".join("?" * len(ancestors))
        row = self._one(
            "SELECT MAX(access_level) FROM members WHERE user_id = ? AND ("
            "(source_type = 'project' AND source_id = ?) OR (source_type = 'group' AND "
            f"source_id IN (SELECT id FROM groups WHERE path IN ({marks}))))",
            user_id,
            project.id,
            *ancestors,
        )
        level = row[0] if row is not None and row[0] is not None else 0
        return Role(max(r for r in Role if r <= level))

    # --- tokens ---------------------------------------------------------------------------

    def add_token(
        self,
        kind: TokenKind,
        *,
        username: str | None = None,
        scopes: frozenset[str] | set[str] = frozenset(),
        project: str | None = None,
        group: str | None = None,
        expires_at: str | None = None,
        name: str = "",
        role: Role = Role.MAINTAINER,
    ) -> tuple[Token, str]:
        """Create a token; returns it and its secret (shown once, stored only hashed).

        personal: `username` is the owner. project/group: `username` is the bot user acting for
        the token (created with `role` on the project/group if it does not exist). deploy:
        `username` is optional (default `gitlab+deploy-token-<id>`). job: `username` is the user
        running the job; the token reaches only `project`.
        """
        scopes = frozenset(scopes)
        unknown = scopes - KNOWN_SCOPES
        if unknown:
            raise ValueError(
                f"unknown scope(s) {', '.join(sorted(unknown))}; use "
                + ", ".join(sorted(KNOWN_SCOPES))
            )
        if expires_at is not None:
            expires_at = parse_time(expires_at).isoformat()
        secret = _TOKEN_PREFIX[kind] + secrets.token_urlsafe(20)
        with self._tx() as db:
            project_id = group_id = user_id = None
            if project is not None:
                project_id = self.project(project).id
            if group is not None:
                group_id = self.group(group).id
            if kind in (TokenKind.PROJECT, TokenKind.JOB) and project_id is None:
                raise ValueError(f"a {kind} token needs --project")
            if kind is TokenKind.GROUP and group_id is None:
                raise ValueError("a group token needs --group (or --project naming a group)")
            if kind is TokenKind.DEPLOY and project_id is None and group_id is None:
                raise ValueError("a deploy token needs --project or --group")
            if kind is not TokenKind.DEPLOY:
                if not username:
                    raise ValueError(f"a {kind} token needs --user")
                if kind in (TokenKind.PROJECT, TokenKind.GROUP):
                    source = project if kind is TokenKind.PROJECT else group
                    assert source is not None
                    try:
                        self.user(username)
                    except NotFound:
                        self.add_user(username, bot=True)
                        self.add_member(source, username, role)
                user_id = self.user(username).id
            cur = db.execute(
                "INSERT INTO tokens (kind, name, user_id, username, token_sha256, scopes, "
                "project_id, group_id, expires_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    str(kind),
                    name or f"{kind} token",
                    user_id,
                    username if kind is TokenKind.DEPLOY else None,
                    hash_token(secret),
                    " ".join(sorted(scopes)),
                    project_id,
                    group_id,
                    expires_at,
                    now_iso(),
                ),
            )
            assert cur.lastrowid is not None
            if kind is TokenKind.DEPLOY and not username:
                db.execute(
                    "UPDATE tokens SET username = ? WHERE id = ?",
                    (f"gitlab+deploy-token-{cur.lastrowid}", cur.lastrowid),
                )
            return self.token(cur.lastrowid), secret

    def _row_token(self, row: sqlite3.Row) -> Token:
        kind = TokenKind(row["kind"])
        if kind is TokenKind.DEPLOY:
            username = row["username"]
        elif kind is TokenKind.JOB:
            username = JOB_USERNAME
        else:
            username = self.user_by_id(row["user_id"]).username
        return Token(
            row["id"],
            kind,
            row["name"],
            row["user_id"],
            username,
            frozenset(row["scopes"].split()),
            row["project_id"],
            row["group_id"],
            row["expires_at"],
            bool(row["revoked"]),
        )

    def token(self, token_id: int) -> Token:
        row = self._one("SELECT * FROM tokens WHERE id = ?", token_id)
        if row is None:
            raise NotFound(f"there is no token with id {token_id}")
        return self._row_token(row)

    def tokens(self) -> list[Token]:
        return [self._row_token(r) for r in self._all("SELECT * FROM tokens ORDER BY id")]

    def revoke_token(self, token_id: int) -> Token:
        with self._tx() as db:
            if db.execute("UPDATE tokens SET revoked = 1 WHERE id = ?", (token_id,)).rowcount == 0:
                raise NotFound(f"there is no token with id {token_id}")
        return self.token(token_id)

    def find_token(self, secret: str) -> Token | None:
        """The token with this secret, whatever its state (callers check `active()`)."""
        row = self._one("SELECT * FROM tokens WHERE token_sha256 = ?", hash_token(secret))
        return None if row is None else self._row_token(row)

    def identify(self, token: Token) -> Identity:
        """Turn an active token into the permission-relevant caller."""
        user = self.user_by_id(token.user_id) if token.user_id is not None else None
        group_path = self.group(token.group_id).path if token.group_id is not None else None
        caller = Caller(
            CallerKind(str(token.kind)),
            token.scopes,
            admin=bool(user and user.admin and token.kind is TokenKind.PERSONAL),
            bound_project_id=token.project_id,
            bound_group=group_path,
        )
        return Identity(caller, token, user)

    # --- repositories (GitLab ids for registry repositories) ------------------------------

    def ensure_repository(
        self, path: str, project_id: int, created: datetime | None = None
    ) -> Repository:
        """The GitLab id record of a registry repository, made on first sight (listings call
        this for every repository, so the common case is one read and no write)."""
        row = self._one("SELECT * FROM repositories WHERE path = ?", path)
        if row is not None and row["project_id"] == project_id:
            return row_repo(row)
        with self._tx() as db:
            db.execute(
                "INSERT INTO repositories (path, project_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (path) DO UPDATE SET project_id = excluded.project_id",
                (path, project_id, iso(created) if created else now_iso()),
            )
            row = db.execute("SELECT * FROM repositories WHERE path = ?", (path,)).fetchone()
            return row_repo(row)

    def repository(self, repo_id: int) -> Repository | None:
        row = self._one("SELECT * FROM repositories WHERE id = ?", repo_id)
        return None if row is None else row_repo(row)

    def repositories(self) -> list[Repository]:
        return [row_repo(r) for r in self._all("SELECT * FROM repositories ORDER BY id")]

    def set_repository_status(self, repo_id: int, status: str | None) -> None:
        with self._tx() as db:
            db.execute("UPDATE repositories SET status = ? WHERE id = ?", (status, repo_id))

    def set_cleanup_started(self, repo_id: int, when: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE repositories SET cleanup_policy_started_at = ? WHERE id = ?",
                (when, repo_id),
            )

    def claim_bulk_delete(self, repo_id: int, now: float, interval: float = 3600.0) -> bool:
        """The once-an-hour lease of GitLab's bulk tag delete; False if taken within `interval`."""
        with self._tx() as db:
            row = db.execute(
                "SELECT last_bulk_delete FROM repositories WHERE id = ?", (repo_id,)
            ).fetchone()
            if row is None:
                return False
            last = row["last_bulk_delete"]
            if last is not None and now - last < interval:
                return False
            db.execute("UPDATE repositories SET last_bulk_delete = ? WHERE id = ?", (now, repo_id))
            return True

    def forget_repository(self, repo_id: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM repositories WHERE id = ?", (repo_id,))
