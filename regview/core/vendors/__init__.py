"""Registries' management APIs, for what the distribution API (`/v2`) refuses or cannot say.

    spec = vendor_spec(kind)                 VendorSpec | None: title, default API, credential need
    ctx = context_for(endpoint, credentials, client)     where its API is, who the user is
    vendor = open_vendor(ctx)                VendorAPI | None (close it: `async with` / aclose())
    kind = detect_kind(host, realm, headers) a vendor kind a probe's answer points at, or None
    tags = await vendor_tags(client, repo)   the API's listing (Docker Hub), or None: use /v2
    sizes = await vendor_untagged(client, repo)   untagged artifacts → size (Harbor), or None

One module per vendor (`dockerhub`, `ghcr`, `harbor`, `quay`), each defining `SPEC`, a
`VendorSpec` naming its `VendorAPI` subclass (`base`). A module is imported only when its kind is
used; a module not there yet is simply no vendor (the registry is then treated like any other).
The planner never talks to a vendor: `deletion.port.ClientPort` asks it for capabilities, tags and
deletions, and the plan's `Method.VENDOR_API` says the vendor does the untagging.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from regview.core.errors import RegistryError
from regview.core.model import Credentials, Endpoint, RegistryKind, TagInfo
from regview.core.vendors.base import (
    API_TOKEN_ENV,
    API_TOKEN_USER,
    CredentialNeed,
    VendorAccess,
    VendorAPI,
    VendorContext,
    api_secret_name,
)
from regview.log import get_logger

if TYPE_CHECKING:
    from regview.core.client.client import RegistryClient

log = get_logger("core.vendors")
T = TypeVar("T")

__all__ = [
    "API_TOKEN_ENV",
    "API_TOKEN_USER",
    "CredentialNeed",
    "VendorAPI",
    "VendorAccess",
    "VendorContext",
    "VendorSpec",
    "api_secret_name",
    "api_url_for",
    "context_for",
    "detect_kind",
    "needs_api_token",
    "open_vendor",
    "vendor_spec",
    "vendor_tags",
    "vendor_untagged",
]


@dataclass(frozen=True, slots=True)
class VendorSpec:
    kind: RegistryKind
    title: str  # "Docker Hub API"
    factory: type[VendorAPI]
    #: the API base for a registry URL ("https://hub.docker.com" whatever the registry URL;
    #: Harbor's is on the registry's own host)
    default_api: Callable[[str], str]
    #: does a `/v2/` answer (host, token realm, headers) say this is the vendor's registry?
    detect: Callable[[str, str, Mapping[str, str]], bool]

    @property
    def need(self) -> CredentialNeed:
        return self.factory.need


#: kind → module defining `SPEC` (imported on first use)
MODULES: dict[RegistryKind, str] = {
    RegistryKind.DOCKER_HUB: "regview.core.vendors.dockerhub",
    RegistryKind.GHCR: "regview.core.vendors.ghcr",
    RegistryKind.HARBOR: "regview.core.vendors.harbor",
    RegistryKind.QUAY: "regview.core.vendors.quay",
}
_SPECS: dict[RegistryKind, VendorSpec | None] = {}


def vendor_spec(kind: str) -> VendorSpec | None:
    try:
        key = RegistryKind(kind)
    except ValueError:
        return None
    if key not in _SPECS:
        module = MODULES.get(key)
        spec: VendorSpec | None = None
        if module is not None:
            try:
                spec = importlib.import_module(module).SPEC
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise  # a vendor module that is there but broken: a bug, say so
        _SPECS[key] = spec
    return _SPECS[key]


def api_url_for(kind: str, registry_url: str, configured: str = "") -> str:
    """The management API base: the configured one, else the vendor's usual one ("": none)."""
    spec = vendor_spec(kind)
    if spec is None:
        return ""
    return configured.rstrip("/") or spec.default_api(registry_url)


def context_for(
    endpoint: Endpoint,
    credentials: Credentials | None,
    client: RegistryClient | None = None,
    *,
    api_token: str = "",
) -> VendorContext:
    """The context to open `endpoint`'s vendor with (its API from `Endpoint.vendor_api` or the
    vendor's usual one; its own token `api_token`, else the one the login carries)."""
    return VendorContext(
        endpoint,
        api_url_for(endpoint.kind, endpoint.url, endpoint.vendor_api),
        credentials,
        api_token=api_token or (credentials.api_token if credentials is not None else ""),
        client=client,
    )


def needs_api_token(kind: str) -> bool:
    """The kind's management API needs a token of its own besides the registry login."""
    spec = vendor_spec(kind)
    return spec is not None and spec.need.separate_token


def open_vendor(ctx: VendorContext) -> VendorAPI | None:
    """The vendor API for `ctx.endpoint.kind`, or None when the kind has none."""
    spec = vendor_spec(ctx.endpoint.kind)
    if spec is None or not ctx.api_url:
        return None
    return spec.factory(ctx)


async def vendor_tags(client: RegistryClient, repository: str) -> list[TagInfo] | None:
    """The tags of `repository` through the registry's management API where it lists them
    (Docker Hub: 100 per request, no pull spent), or None to list through `/v2`: no such API,
    or it failed (said in the log; `/v2` still works)."""
    return await _ask(client, lambda v: v.list_tags(repository), f"listing {repository}")


async def vendor_untagged(client: RegistryClient, repository: str) -> dict[str, int] | None:
    """The artifacts of `repository` without a tag → their size, where the registry's API
    lists them (Harbor), or None: no such API, or it failed (said in the log)."""
    return await _ask(
        client, lambda v: v.untagged_artifacts(repository), f"untagged artifacts of {repository}"
    )


async def _ask(
    client: RegistryClient, question: Callable[[VendorAPI], Awaitable[T | None]], what: str
) -> T | None:
    """`question` put to the registry's management API, opened for this one question; None
    when there is none or it failed (a failure is said in the log: `/v2` still works)."""
    vendor = open_vendor(context_for(client.endpoint, client.credentials, client))
    if vendor is None:
        return None
    try:
        return await question(vendor)
    except RegistryError as exc:
        log.info("%s through the %s failed, using /v2: %s", what, vendor.title, exc)
        return None
    finally:
        await vendor.aclose()


def detect_kind(host: str, realm: str, headers: Mapping[str, str]) -> RegistryKind | None:
    """A vendor kind this `/v2/` answer points at (probe's fallback for kinds it does not know
    by itself), or None."""
    for kind in MODULES:
        spec = vendor_spec(kind)
        if spec is not None and spec.detect(host.lower(), realm, headers):
            return kind
    return None
