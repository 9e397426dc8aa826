"""Users, groups, projects and memberships of the GitLab instance, and the effective role a
user has on a project."""

from __future__ import annotations

import json
from typing import Any

from regview.server.gitlab.db import StoreBase
from regview.server.gitlab.perms import RegistryAccess, Role, Visibility
from regview.server.gitlab.records import (
    JOB_USERNAME,
    Conflict,
    Group,
    NotFound,
    Project,
    User,
    check_path,
    now_iso,
    row_project,
    row_user,
)

#: GitLab's defaults for a new project's cleanup policy.
DEFAULT_POLICY: dict[str, Any] = {
    "cadence": "1d",
    "enabled": False,
    "keep_n": 10,
    "older_than": "90d",
    "name_regex": ".*",
    "name_regex_keep": None,
}


class DirectoryStore(StoreBase):
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
