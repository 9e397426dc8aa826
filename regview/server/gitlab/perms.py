"""Who may do what in the GitLab emulation: pure functions, no I/O.

The registry half follows the visibility table of GitLab's Container Registry documentation
(`seed-gitlab-container-registry.md`, "Container Registry visibility permissions") exactly:

    visibility  access    anonymous  guest  reporter+
    public      enabled   pull       pull   pull
    public      private   -          -      pull
    internal    enabled   -          pull   pull
    internal    private   -          -      pull
    private     enabled   -          -      pull
    private     private   -          -      pull
    any         disabled  -          -      -        (no operation at all, not even for admins)

Push and delete need Developer or higher (GitLab's create/destroy_container_image) and are not
affected by the access level except `disabled`. A logged-in non-member counts as a guest on
public and internal projects (GitLab gives every signed-in user guest-like access there).

On top of the role, each credential kind and its scopes cut abilities down:

    personal / project / group token   read_registry → pull; write_registry → push, delete;
                                       api → everything; read_api → pull; project/group tokens
                                       reach only their project / the projects under their group
    deploy token                       read_registry → pull, write_registry → push, delete on its
                                       project (or group), whatever the visibility; no REST API
    CI job token                       the job user's role, its own project only; REST API too
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.IntEnum):
    """GitLab's access levels (the numbers are GitLab's own)."""

    NONE = 0
    GUEST = 10
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown role {text!r}; use guest, reporter, developer, maintainer or owner"
            ) from None


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    PRIVATE = "private"


class RegistryAccess(enum.StrEnum):
    """`container_registry_access_level` of a project."""

    ENABLED = "enabled"
    PRIVATE = "private"
    DISABLED = "disabled"


class TokenKind(enum.StrEnum):
    PERSONAL = "personal"
    DEPLOY = "deploy"
    PROJECT = "project"
    GROUP = "group"
    JOB = "job"


class CallerKind(enum.StrEnum):
    ANONYMOUS = "anonymous"
    PERSONAL = "personal"
    DEPLOY = "deploy"
    PROJECT = "project"
    GROUP = "group"
    JOB = "job"


#: Scopes a token may carry (only these matter to the registry and the REST API).
KNOWN_SCOPES = frozenset({"read_registry", "write_registry", "api", "read_api"})
PULL, PUSH, DELETE = "pull", "push", "delete"


@dataclass(frozen=True, slots=True)
class Caller:
    """The credential behind a request, reduced to what permission decisions need."""

    kind: CallerKind
    scopes: frozenset[str] = frozenset()
    admin: bool = False
    #: project/deploy/job tokens: the only project they reach (deploy: or `bound_group`)
    bound_project_id: int | None = None
    #: group tokens and group deploy tokens: the group path whose projects they reach
    bound_group: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.kind is not CallerKind.ANONYMOUS


ANONYMOUS_CALLER = Caller(CallerKind.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    id: int
    path: str
    visibility: Visibility
    registry_access: RegistryAccess


def in_group(project_path: str, group_path: str) -> bool:
    return project_path.startswith(group_path + "/")


def role_can_read_registry(
    visibility: Visibility, access: RegistryAccess, role: Role, *, authenticated: bool
) -> bool:
    """The seed's visibility table, one cell per call."""
    if access is RegistryAccess.DISABLED:
        return False
    if role >= Role.REPORTER:
        return True
    if access is RegistryAccess.PRIVATE:
        return False
    if visibility is Visibility.PUBLIC:
        return True
    if visibility is Visibility.INTERNAL:
        return authenticated
    return False


def role_can_write_registry(access: RegistryAccess, role: Role) -> bool:
    return access is not RegistryAccess.DISABLED and role >= Role.DEVELOPER


def _reaches(caller: Caller, project: ProjectFacts) -> bool:
    """Whether a project-bound or group-bound credential may touch `project` at all."""
    if caller.bound_project_id is not None:
        return caller.bound_project_id == project.id
    if caller.bound_group is not None:
        return in_group(project.path, caller.bound_group)
    return True


