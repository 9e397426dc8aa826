"""What every registry's management API offers regview, beside the distribution API (`/v2`).

    class Hub(VendorAPI):                       one subclass per vendor module
        kind = RegistryKind.DOCKER_HUB
        title = "Docker Hub API"
        need = CredentialNeed(...)              which API, which secret, which scopes — in words
        async def access(repository) -> VendorAccess          what this credential may do there
        async def list_tags(repository) -> list[TagInfo] | None   None: list through /v2
        async def protected_tags(repository) -> {tag: why}     never offered for deletion
        async def untagged_artifacts(repository) -> {digest: size} | None   None: not listed
        async def delete_tag(repository, tag, digest, *, sole) -> None  sparing sibling tags
        async def delete_manifest(repository, digest) -> None   untagged/whole manifest, or refuse
        async def restore(repository, digest) -> str           the vendor's own undelete, or why not

Where `/v2` refuses to delete (Docker Hub, GHCR) or the vendor's API knows more (Harbor's
immutability rules, Quay's time machine), the planner and executor go through one of these
(`regview.core.vendors.open_vendor`); everything else — the blast radius, the recycle bin and
journal, read-back verification, resume — stays the executor's. A vendor never deletes more
than it is asked: `delete_tag` removes exactly one tag, leaving tags that share its digest.

Nothing here imports Qt; errors are `errors.VendorAPIError` (`VendorScopeMissing` when the
credential lacks a scope), translated at the boundary like every other client error.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from regview.core import errors as E
from regview.core.client.transport import HttpOwner
from regview.core.model import Credentials, Endpoint, RegistryKind, TagInfo

if TYPE_CHECKING:
    import httpx

    from regview.core.client.client import RegistryClient


@dataclass(frozen=True, slots=True)
class CredentialNeed:
    """What the management API needs, for the credential dialog, Test and refusals."""

    api: str  # "Docker Hub API (hub.docker.com)"
    secret: str  # "a personal access token", as the vendor names it
    scopes: tuple[str, ...]  # ("Read, Write, Delete",) / ("read:packages", "delete:packages")
    words: str  # one or two sentences for the dialog: where to make it, what it must allow
    #: True: the API needs its own token besides the registry login (kept in the keyring as
    #: `api_secret_name(host, secret_id)`); False: the registry login itself works there
    separate_token: bool = False
    #: the registry username whose password is the API token itself (Quay's `$oauthtoken`):
    #: with it no separate token is asked for
    token_username: str = ""


@dataclass(frozen=True, slots=True)
class VendorAccess:
    """What a credential may do through the management API on one repository."""

    can_list: bool | None
    can_delete: bool | None
    scopes: tuple[str, ...] = ()  # what the vendor said the credential has, when it says
    words: str = ""  # what is missing and how to get it; "" when nothing is
    #: the registry's own rules to show with a plan (Harbor retention, Quay's time machine)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VendorContext:
    """Everything a vendor needs to open: where the registry and its API are, who the user is.

    `client` is the `/v2` client of the same registry (GHCR's sibling-sparing delete pushes a
    throw-away manifest through it); `transport` replaces the network in unit tests."""

    endpoint: Endpoint
    api_url: str
    credentials: Credentials | None
    api_token: str = ""  # the separate API token, when `CredentialNeed.separate_token`
    client: RegistryClient | None = None
    transport: httpx.AsyncBaseTransport | None = None

    @property
    def registry(self) -> str:
        from httpx import URL

        return URL(self.endpoint.url).netloc.decode("ascii")


#: the keyring "username" of a profile's separate management-API token (Quay's OAuth token),
#: stored with the profile's `secret_id` as slot: `api-token@<host>#<secret_id>`, beside the
#: login's own `<user>@<host>#<secret_id>`, never instead of it
API_TOKEN_USER = "api-token"
#: where the command line takes that token from, when not from the keyring
API_TOKEN_ENV = "REGVIEW_API_TOKEN"


def api_secret_name(host: str, secret_id: str) -> str:
    """The keyring entry of a profile's separate management-API token (see `API_TOKEN_USER`)."""
    return f"{API_TOKEN_USER}@{host}#{secret_id}"


class VendorAPI(HttpOwner, abc.ABC):
    """One registry's management API, opened for one profile (see the module docstring)."""

    kind: ClassVar[RegistryKind]
    title: ClassVar[str]
    need: ClassVar[CredentialNeed]
    #: the vendor keeps deleted things for a while and can put them back (`restore`)
    restorable: ClassVar[bool] = False
    #: what a deletion does to storage there, for the plan (replaces the garbage-collection
    #: note about self-hosted registries); "" keeps that note
    storage_note: ClassVar[str] = ""

    def __init__(self, ctx: VendorContext) -> None:
        self.ctx = ctx
        self.registry = ctx.registry

    @abc.abstractmethod
    async def access(self, repository: str) -> VendorAccess:
        """What the credential may do on `repository`; sends only reads."""

    async def list_tags(self, repository: str) -> list[TagInfo] | None:
        """Every tag with digest, size, platforms and push time as the API reports them, or
        None to list through `/v2` as for any registry."""
        return None

    async def protected_tags(self, repository: str) -> dict[str, str]:
        """Tags the registry's own rules forbid deleting (Harbor's immutability rules) → why,
        in words; the planner refuses them and keeps them (blast radius included)."""
        return {}

    async def untagged_artifacts(self, repository: str) -> dict[str, int] | None:
        """Artifacts of `repository` no tag points at → their size as the API reports it (an
        index with its children, the manifest itself included), or None when the registry's
        API cannot list them (the distribution API lists tags only). What a tagged artifact
        keeps (an index's children, signatures of a tagged image) is not untagged; signatures
        of an untagged artifact are (they go with it)."""
        return None

    @abc.abstractmethod
    async def delete_tag(self, repository: str, tag: str, digest: str, *, sole: bool) -> None:
        """Remove the one tag `tag` (planned at `digest`), leaving any other tag on `digest`.
        `sole`: the plan says nothing kept uses `digest` (it may go with the tag). A 404 is an
        error here (the API's "not visible to this token" too): the executor reads the tag back
        through `/v2` and reports what is true."""

    async def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (untagged, or every tag on it goes too)."""
        raise E.VendorAPIError(
            f"{self.registry}: the {self.title} cannot delete a manifest by digest; "
            "nothing was deleted",
            registry=self.registry,
            status=405,
        )

    async def restore(self, repository: str, digest: str) -> str:
        """Put back the deleted manifest `digest` the vendor's own way: "" when it is back,
        else why not (the recycle bin then pushes its local copy)."""
        return f"the {self.title} has no way to restore deleted images"

    async def aclose(self) -> None:
        return None
