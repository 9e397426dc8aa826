"""Docker Hub's API (hub.docker.com) for what its registry's `/v2` refuses: deleting a tag.

    GET    /v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100   {"next", "results": [tag]}
    DELETE /v2/namespaces/{ns}/repositories/{repo}/tags/{tag}
           (/v2/repositories/{ns}/{repo}/tags/{tag}/ where that route is not there: 404/405)
    POST   /v2/auth/token {"identifier", "secret"} -> {"access_token"}   (a PAT as the secret)
           (/v2/users/login {"username", "password"} -> {"token"}, its deprecated predecessor)

Listing through the API costs no pull: Docker Hub counts GETs of `/v2/*/manifests/*` against the
pull rate limit, and a tag object already says its digest, size, platforms (`images`) and push
time. Deleting a tag removes that tag only; other tags on the same digest stay (the API deletes
by name). The credential is the registry login itself: the username and a personal access
token with "Read, Write, Delete" (a password works where no SSO is enforced).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from regview.core import errors as E
from regview.core.client.auth import jwt_claims
from regview.core.model import (
    ArtifactKind,
    CredentialKind,
    PlatformInfo,
    RegistryKind,
    TagInfo,
)
from regview.core.vendors import VendorSpec
from regview.core.vendors.base import CredentialNeed, VendorAccess, VendorAPI, VendorContext
from regview.core.vendors.http import VendorHTTP
from regview.spec import mediatypes as mt
from regview.spec.manifest import parse_time

API = "https://hub.docker.com"
PAGE_SIZE = 100  # the most Docker Hub hands out per page
#: PAT scopes (as `POST /v2/access-tokens` names them) that include deleting
DELETE_SCOPES = ("repo:admin",)

NEED = CredentialNeed(
    api="Docker Hub API (hub.docker.com)",
    secret="a Docker Hub personal access token",
    scopes=("Read, Write, Delete",),
    words=(
        "Deleting on Docker Hub goes through the Docker Hub API, which takes your username and "
        "a personal access token with the permission “Read, Write, Delete” (Account settings "
        "→ Personal access tokens). Listing needs only “Read-only”."
    ),
)

_HINTS = {
    401: "the username or personal access token is not accepted by the Docker Hub API",
    403: "this token may not do that: deleting needs a personal access token with "
    "“Read, Write, Delete”, and the account must own or administer the repository",
    404: "no such repository or tag on Docker Hub, or not visible to this account",
}


def split_repository(repository: str) -> tuple[str, str]:
    """("library", "nginx") for "nginx"; ("me", "app/x") is not a Hub name (one level only)."""
    if "/" not in repository:
        return "library", repository
    ns, repo = repository.split("/", 1)
    return ns, repo


def tag_info(repository: str, obj: Mapping[str, Any]) -> TagInfo:
    """One tag object of the tags listing as the planner and the tags table read it."""
    name = str(obj.get("name") or "")
    digest = str(obj.get("digest") or "")
    images = [i for i in obj.get("images") or [] if isinstance(i, dict)]
    platforms = tuple(
        PlatformInfo(
            os=str(i.get("os") or ""),
            architecture=str(i.get("architecture") or ""),
            variant=str(i.get("variant") or ""),
            digest=str(i.get("digest") or ""),
            size=int(i.get("size") or 0),
        )
        for i in images
    )
    media_type = str(obj.get("media_type") or "")
    is_index = media_type in mt.INDEXES or any(p.digest and p.digest != digest for p in platforms)
    size = obj.get("full_size")
    # Layers are not listed: each platform image stands in for its blobs in the estimate of
    # what a deletion frees (an upper bound: layers shared between images count twice).
    if is_index:
        blobs = tuple((p.digest, p.size) for p in platforms if p.digest)
    else:
        blobs = ((digest, int(size)),) if digest and isinstance(size, int) else ()
    return TagInfo(
        repository=repository,
        tag=name,
        digest=digest,
        media_type=media_type or (mt.OCI_INDEX if is_index else ""),
        kind=ArtifactKind.INDEX if is_index else ArtifactKind.IMAGE,
        size=size if isinstance(size, int) else None,
        created=parse_time(obj.get("tag_last_pushed") or obj.get("last_updated")),
        pulled=parse_time(obj.get("tag_last_pulled")),
        platforms=platforms,
        child_digests=tuple(p.digest for p in platforms if p.digest) if is_index else (),
        blobs=blobs,
        error="" if digest else "Docker Hub lists no digest for this tag",
    )


class DockerHub(VendorAPI):
    kind = RegistryKind.DOCKER_HUB
    title = "Docker Hub API"
    need = NEED
    storage_note = (
        "Docker Hub manages its own storage: an image left without tags stays until Docker "
        "Hub's retention removes it; regview cannot say when."
    )

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.http = VendorHTTP(ctx, title=self.title, hints=_HINTS)
        self._token: str | None = None
        self._login_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- sign-in ---------------------------------------------------------------------------
    def _problem(self) -> str:
        """Why these credentials cannot sign in to the API at all, or ""."""
        creds = self.ctx.credentials
        if creds is None or creds.kind == CredentialKind.ANONYMOUS or not creds.secret:
            return (
                "no Docker Hub login: add your username and a personal access token with "
                "“Read, Write, Delete” to this registry"
            )
        if creds.kind == CredentialKind.IDENTITY:
            return (
                "the saved login is a Docker identity token, which the Docker Hub API does not "
                "take: log in with your username and a personal access token"
            )
        return ""

    async def _sign_in(self) -> str:
        """A bearer token for the API (once per vendor object)."""
        async with self._login_lock:
            if self._token is not None:
                return self._token
            problem = self._problem()
            if problem:
                raise E.VendorScopeMissing(f"{self.registry}: {problem}", registry=self.registry)
            creds = self.ctx.credentials
            assert creds is not None
            what = "signing in to the Docker Hub API"
            # the current route, then its deprecated predecessor for an API without it
            routes = (
                (
                    "v2/auth/token",
                    {"identifier": creds.username, "secret": creds.secret},
                    "access_token",
                ),
                ("v2/users/login", {"username": creds.username, "password": creds.secret}, "token"),
            )
            token: object = None
            for path, body, key in routes:
                try:
                    response = await self.http.call("POST", path, what=what, body=body)
                except E.VendorAPIError as exc:
                    if exc.status in (404, 405) and path != routes[-1][0]:
                        continue
                    raise
                token = self.http.object(response, what).get(key)
                break
            if not isinstance(token, str) or not token:
                raise E.VendorAPIError(
                    f"{self.http.host}: {what}: the answer carries no token", registry=self.registry
                )
            self._token = token
            self.http.client.headers["Authorization"] = f"Bearer {token}"
            return token

    # -- the interface ---------------------------------------------------------------------
    async def access(self, repository: str) -> VendorAccess:
        problem = self._problem()
        if problem:
            return VendorAccess(can_list=True, can_delete=False, words=problem)
        token = await self._sign_in()
        # A token that names its scopes says up front whether it may delete; Docker Hub's
        # documentation does not promise such a claim, so without one the first delete tells
        # (a 403 stops the run, nothing deleted).
        claims = jwt_claims(token)
        raw = claims.get("scope", claims.get("scopes"))
        if isinstance(raw, str):
            scopes: tuple[str, ...] = tuple(raw.split())
        else:
            scopes = tuple(map(str, raw)) if isinstance(raw, list) else ()
        if not scopes:
            return VendorAccess(can_list=True, can_delete=None)
        may = any(s in DELETE_SCOPES for s in scopes)
        return VendorAccess(
            can_list=True,
            can_delete=may,
            scopes=scopes,
            words=""
            if may
            else f"the personal access token has {', '.join(scopes)}; deleting needs one "
            "with “Read, Write, Delete”",
        )

    async def list_tags(self, repository: str) -> list[TagInfo] | None:
        ns, repo = split_repository(repository)
        if self._problem() == "":
            try:
                await self._sign_in()  # private repositories list only when signed in
            except E.VendorAPIError as exc:
                if exc.status != 401:
                    raise
                # a login the API refuses: public tags still list; deleting is refused
                # by `access` in the API's words
        out: list[TagInfo] = []
        path = f"v2/namespaces/{quote(ns, safe='')}/repositories/{quote(repo, safe='')}/tags"
        async for page in self.http.next_pages(
            path, what=f"the tags of {repository}", params={"page_size": PAGE_SIZE}
        ):
            results = page.get("results")
            if not isinstance(results, list):
                raise E.VendorAPIError(
                    f"{self.http.host}: the tags of {repository}: the answer has no results",
                    registry=self.registry,
                )
            out.extend(tag_info(repository, r) for r in results if isinstance(r, dict))
        return out

    async def delete_tag(self, repository: str, tag: str, digest: str, *, sole: bool) -> None:
        await self._sign_in()
        ns, repo = (quote(p, safe="") for p in split_repository(repository))
        what = f"deleting the tag {repository}:{tag}"
        name = quote(tag, safe="")
        try:
            await self.http.call(
                "DELETE",
                f"v2/namespaces/{ns}/repositories/{repo}/tags/{name}",
                what=what,
                ok=(200, 202, 204),
                refused_is_scope=True,
            )
        except E.VendorAPIError as exc:
            if exc.status not in (404, 405):
                raise
            # The route scripts have used for years (docker/hub-feedback#496, #2006): a Hub
            # without the namespaced DELETE answers 404/405 there; a tag that is not there
            # is a 404 on both, so nothing else can be deleted by asking twice.
            await self.http.call(
                "DELETE",
                f"v2/repositories/{ns}/{repo}/tags/{name}/",
                what=what,
                ok=(200, 202, 204),
                refused_is_scope=True,
            )


def _detect(host: str, realm: str, headers: Mapping[str, str]) -> bool:
    return host in ("registry-1.docker.io", "index.docker.io", "docker.io") or (
        "auth.docker.io" in realm
    )


SPEC = VendorSpec(
    kind=RegistryKind.DOCKER_HUB,
    title=DockerHub.title,
    factory=DockerHub,
    default_api=lambda registry_url: API,
    detect=_detect,
)
