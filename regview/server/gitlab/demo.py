"""GitLab owners for the demo repositories (`regview serve --auth token --demo`).

The demo registry's images (`server/demo.py`) belong to projects of every visibility, so the GUI's
local mode shows what anonymous users, guests and members each see:

    acme/webshop     private,  registry enabled     demo: developer (via group acme)
    acme/infra       internal, registry private     demo: developer (via group acme)
    oss/tools        public,   registry enabled     demo: maintainer
    oss/docs         public,   registry private     demo: not a member

The demo user `demo` gets a personal access token with `api`, `read_registry` and
`write_registry`; it is kept in `gitlab-demo-token` (mode 0600) in the data directory so the GUI
can read it, and printed by `regview serve`.
"""

from __future__ import annotations

import os
from pathlib import Path

from regview.server.gitlab.model import GitLabStore
from regview.server.gitlab.perms import RegistryAccess, Role, TokenKind, Visibility

DEMO_USER = "demo"
TOKEN_FILE = "gitlab-demo-token"

PROJECTS: tuple[tuple[str, Visibility, RegistryAccess], ...] = (
    ("acme/webshop", Visibility.PRIVATE, RegistryAccess.ENABLED),
    ("acme/infra", Visibility.INTERNAL, RegistryAccess.PRIVATE),
    ("oss/tools", Visibility.PUBLIC, RegistryAccess.ENABLED),
    ("oss/docs", Visibility.PUBLIC, RegistryAccess.PRIVATE),
)


def seed(store: GitLabStore, data_dir: Path) -> tuple[str, str]:
    """Create the demo owners once; returns (user name, token) of the demo user."""
    token_path = data_dir / TOKEN_FILE
    if store.projects() and token_path.exists():
        return DEMO_USER, token_path.read_text(encoding="utf-8").strip()
    for group in ("acme", "oss"):
        store.add_group(group, Visibility.PUBLIC)
    for path, visibility, access in PROJECTS:
        store.add_project(path, visibility, access)
    store.add_user(DEMO_USER)
    store.add_user("root", admin=True)
    store.add_member("acme", DEMO_USER, Role.DEVELOPER)
    store.add_member("oss/tools", DEMO_USER, Role.MAINTAINER)
    _, secret = store.add_token(
        TokenKind.PERSONAL,
        username=DEMO_USER,
        scopes={"api", "read_registry", "write_registry"},
        name="regview demo",
    )
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return DEMO_USER, secret
