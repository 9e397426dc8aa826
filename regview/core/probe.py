"""What is at this address? One anonymous `GET /v2/`, read for the Add-registry dialog.

    await probe(endpoint, *, transport=None) -> ProbeResult

Kind: GitLab (`Gitlab-Container-Registry-Version` header, or a realm ending in `/jwt/auth`),
Docker Hub, GHCR, Harbor (realm `/service/token`), regview's own registry
(`Regview-Registry-Version` header), else a generic OCI registry. For GitLab an API base is
*derived* (`https://gitlab.example/api/v4`) but only used once the user confirms it and the
caller passes it to `GitLabAPI` explicitly. Nothing secret is ever sent by a probe.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from regview.core import errors as E
from regview.core.client.auth import parse_www_authenticate
from regview.core.client.http import connection_error
from regview.core.client.transport import check_scheme_allowed, make_http_client
from regview.core.model import Endpoint, RegistryKind
from regview.core.vendors import detect_kind

KNOWN_API = {"registry.gitlab.com": "https://gitlab.com/api/v4"}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    url: str
    kind: RegistryKind
    auth_required: bool
    auth_scheme: str = ""  # "bearer", "basic", or "" when anonymous reads work
    realm: str = ""
    service: str = ""
    api_url: str = ""  # GitLab API candidate: confirm with the user before sending a token
    version: str = ""  # Gitlab-Container-Registry-Version or the regview header
    message: str = ""  # one sentence for people


def gitlab_api_candidate(registry_url: str, realm: str) -> str:
    host = httpx.URL(registry_url).host
    if host in KNOWN_API:
        return KNOWN_API[host]
    if realm.rstrip("/").endswith("/jwt/auth"):
        return realm.rstrip("/")[: -len("/jwt/auth")] + "/api/v4"
    return ""


def classify(url: str, headers: httpx.Headers, realm: str) -> tuple[RegistryKind, str]:
    host = httpx.URL(url).host.lower()
    gitlab_version = headers.get("Gitlab-Container-Registry-Version", "")
    if gitlab_version or realm.rstrip("/").endswith("/jwt/auth") or host in KNOWN_API:
        return RegistryKind.GITLAB, gitlab_version
    regview_version = headers.get("Regview-Registry-Version", "")
    if regview_version:
        return RegistryKind.REGVIEW, regview_version
    if (
        host in ("registry-1.docker.io", "index.docker.io", "docker.io")
        or "auth.docker.io" in realm
    ):
        return RegistryKind.DOCKER_HUB, ""
    if host == "ghcr.io" or realm.startswith("https://ghcr.io/"):
        return RegistryKind.GHCR, ""
    if realm.rstrip("/").endswith("/service/token") or "harbor" in headers.get("Set-Cookie", ""):
        return RegistryKind.HARBOR, ""
    vendor = detect_kind(host, realm, headers)  # kinds only a vendor module knows (Quay)
    return (vendor or RegistryKind.GENERIC), ""


async def probe(
    endpoint: Endpoint, *, transport: httpx.AsyncBaseTransport | None = None
) -> ProbeResult:
    """Raises RegistryError (InsecureRefused, CertificateNotTrusted, ConnectionFailed,
    NotARegistry) when the address does not lead to a registry at all."""
    check_scheme_allowed(endpoint.url, endpoint)
    base = endpoint.url.rstrip("/")
    registry = httpx.URL(base).netloc.decode("ascii")
    async with make_http_client(endpoint, transport=transport, concurrency=1) as http:
        try:
            response = await http.get(f"{base}/v2/")
            body = (await response.aread())[: E.MAX_ERROR_BODY]
        except httpx.HTTPError as exc:
            raise connection_error(registry, exc, "the registry check (/v2/)") from exc
    ctype = response.headers.get("Content-Type", "")
    if response.status_code not in (200, 401) or E.looks_like_html(body, ctype):
        hint = (
            E.HTML_HINT
            if E.looks_like_html(body, ctype)
            else "a registry answers /v2/ with 200 or 401"
        )
        raise E.NotARegistry(
            f"{registry}: this is not a container registry (GET /v2/ answered HTTP "
            f"{response.status_code}); {hint}",
            registry=registry,
        )
    challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate", ""))
    chosen = next((c for c in challenges if c.scheme == "bearer"), None) or next(
        iter(challenges), None
    )
    realm = chosen.realm if chosen else ""
    kind, version = classify(base, response.headers, realm)
    api = gitlab_api_candidate(base, realm) if kind == RegistryKind.GITLAB else ""
    auth_required = response.status_code == 401
    names = {
        RegistryKind.GITLAB: "a GitLab container registry",
        RegistryKind.DOCKER_HUB: "Docker Hub",
        RegistryKind.GHCR: "GitHub Container Registry",
        RegistryKind.HARBOR: "a Harbor registry",
        RegistryKind.QUAY: "a Quay registry",
        RegistryKind.REGVIEW: "a regview local registry",
        RegistryKind.GENERIC: "an OCI registry",
    }
    message = f"{registry} is {names[kind]}"
    if not auth_required:
        message += "; anyone can read it without signing in."
    elif chosen is not None and chosen.scheme == "basic":
        message += "; it asks for a username and password."
    else:
        message += f"; sign-in goes through the token service at {httpx.URL(realm).host}."
    if api:
        message += f" Its GitLab API is probably {api} (confirm before a token is sent there)."
    return ProbeResult(
        url=base,
        kind=kind,
        auth_required=auth_required,
        auth_scheme=chosen.scheme if chosen and auth_required else "",
        realm=realm,
        service=chosen.service if chosen else "",
        api_url=api,
        version=version,
        message=message,
    )
