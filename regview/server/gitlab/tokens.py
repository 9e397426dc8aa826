"""Tokens of the GitLab instance: created with a prefix like GitLab's, stored only as
SHA-256 digests, looked up by secret, revoked, and turned into the caller they stand for."""

from __future__ import annotations

import secrets
import sqlite3

from regview.server.gitlab.directory import DirectoryStore
from regview.server.gitlab.perms import KNOWN_SCOPES, Caller, CallerKind, Role, TokenKind
from regview.server.gitlab.records import (
    JOB_USERNAME,
    Identity,
    NotFound,
    Token,
    hash_token,
    now_iso,
    parse_time,
)

_TOKEN_PREFIX = {
    TokenKind.PERSONAL: "glpat-",
    TokenKind.PROJECT: "glpat-",
    TokenKind.GROUP: "glpat-",
    TokenKind.DEPLOY: "gldt-",
    TokenKind.JOB: "glcbt-",
}


class TokenStore(DirectoryStore):
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
