"""The `/v2/` side of GitLab's token auth: check the realm's JWT on every registry request.

    no token / Basic credentials        401 UNAUTHORIZED, Bearer challenge with realm, service, scope
    token forged, malformed or expired  401, same challenge + error="invalid_token"
    token valid, resource not in it     401, same challenge + error="insufficient_scope"
                                        (the client asks the realm again, for this scope)
    token valid, resource in it but     403 DENIED: the realm already decided the caller may not
    without the needed action           (e.g. push with a read_registry token)

The realm URL is the server's own `/jwt/auth` at its configured public URL, else at the address
the connection arrived at (never the client's Host header).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request

from regview.server.addresses import public_base
from regview.server.auth import Access, Principal
from regview.server.errors import AccessDenied, AuthenticationRequired
from regview.server.gitlab.jwt_service import Scope, TokenInvalid, TokenSigner


def challenge(realm: str, service: str, access: Sequence[Access], error: str | None = None) -> str:
    parts = [f'realm="{realm}"', f'service="{service}"']
    if access:
        scope = " ".join(f"{a.type}:{a.name}:{','.join(a.actions)}" for a in access)
        parts.append(f'scope="{scope}"')
    if error:
        parts.append(f'error="{error}"')
    return "Bearer " + ",".join(parts)


def _covers(granted: Sequence[Scope], need: Access) -> bool:
    for scope in granted:
        if scope.type == need.type and scope.name == need.name:
            have = set(scope.actions)
            if "*" in have or set(need.actions) <= have:
                return True
    return False


def _mentions(granted: Sequence[Scope], need: Access) -> bool:
    return any(s.type == need.type and s.name == need.name for s in granted)


class GitLabAuthorizer:
    """`Authorizer` for `/v2/` that accepts only registry JWTs signed by `signer`."""

    def __init__(self, signer: TokenSigner, realm: str | None = None) -> None:
        self.signer = signer
        self.realm = realm

    def realm_for(self, request: Request) -> str:
        if self.realm:
            return self.realm
        return public_base(request) + "/jwt/auth"

    async def authorize(self, request: Request, access: Sequence[Access]) -> Principal:
        realm = self.realm_for(request)
        service = self.signer.service
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationRequired(challenge(realm, service, access))
        try:
            subject, granted = self.signer.verify(value.strip())
        except TokenInvalid as exc:
            raise AuthenticationRequired(
                challenge(realm, service, access, "invalid_token"), str(exc)
            ) from exc
        missing = [need for need in access if not _covers(granted, need)]
        if not missing:
            return Principal(subject, anonymous=not subject, extra={"access": granted})
        if all(_mentions(granted, need) for need in missing):
            names = ", ".join(f"{m.name} ({','.join(m.actions)})" for m in missing)
            raise AccessDenied(f"requested access to the resource is denied: {names}")
        raise AuthenticationRequired(
            challenge(realm, service, access, "insufficient_scope"),
            "the token does not grant access to this repository",
        )
