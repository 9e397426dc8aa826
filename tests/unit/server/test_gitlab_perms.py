"""The permission logic as pure functions: every cell of the seed's visibility table, scopes and
token kinds."""

from __future__ import annotations

import pytest

from regview.server.gitlab.perms import (
    ANONYMOUS_CALLER,
    ApiAccess,
    Caller,
    CallerKind,
    ProjectFacts,
    RegistryAccess,
    Role,
    Visibility,
    api_access,
    api_can_admin_project,
    api_can_destroy_images,
    api_can_read_registry,
    can_catalog,
    can_see_project,
    has_registry_scope,
    registry_actions,
    role_can_read_registry,
)

PUB, INT, PRIV = Visibility.PUBLIC, Visibility.INTERNAL, Visibility.PRIVATE
EN, PR, DIS = RegistryAccess.ENABLED, RegistryAccess.PRIVATE, RegistryAccess.DISABLED

# The seed's table: (visibility, access) → (anonymous, guest, reporter+) may view and pull.
TABLE = {
    (PUB, EN): (True, True, True),
    (PUB, PR): (False, False, True),
    (INT, EN): (False, True, True),
    (INT, PR): (False, False, True),
    (PRIV, EN): (False, False, True),
    (PRIV, PR): (False, False, True),
    (PUB, DIS): (False, False, False),
    (INT, DIS): (False, False, False),
    (PRIV, DIS): (False, False, False),
}
READER_ROLES = [Role.REPORTER, Role.DEVELOPER, Role.MAINTAINER, Role.OWNER]
PAT_RW = Caller(CallerKind.PERSONAL, frozenset({"read_registry", "write_registry"}))


def project(vis: Visibility, access: RegistryAccess, pid: int = 1) -> ProjectFacts:
    return ProjectFacts(pid, "acme/app", vis, access)


@pytest.mark.parametrize(("vis", "access"), list(TABLE))
def test_every_cell_of_the_visibility_table(vis: Visibility, access: RegistryAccess) -> None:
    anon, guest, reporter = TABLE[(vis, access)]
    assert role_can_read_registry(vis, access, Role.NONE, authenticated=False) is anon
    assert role_can_read_registry(vis, access, Role.GUEST, authenticated=True) is guest
    for role in READER_ROLES:
        assert role_can_read_registry(vis, access, role, authenticated=True) is reporter
    # the same through the token grant the realm computes
    p = project(vis, access)
    assert ("pull" in registry_actions(ANONYMOUS_CALLER, p, Role.NONE)) is anon
    assert ("pull" in registry_actions(PAT_RW, p, Role.GUEST)) is guest
    for role in READER_ROLES:
        assert ("pull" in registry_actions(PAT_RW, p, role)) is reporter


@pytest.mark.parametrize(("vis", "access"), list(TABLE))
def test_push_and_delete_need_developer_and_an_enabled_registry(
    vis: Visibility, access: RegistryAccess
) -> None:
    p = project(vis, access)
    for role in Role:
        acts = registry_actions(PAT_RW, p, role)
        writable = role >= Role.DEVELOPER and access is not DIS
        assert ("push" in acts) is writable
        assert ("delete" in acts) is writable
    assert registry_actions(ANONYMOUS_CALLER, p, Role.NONE) <= {"pull"}


def test_a_signed_in_non_member_reads_public_and_internal_but_not_private() -> None:
    assert registry_actions(PAT_RW, project(PUB, EN), Role.NONE) == {"pull"}
    assert registry_actions(PAT_RW, project(INT, EN), Role.NONE) == {"pull"}
    assert registry_actions(PAT_RW, project(PRIV, EN), Role.NONE) == set()


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        ({"read_registry"}, {"pull"}),
        ({"write_registry"}, {"push", "delete"}),
        ({"read_registry", "write_registry"}, {"pull", "push", "delete"}),
        ({"api"}, {"pull", "push", "delete"}),
        ({"read_api"}, {"pull"}),
        (set(), set()),
    ],
)
def test_scopes_cut_down_a_maintainers_actions(scopes: set[str], expected: set[str]) -> None:
    for kind in (CallerKind.PERSONAL, CallerKind.PROJECT, CallerKind.GROUP):
        caller = Caller(kind, frozenset(scopes))
        assert registry_actions(caller, project(PRIV, EN), Role.MAINTAINER) == expected


def test_admins_do_everything_except_on_a_disabled_registry() -> None:
    admin = Caller(CallerKind.PERSONAL, frozenset({"api"}), admin=True)
    assert registry_actions(admin, project(PRIV, PR), Role.NONE) == {"pull", "push", "delete"}
    assert registry_actions(admin, project(PRIV, DIS), Role.NONE) == set()
    assert can_catalog(admin)
    assert not can_catalog(PAT_RW)
    assert not can_catalog(ANONYMOUS_CALLER)


