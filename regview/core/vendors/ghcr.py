"""GitHub Container Registry (ghcr.io) through GitHub's packages REST API (api.github.com).

    GET    /user                                              who the token is; X-OAuth-Scopes
    GET    /users/{owner}                                     "type": "User" | "Organization"
    GET    {base}/versions?per_page=100[&state=deleted]      Link-paged; each version: id,
                                                              name (= digest), metadata.container.tags
    DELETE {base}/versions/{id}                               the version and every tag on it
    POST   {base}/versions/{id}/restore                       within 30 days of the deletion
    base = /orgs/{org}/packages/container/{name}, /users/{user}/packages/container/{name}, or
           /user/packages/container/{name} for the token's own packages (`name` URL-encoded)

`/v2` on ghcr.io refuses DELETE, and the API deletes *versions* (a digest with all its tags).
Deleting one tag of several therefore takes the safe path: the tag is pointed at a unique
throw-away manifest (a `PUT` to `/v2`, part of the deletion the user confirmed), and the
throw-away version is deleted — the version the other tags share is untouched. A tag alone on its
version, with nothing kept using that version, goes with a single version delete.

The credential is the registry login itself: a GitHub username and a personal access token
(classic) with `read:packages` and `delete:packages` (`write:packages` too, for the safe path's
push). The token's scopes come back in `X-OAuth-Scopes` on every answer, so a token without
`delete:packages` is refused before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from regview.core import errors as E
from regview.core.deletion.executor_types import throwaway_manifest
from regview.core.model import CredentialKind, RegistryKind
from regview.core.vendors import VendorSpec
from regview.core.vendors.base import CredentialNeed, VendorAccess, VendorAPI, VendorContext
from regview.core.vendors.http import VendorHTTP
from regview.spec import mediatypes as mt

API = "https://api.github.com"
API_VERSION = "2022-11-28"
READ, WRITE, DELETE = "read:packages", "write:packages", "delete:packages"
#: how often the throw-away version is looked for after its push (GitHub lists a pushed
#: manifest as a version soon, not necessarily at once)
FIND_ATTEMPTS = 5

NEED = CredentialNeed(
    api="GitHub packages REST API (api.github.com)",
    secret="a GitHub personal access token (classic)",
    scopes=(READ, WRITE, DELETE),
    words=(
        "Deleting on ghcr.io goes through GitHub's packages API, which takes your GitHub "
        "username and a personal access token (classic) with read:packages and "
        "delete:packages — and write:packages to delete one tag of several (Settings → "
        "Developer settings → Personal access tokens → Tokens (classic)). Fine-grained tokens "
        "cannot use the packages API."
    ),
)

_HINTS = {
    400: "GitHub refuses this (it keeps a package's last tagged version: delete the whole "
    "package on GitHub instead)",
    401: "GitHub does not accept this token (expired or revoked?)",
    403: "this token may not do that: deleting needs a personal access token (classic) with "
    "read:packages and delete:packages, and admin rights on the package",
    404: "no such package or version, or not visible to this token (it needs read:packages)",
}


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    digest: str
    tags: tuple[str, ...]


def _versions(page: Any) -> list[Version]:
    out = []
    for v in page if isinstance(page, list) else []:
        if not isinstance(v, dict) or not isinstance(v.get("id"), int):
            continue
        container = (
            ((v.get("metadata") or {}).get("container") or {})
            if isinstance(v.get("metadata"), dict)
            else {}
        )
        tags = container.get("tags") if isinstance(container, dict) else None
        out.append(Version(v["id"], str(v.get("name") or ""), tuple(map(str, tags or ()))))
    return out


def _scopes(header: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in header.split(",") if s.strip())


class GHCR(VendorAPI):
    kind = RegistryKind.GHCR
    title = "GitHub packages API"
    need = NEED
    restorable = True
    storage_note = (
        "On GitHub a version left without tags stays in the package (and counts towards its "
        "storage) until it is deleted: choose to delete manifests left untagged to remove it. "
        "Deleted versions can be restored for 30 days."
    )

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.http = VendorHTTP(ctx, title=self.title, hints=_HINTS)
        self.http.client.headers["Accept"] = "application/vnd.github+json"
        self.http.client.headers["X-GitHub-Api-Version"] = API_VERSION
        creds = ctx.credentials
        if creds is not None and creds.secret and creds.kind != CredentialKind.ANONYMOUS:
            self.http.client.headers["Authorization"] = f"Bearer {creds.secret}"
        self._me: tuple[str, tuple[str, ...] | None] | None = None
        self._bases: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- who, where --------------------------------------------------------------------------
    def _signed_in(self) -> bool:
        return "Authorization" in self.http.client.headers

    async def _whoami(self) -> tuple[str, tuple[str, ...] | None]:
        """(login, scopes) of the token; scopes None when GitHub does not say (not classic)."""
        if self._me is None:
            response = await self.http.call("GET", "user", what="who this GitHub token is")
            login = str(self.http.object(response, "who this token is").get("login") or "")
            header = response.headers.get("X-OAuth-Scopes")
            self._me = (login, _scopes(header) if header is not None else None)
        return self._me

    async def _base(self, repository: str) -> str:
        """The packages API path of `repository` (owner/name…)."""
        known = self._bases.get(repository)
        if known is not None:
            return known
        owner, _, name = repository.partition("/")
        if not name:
            raise E.VendorAPIError(
                f"{self.registry}: {repository} is not a ghcr.io image path (OWNER/NAME)",
                registry=self.registry,
            )
        package = quote(name, safe="")
        login = (await self._whoami())[0] if self._signed_in() else ""
        if login and login.lower() == owner.lower():
            base = f"user/packages/container/{package}"
        else:
            response = await self.http.call(
                "GET", f"users/{quote(owner, safe='')}", what=f"the owner of {repository}"
            )
            kind = self.http.object(response, "the owner").get("type")
            where = "orgs" if kind == "Organization" else "users"
            base = f"{where}/{quote(owner, safe='')}/packages/container/{package}"
        self._bases[repository] = base
        return base

    async def versions(self, repository: str, *, deleted: bool = False) -> list[Version]:
        base = await self._base(repository)
        params: dict[str, Any] = {"per_page": 100}
        if deleted:
            params["state"] = "deleted"
        out: list[Version] = []
        async for response in self.http.link_pages(
            f"{base}/versions", what=f"the versions of {repository}", params=params
        ):
            out.extend(_versions(self.http.json(response, "the versions")))
        return out

    async def _version_of(self, repository: str, digest: str, *, tries: int = 1) -> Version:
        for n in range(tries):
            found = next((v for v in await self.versions(repository) if v.digest == digest), None)
            if found is not None:
                return found
            if n + 1 < tries:
                await asyncio.sleep(0.2 * (n + 1))
        raise E.VendorAPIError(
            f"{self.registry}: GitHub lists no version {digest} of {repository}; nothing was "
            "deleted for it",
            registry=self.registry,
            status=404,
        )

    async def _delete_version(self, repository: str, version: Version) -> None:
        base = await self._base(repository)
        await self.http.call(
            "DELETE",
            f"{base}/versions/{version.id}",
            what=f"deleting version {version.digest} of {repository}",
            ok=(200, 202, 204),
            refused_is_scope=True,
        )

    # -- the interface -----------------------------------------------------------------------
    async def access(self, repository: str) -> VendorAccess:
        if not self._signed_in():
            return VendorAccess(
                can_list=False,
                can_delete=False,
                words="no GitHub login: add your username and a personal access token (classic) "
                f"with {READ} and {DELETE}",
            )
        _login, scopes = await self._whoami()
        if scopes is None:
            # a fine-grained token or an Actions GITHUB_TOKEN: GitHub does not list scopes
            return VendorAccess(can_list=None, can_delete=None)
        missing = [s for s in (READ, DELETE) if s not in scopes]
        words = ""
        if missing:
            words = (
                f"the token has {', '.join(scopes) or 'no scopes'}; deleting needs "
                f"{' and '.join(missing)} (a personal access token (classic))"
            )
        elif WRITE not in scopes:
            words = (
                f"without {WRITE}, a tag that shares its image with other tags cannot be deleted"
            )
        return VendorAccess(
            can_list=READ in scopes or WRITE in scopes,
            can_delete=not missing,
            scopes=scopes,
            words=words,
        )

    async def delete_tag(self, repository: str, tag: str, digest: str, *, sole: bool) -> None:
        # one tag at a time per package: which path a tag takes depends on its version's
        # other tags, which the previous deletion may just have changed
        lock = self._locks.setdefault(repository, asyncio.Lock())
        async with lock:
            version = await self._version_of(repository, digest)
            if tag not in version.tags:
                raise E.VendorAPIError(
                    f"{self.registry}: {repository}:{tag} is not on version {digest} any more; "
                    "left alone",
                    registry=self.registry,
                    status=409,
                )
            if sole and version.tags == (tag,):
                await self._delete_version(repository, version)
                return
            await self._untag_by_throwaway(repository, tag)

    async def _untag_by_throwaway(self, repository: str, tag: str) -> None:
        client = self.ctx.client
        if client is None:
            raise E.VendorAPIError(
                f"{self.registry}: deleting one tag of several needs the registry connection",
                registry=self.registry,
            )
        placeholder = await client.put_manifest(repository, tag, throwaway_manifest(), mt.OCI_INDEX)
        version = await self._version_of(repository, placeholder, tries=FIND_ATTEMPTS)
        await self._delete_version(repository, version)

    async def delete_manifest(self, repository: str, digest: str) -> None:
        await self._delete_version(repository, await self._version_of(repository, digest))

    async def restore(self, repository: str, digest: str) -> str:
        try:
            gone = [v for v in await self.versions(repository, deleted=True) if v.digest == digest]
        except E.VendorAPIError as exc:
            return exc.message
        if not gone:
            return "GitHub keeps no deleted version with this digest (restorable for 30 days)"
        base = await self._base(repository)
        try:
            await self.http.call(
                "POST",
                f"{base}/versions/{gone[-1].id}/restore",
                what=f"restoring version {digest} of {repository}",
                ok=(200, 201, 202, 204),
            )
        except E.VendorAPIError as exc:
            return exc.message
        return ""


def _detect(host: str, realm: str, headers: Mapping[str, str]) -> bool:
    return host == "ghcr.io" or realm.startswith("https://ghcr.io/")


def _default_api(registry_url: str) -> str:
    return API


SPEC = VendorSpec(
    kind=RegistryKind.GHCR,
    title=GHCR.title,
    factory=GHCR,
    default_api=_default_api,
    detect=_detect,
)
