"""Quay's API (`/api/v1` on the registry's host: quay.io or a Red Hat Quay), for its time machine.

Quay deletes one tag through `DELETE /api/v1/repository/{ns}/{repo}/tag/{tag}` — the manifest and
the other tags on it stay — and keeps the deleted tag in the repository's tag history for the
repository's time-machine window (`tag_expiration_s`, two weeks by default), from where
`POST …/tag/{tag}/restore {"manifest_digest"}` puts it back: blobs and all, where regview's own
recycle bin needs the blobs still stored. Tags Quay marks `immutable` are never offered for
deletion (Quay would answer 409).

Credentials: the API takes an OAuth access token (created in an organization's Applications),
with the scopes repo:read (listing) and repo:write (delete, restore); robot accounts cannot
call it. The token is kept apart from the registry login (`CredentialNeed.separate_token`),
unless the registry login is that token already (`$oauthtoken` as the user name).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from regview.core import errors as E
from regview.core.model import RegistryKind, TagInfo
from regview.core.vendors import VendorSpec
from regview.core.vendors.base import CredentialNeed, VendorAccess, VendorAPI, VendorContext
from regview.core.vendors.enrich import ApiTag, complete
from regview.core.vendors.http import VendorHTTP

PAGE = 100  # Quay's maximum `limit`
MAX_PAGES = 10_000
OAUTH_USER = "$oauthtoken"
SCOPES = ("repo:read", "repo:write")


def _when(ts: Any) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if isinstance(ts, int | float) and ts > 0 else None


class QuayAPI(VendorAPI):
    kind = RegistryKind.QUAY
    title = "Quay API"
    restorable = True
    storage_note = (
        "Quay keeps deleted tags in its time machine for the repository's window (two weeks "
        "unless configured otherwise), then collects what no tag uses: the space comes back then."
    )
    need = CredentialNeed(
        api="Quay API (/api/v1 on the registry's own address)",
        secret="an OAuth access token",
        scopes=SCOPES,
        words=(
            "Quay deletes and restores tags through its API with an OAuth access token: in "
            "the organization, Applications → Create New Application → Generate Token, with "
            "'View all visible repositories' (repo:read) and 'Read/Write to any accessible "
            "repositories' (repo:write). Sign in with the user name $oauthtoken and the token as "
            "the password (it pulls and pushes too), or keep a robot account for the registry "
            "and give the token beside it (API token in the Add-registry dialog, or "
            "REGVIEW_API_TOKEN with regview login); robot "
            "accounts alone cannot call the API."
        ),
        separate_token=True,
        token_username=OAUTH_USER,
    )

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.http = VendorHTTP(
            ctx,
            title=self.title,
            hints={
                401: "Quay did not accept the OAuth token (expired, revoked, or a robot "
                "account's token, which the API does not take)",
                403: "the OAuth token lacks the scope (repo:write to delete or restore) or its "
                "user lacks write permission on the repository",
                409: "Quay keeps this tag immutable",
            },
        )
        token = ctx.api_token
        creds = ctx.credentials
        if not token and creds is not None and creds.username == OAUTH_USER:
            token = creds.secret
        self.token = token
        if token:
            self.http.client.headers["Authorization"] = f"Bearer {token}"
        #: repository → tag → immutable, from the last listing
        self._immutable: dict[str, dict[str, bool]] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    def _repo(self, repository: str) -> str:
        namespace, _, name = repository.partition("/")
        if not name or "/" in name:
            raise E.VendorAPIError(
                f"{self.registry}: {repository} is not a Quay repository name (namespace/name)",
                registry=self.registry,
            )
        return f"repository/{urllib.parse.quote(namespace, safe='')}/{urllib.parse.quote(name, safe='')}"

    async def _history(
        self, repository: str, *, active: bool, tag: str = ""
    ) -> list[dict[str, Any]]:
        """Quay's tag list, every page (`has_additional`), newest first."""
        what = f"listing the tags of {repository}"
        rows: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"page": page, "limit": PAGE}
            if active:
                params["onlyActiveTags"] = "true"
            if tag:
                params["specificTag"] = tag
            response = await self.http.call(
                "GET", f"{self._repo(repository)}/tag/", what=what, params=params
            )
            body = self.http.object(response, what)
            tags = body.get("tags")
            if not isinstance(tags, list):
                raise E.VendorAPIError(
                    f"{self.registry}: {what}: the answer has no tag list", registry=self.registry
                )
            rows.extend(t for t in tags if isinstance(t, dict))
            if not body.get("has_additional"):
                return rows
        raise E.ProtocolError(
            f"{self.registry}: {what}: more than {MAX_PAGES} pages", registry=self.registry
        )

    async def list_tags(self, repository: str) -> list[TagInfo] | None:
        if not self.token:
            return None  # no API token (a robot login): /v2 lists; `access` says what is missing
        listed: list[ApiTag] = []
        immutable: dict[str, bool] = {}
        for row in await self._history(repository, active=True):
            name, digest = row.get("name"), row.get("manifest_digest")
            if not isinstance(name, str) or not isinstance(digest, str):
                continue
            immutable[name] = bool(row.get("immutable"))
            size = row.get("size") if isinstance(row.get("size"), int) else None
            listed.append(
                ApiTag(
                    name,
                    digest,
                    _when(row.get("start_ts")),
                    size,
                    bool(row.get("is_manifest_list")),
                )
            )
        self._immutable[repository] = immutable
        listed.sort(key=lambda t: t.tag)
        return await complete(self.ctx, repository, listed)

    async def access(self, repository: str) -> VendorAccess:
        if not self.token:
            return VendorAccess(
                can_list=None,
                can_delete=False,
                words=(
                    "deleting on Quay needs an OAuth access token with repo:write (Quay's "
                    "Applications → Generate Token); add it to this registry's login"
                ),
            )
        what = f"reading the repository {repository}"
        try:
            response = await self.http.call("GET", self._repo(repository), what=what)
        except E.VendorAPIError as exc:
            if exc.status in (401, 403, 404):
                return VendorAccess(can_list=False, can_delete=False, words=exc.message)
            raise
        repo = self.http.object(response, what)
        can_write = bool(repo.get("can_write"))
        notes: list[str] = []
        window = repo.get("tag_expiration_s")
        if isinstance(window, int) and window > 0:
            notes.append(
                f"Quay keeps deleted tags of {repository} in its time machine for "
                f"{_duration(window)}: the recycle bin restores them from there."
            )
        return VendorAccess(
            can_list=True,
            can_delete=can_write,
            scopes=SCOPES if can_write else SCOPES[:1],
            words=""
            if can_write
            else (
                f"the OAuth token may read {repository} but not write it: it needs the repo:write "
                "scope and its user write permission on the repository"
            ),
            notes=tuple(notes),
        )

    async def protected_tags(self, repository: str) -> dict[str, str]:
        """The tags Quay marks immutable in its tag listing."""
        if not self.token:
            return {}
        if repository not in self._immutable:
            try:
                await self.list_tags(repository)
            except E.VendorAPIError as exc:
                if exc.status in (401, 403):
                    return {}  # cannot list: `access` refuses the plan in words anyway
                raise
        return {
            tag: f"Quay keeps {tag} immutable; it cannot be deleted or moved"
            for tag, yes in sorted(self._immutable.get(repository, {}).items())
            if yes
        }

    async def delete_tag(self, repository: str, tag: str, digest: str, *, sole: bool) -> None:
        await self.http.call(
            "DELETE",
            f"{self._repo(repository)}/tag/{urllib.parse.quote(tag, safe='')}",
            what=f"deleting the tag {repository}:{tag}",
            ok=(200, 201, 202, 204),
            refused_is_scope=True,
        )

    async def delete_manifest(self, repository: str, digest: str) -> None:
        """Quay has no manifest delete: a manifest no live tag points at is already gone from
        `/v2` and is collected when the time machine lets go of it. A live tag on it now was
        not in the plan (pushed since): it is left alone and the manifest stays, said in words."""
        live = [
            str(row.get("name"))
            for row in await self._history(repository, active=True)
            if row.get("manifest_digest") == digest
        ]
        if live:
            raise E.VendorAPIError(
                f"{self.registry}: {repository}@{digest[:19]}… was not deleted: the tag(s) "
                f"{', '.join(sorted(live))} point at it now (pushed since the plan was made)",
                registry=self.registry,
                status=409,
            )

    async def restore(self, repository: str, digest: str) -> str:
        """Every tag whose latest row ended on `digest` and is not live now goes back there."""
        try:
            history = await self._history(repository, active=False)
        except E.VendorAPIError as exc:
            return f"Quay's tag history could not be read: {exc.message}"
        live = {r.get("name") for r in history if "end_ts" not in r}
        names: list[str] = []
        for row in history:  # newest first: the first row of a name is its latest
            name = row.get("name")
            if not isinstance(name, str) or name in live or name in names:
                continue
            if row.get("manifest_digest") == digest and "end_ts" in row:
                names.append(name)
            live.add(name)  # an older row of this name is not what it last pointed at
        if not names:
            return "Quay's time machine no longer holds it (older than the repository's window)"
        for name in names:
            try:
                await self.http.call(
                    "POST",
                    f"{self._repo(repository)}/tag/{urllib.parse.quote(name, safe='')}/restore",
                    what=f"restoring {repository}:{name} from Quay's time machine",
                    body={"manifest_digest": digest},
                    ok=(200, 201, 202, 204),
                    refused_is_scope=True,
                )
            except E.VendorAPIError as exc:
                if exc.status == 404:
                    return "Quay's time machine no longer holds it (older than the window)"
                # refused (no repo:write) or failed: the recycle bin's own copy is tried next
                return f"Quay's time machine did not restore it: {exc.message}"
        return ""


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours else f"{seconds} seconds"


def _default_api(registry_url: str) -> str:
    return registry_url.rstrip("/") + "/api/v1"


def _detect(host: str, realm: str, headers: Mapping[str, str]) -> bool:
    return host == "quay.io" or realm.rstrip("/").endswith("/v2/auth")


SPEC = VendorSpec(
    RegistryKind.QUAY, QuayAPI.title, QuayAPI, default_api=_default_api, detect=_detect
)