def test_deploy_tokens_ignore_visibility_but_not_their_project_or_disabled() -> None:
    ro = Caller(CallerKind.DEPLOY, frozenset({"read_registry"}), bound_project_id=1)
    rw = Caller(
        CallerKind.DEPLOY, frozenset({"read_registry", "write_registry"}), bound_project_id=1
    )
    for access in (EN, PR):
        assert registry_actions(ro, project(PRIV, access), Role.NONE) == {"pull"}
        assert registry_actions(rw, project(PRIV, access), Role.NONE) == {"pull", "push", "delete"}
    assert registry_actions(rw, project(PRIV, DIS), Role.NONE) == set()
    assert registry_actions(rw, project(PUB, EN, pid=2), Role.NONE) == set()
    group = Caller(CallerKind.DEPLOY, frozenset({"read_registry"}), bound_group="acme")
    assert registry_actions(group, project(PRIV, EN), Role.NONE) == {"pull"}
    other = ProjectFacts(3, "other/app", PRIV, EN)
    assert registry_actions(group, other, Role.NONE) == set()


def test_job_tokens_act_as_their_user_on_their_project_only() -> None:
    job = Caller(CallerKind.JOB, bound_project_id=1)
    assert registry_actions(job, project(PRIV, EN), Role.DEVELOPER) == {"pull", "push", "delete"}
    assert registry_actions(job, project(PRIV, EN), Role.REPORTER) == {"pull"}
    assert registry_actions(job, project(PUB, EN, pid=2), Role.OWNER) == set()


def test_project_and_group_tokens_reach_only_their_project_or_group() -> None:
    ptok = Caller(CallerKind.PROJECT, frozenset({"api"}), bound_project_id=1)
    assert registry_actions(ptok, project(PRIV, EN), Role.MAINTAINER) == {"pull", "push", "delete"}
    assert registry_actions(ptok, project(PUB, EN, pid=2), Role.MAINTAINER) == set()
    gtok = Caller(CallerKind.GROUP, frozenset({"read_registry"}), bound_group="acme")
    assert registry_actions(gtok, project(PRIV, EN), Role.REPORTER) == {"pull"}
    assert registry_actions(gtok, ProjectFacts(9, "acmex/app", PUB, EN), Role.NONE) == set()


def test_realm_refuses_credentials_without_any_registry_scope() -> None:
    assert not has_registry_scope(Caller(CallerKind.PERSONAL, frozenset()))
    assert has_registry_scope(Caller(CallerKind.PERSONAL, frozenset({"read_api"})))
    assert has_registry_scope(ANONYMOUS_CALLER)
    assert has_registry_scope(Caller(CallerKind.JOB, bound_project_id=1))


def test_rest_api_access_by_credential() -> None:
    assert api_access(Caller(CallerKind.DEPLOY, frozenset({"read_registry"}))) is ApiAccess.NONE
    assert api_access(Caller(CallerKind.PERSONAL, frozenset({"read_registry"}))) is ApiAccess.NONE
    assert api_access(Caller(CallerKind.PERSONAL, frozenset({"read_api"}))) is ApiAccess.READ
    assert api_access(Caller(CallerKind.PROJECT, frozenset({"api"}))) is ApiAccess.WRITE
    assert api_access(Caller(CallerKind.JOB, bound_project_id=1)) is ApiAccess.WRITE
    assert api_access(ANONYMOUS_CALLER) is ApiAccess.READ


def test_rest_api_project_rules() -> None:
    user = Caller(CallerKind.PERSONAL, frozenset({"api"}))
    assert can_see_project(ANONYMOUS_CALLER, project(PUB, PR), Role.NONE)
    assert not can_see_project(ANONYMOUS_CALLER, project(INT, EN), Role.NONE)
    assert can_see_project(user, project(INT, EN), Role.NONE)
    assert not can_see_project(user, project(PRIV, EN), Role.NONE)
    assert can_see_project(user, project(PRIV, EN), Role.GUEST)
    assert not api_can_read_registry(user, project(PRIV, EN), Role.GUEST)
    assert api_can_read_registry(user, project(PRIV, PR), Role.REPORTER)
    assert not api_can_destroy_images(user, project(PRIV, EN), Role.REPORTER)
    assert api_can_destroy_images(user, project(PRIV, EN), Role.DEVELOPER)
    assert not api_can_destroy_images(ANONYMOUS_CALLER, project(PUB, EN), Role.NONE)
    assert not api_can_admin_project(user, project(PRIV, EN), Role.DEVELOPER)
    assert api_can_admin_project(user, project(PRIV, EN), Role.MAINTAINER)
    job = Caller(CallerKind.JOB, bound_project_id=1)
    assert not api_can_admin_project(job, project(PRIV, EN), Role.OWNER)


def test_role_parse() -> None:
    assert Role.parse("Developer") is Role.DEVELOPER
    with pytest.raises(ValueError, match="unknown role"):
        Role.parse("boss")