def registry_actions(caller: Caller, project: ProjectFacts, role: Role) -> frozenset[str]:
    """Registry actions (`pull`, `push`, `delete`) `caller` may perform on `project`'s images.

    `role` is the caller's effective role on the project (the job's user for a job token, the
    bot user for project/group tokens, NONE for anonymous and deploy tokens).
    """
    if project.registry_access is RegistryAccess.DISABLED or not _reaches(caller, project):
        return frozenset()
    if caller.kind is CallerKind.DEPLOY:
        actions = set()
        if "read_registry" in caller.scopes:
            actions.add(PULL)
        if "write_registry" in caller.scopes:
            actions |= {PUSH, DELETE}
        return frozenset(actions)
    if caller.admin:
        role = Role.OWNER
    allowed: set[str] = set()
    if role_can_read_registry(
        project.visibility, project.registry_access, role, authenticated=caller.authenticated
    ):
        allowed.add(PULL)
    if caller.authenticated and role_can_write_registry(project.registry_access, role):
        allowed |= {PUSH, DELETE}
    if caller.kind in (CallerKind.ANONYMOUS, CallerKind.JOB):
        return frozenset(allowed)
    granted: set[str] = set()
    if caller.scopes & {"api", "read_registry", "read_api"}:
        granted.add(PULL)
    if caller.scopes & {"api", "write_registry"}:
        granted |= {PUSH, DELETE}
    return frozenset(allowed & granted)


def has_registry_scope(caller: Caller) -> bool:
    """GitLab answers 403 at the token realm when a credential has no registry ability at all."""
    if caller.kind in (CallerKind.ANONYMOUS, CallerKind.JOB):
        return True
    return bool(caller.scopes & {"api", "read_api", "read_registry", "write_registry"})


def can_catalog(caller: Caller) -> bool:
    """`registry:catalog:*` is for administrators only (as on GitLab)."""
    return (
        caller.admin
        and caller.kind is CallerKind.PERSONAL
        and bool(caller.scopes & {"api", "read_registry"})
    )


# --- REST API ---------------------------------------------------------------------------------


class ApiAccess(enum.Enum):
    NONE = 0  # 401: this credential cannot use the REST API
    READ = 1  # GET only (read_api)
    WRITE = 2


def api_access(caller: Caller) -> ApiAccess:
    if caller.kind is CallerKind.ANONYMOUS:
        return ApiAccess.READ
    if caller.kind is CallerKind.DEPLOY:
        return ApiAccess.NONE
    if caller.kind is CallerKind.JOB:
        return ApiAccess.WRITE
    if "api" in caller.scopes:
        return ApiAccess.WRITE
    if "read_api" in caller.scopes:
        return ApiAccess.READ
    return ApiAccess.NONE


def can_see_project(caller: Caller, project: ProjectFacts, role: Role) -> bool:
    """Whether the REST API shows the project at all (else 404 Project Not Found)."""
    if not _reaches(caller, project) or caller.kind is CallerKind.DEPLOY:
        return False
    if caller.admin or role >= Role.GUEST:
        return True
    if project.visibility is Visibility.PUBLIC:
        return True
    return project.visibility is Visibility.INTERNAL and caller.authenticated


def api_can_read_registry(caller: Caller, project: ProjectFacts, role: Role) -> bool:
    if caller.admin:
        role = Role.OWNER
    return _reaches(caller, project) and role_can_read_registry(
        project.visibility, project.registry_access, role, authenticated=caller.authenticated
    )


def api_can_destroy_images(caller: Caller, project: ProjectFacts, role: Role) -> bool:
    if caller.admin:
        role = Role.OWNER
    return (
        caller.authenticated
        and _reaches(caller, project)
        and role_can_write_registry(project.registry_access, role)
    )


def api_can_admin_project(caller: Caller, project: ProjectFacts, role: Role) -> bool:
    """Changing project settings (registry access level, cleanup policy): Maintainer+."""
    if caller.kind is CallerKind.JOB or not _reaches(caller, project):
        return False
    return caller.admin or role >= Role.MAINTAINER
