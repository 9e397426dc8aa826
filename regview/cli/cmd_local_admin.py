"""`regview local user|group|project|member|token ...`: administer the embedded GitLab instance.

For scripts and tests; every command takes `--data DIR` (the registry's data directory, as for
`regview serve`). `regview serve` need not be stopped: the database is shared safely.

    regview local user add alice [--admin]
    regview local group add acme/tools
    regview local project add acme/app --visibility internal --registry-access private
    regview local member add acme alice developer
    regview local token add --user alice --kind personal --scopes read_registry,write_registry
    regview local token revoke 3

The sub-commands are hooked into `regview local` by `cmd_serve` (see `register_local`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from regview.paths import default_paths

if TYPE_CHECKING:
    from typing import TypeAlias

    from regview.server.gitlab.model import GitLabStore

    Sub: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def register(sub: Sub) -> None:
    """Nothing at the top level: these commands live under `regview local`."""


def _store(args: argparse.Namespace) -> GitLabStore:
    from regview.server.gitlab.model import GitLabStore

    data = Path(args.data) if args.data else default_paths().local_registry_dir
    return GitLabStore(data)


def _run(
    action: Callable[[GitLabStore, argparse.Namespace], str],
) -> Callable[[argparse.Namespace], int]:
    def func(args: argparse.Namespace) -> int:
        from regview.server.errors import StoreError

        prog = f"regview local {args.local_command} {args.admin_command}"
        try:
            store = _store(args)
        except StoreError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        try:
            print(action(store, args))
        except (StoreError, ValueError) as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        finally:
            store.close()
        return 0

    return func


def _user_add(store: GitLabStore, args: argparse.Namespace) -> str:
    user = store.add_user(args.name, admin=args.admin)
    return f"user {user.username} (id {user.id}{', administrator' if user.admin else ''})"


def _group_add(store: GitLabStore, args: argparse.Namespace) -> str:
    from regview.server.gitlab.perms import Visibility

    group = store.add_group(args.path, Visibility(args.visibility))
    return f"group {group.path} (id {group.id}, {group.visibility})"


def _project_add(store: GitLabStore, args: argparse.Namespace) -> str:
    from regview.server.gitlab.perms import RegistryAccess, Visibility

    project = store.add_project(
        args.path, Visibility(args.visibility), RegistryAccess(args.registry_access)
    )
    return (
        f"project {project.path} (id {project.id}, {project.visibility}, container registry "
        f"{project.registry_access})"
    )


def _member_add(store: GitLabStore, args: argparse.Namespace) -> str:
    from regview.server.gitlab.perms import Role

    role = Role.parse(args.role)
    store.add_member(args.source, args.user, role)
    return f"{args.user} is {role.name.lower()} of {args.source.strip('/')}"


def _token_add(store: GitLabStore, args: argparse.Namespace) -> str:
    from regview.server.gitlab.perms import Role, TokenKind

    kind = TokenKind(args.kind)
    scopes = {s for part in args.scopes for s in part.replace(",", " ").split()}
    project, group = args.project, args.group
    if kind is TokenKind.GROUP and group is None:
        group, project = project, None
    token, secret = store.add_token(
        kind,
        username=args.user,
        scopes=scopes,
        project=project,
        group=group,
        expires_at=args.expires,
        name=args.name or "",
        role=Role.parse(args.role),
    )
    return f"username: {token.username}\ntoken: {secret}\nid: {token.id}"


def _token_revoke(store: GitLabStore, args: argparse.Namespace) -> str:
    token = store.revoke_token(args.id)
    return f"token {token.id} ({token.kind}, {token.username}) revoked"


def _token_list(store: GitLabStore, args: argparse.Namespace) -> str:
    lines = []
    for t in store.tokens():
        state = "revoked" if t.revoked else ("active" if t.active() else "expired")
        scopes = ",".join(sorted(t.scopes)) or "-"
        lines.append(f"{t.id}\t{t.kind}\t{t.username}\t{scopes}\t{t.expires_at or '-'}\t{state}")
    return "\n".join(lines) if lines else "no tokens"


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="data directory (default: regview's local-registry folder)")


def register_local(local_sub: Sub) -> None:
    """Add `user`, `group`, `project`, `member` and `token` under `regview local`."""
    user = local_sub.add_parser("user", help="GitLab users of the embedded registry")
    user_sub = user.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = user_sub.add_parser("add", help="add a user")
    p.add_argument("name")
    p.add_argument("--admin", action="store_true", help="an administrator (sees everything)")
    _data_arg(p)
    p.set_defaults(func=_run(_user_add))

    group = local_sub.add_parser("group", help="GitLab groups")
    group_sub = group.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = group_sub.add_parser("add", help="add a group (parents are created as needed)")
    p.add_argument("path")
    p.add_argument("--visibility", choices=("public", "internal", "private"), default="public")
    _data_arg(p)
    p.set_defaults(func=_run(_group_add))

    project = local_sub.add_parser("project", help="GitLab projects")
    project_sub = project.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = project_sub.add_parser("add", help="add a project (its image paths: PATH[/a[/b]])")
    p.add_argument("path")
    p.add_argument("--visibility", choices=("public", "internal", "private"), default="private")
    p.add_argument(
        "--registry-access", choices=("enabled", "private", "disabled"), default="enabled"
    )
    _data_arg(p)
    p.set_defaults(func=_run(_project_add))

    member = local_sub.add_parser("member", help="project and group memberships")
    member_sub = member.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = member_sub.add_parser("add", help="make USER a member of a project or group")
    p.add_argument("source", metavar="PROJECT-OR-GROUP")
    p.add_argument("user", metavar="USER")
    p.add_argument("role", metavar="ROLE", help="guest, reporter, developer, maintainer, owner")
    _data_arg(p)
    p.set_defaults(func=_run(_member_add))

    token = local_sub.add_parser("token", help="access tokens")
    token_sub = token.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = token_sub.add_parser("add", help="create a token; prints the user name and the token")
    p.add_argument(
        "--user",
        help="personal: the owner; project/group: the bot user (created); job: the job's user; "
        "deploy: optional user name",
    )
    p.add_argument(
        "--kind", choices=("personal", "deploy", "project", "group", "job"), default="personal"
    )
    p.add_argument(
        "--scopes",
        nargs="*",
        default=[],
        help="read_registry, write_registry, api, read_api (comma- or space-separated)",
    )
    p.add_argument("--project", help="the project a project/deploy/job token belongs to")
    p.add_argument("--group", help="the group a group/deploy token belongs to")
    p.add_argument("--expires", help="expiry date (YYYY-MM-DD) or date-time, UTC")
    p.add_argument("--name", help="a label for the token")
    p.add_argument(
        "--role", default="maintainer", help="role of a new project/group token's bot user"
    )
    _data_arg(p)
    p.set_defaults(func=_run(_token_add))
    p = token_sub.add_parser("revoke", help="revoke a token by id")
    p.add_argument("id", type=int)
    _data_arg(p)
    p.set_defaults(func=_run(_token_revoke))
    p = token_sub.add_parser("list", help="list tokens (never their secrets)")
    _data_arg(p)
    p.set_defaults(func=_run(_token_list))
