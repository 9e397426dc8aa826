"""What a credential may do on a repository, for the Add-registry dialog's "Test" button.

    await check_access(client, repository) -> Access     (also `RegistryClient.check_access`)
    catalog_known_refused(kind, credentials) -> str      why not to ask for the catalog at all
    await granted_actions(client, repository) -> set | None   what the token service grants

Reads the tag list, then asks the token service for pull, push, delete and the catalog at once:
with a JWT the granted actions are read from its `access` claim (a registry silently leaves out
what it denies); otherwise push/delete stay unknown (None) rather than being tried on real data.
With a confirmed GitLab API address, says whether the API answers the credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from regview.core import errors as E
from regview.core.client.auth import jwt_claims
from regview.core.model import CredentialKind, Credentials, RegistryKind

if TYPE_CHECKING:
    from regview.core.client.client import RegistryClient

_JSON = {"Accept": "application/json"}


def catalog_known_refused(kind: str, credentials: Credentials | None) -> str:
    """Why the catalog would be refused anyway (so it is not asked), or "" to ask once.

    GitLab lists the whole registry to administrators only; deploy tokens, CI job tokens,
    project and group access tokens and anonymous access are never that."""
    if kind != RegistryKind.GITLAB:
        return ""
    never_admin = (
        CredentialKind.DEPLOY,
        CredentialKind.JOB,
        CredentialKind.PROJECT,
        CredentialKind.GROUP,
        CredentialKind.ANONYMOUS,
    )
    if credentials is None or credentials.kind in never_admin:
        return (
            "GitLab lists the whole registry to administrators only; add the repository "
            "paths by hand, or connect through the GitLab API"
        )
    return ""


@dataclass(frozen=True, slots=True)
class Access:
    """What a credential may do on one repository; None where it cannot be known safely."""

    pull: bool
    push: bool | None
    delete: bool | None
    catalog: bool | None
    api: bool | None = None
    words: str = ""


async def check_access(client: RegistryClient, repository: str) -> Access:
    """For the "Test" button: read the tag list, then ask the token service for more.

    With a JWT token the granted actions are read from its `access` claim (the registry
    silently leaves out what it denies); otherwise push/delete stay unknown (None)
    rather than being tried on real data.
    """
    await client.ping()
    try:
        await client.send(
            "GET",
            f"v2/{repository}/tags/list",
            what=f"the tag list of {repository}",
            headers=_JSON,
        )
        pull = True
    except (E.AccessDenied, E.AuthenticationFailed):
        pull = False
    except E.NotFound:
        pull = True  # allowed to look; the repository does not exist (yet)
    push = delete = catalog = None
    ch = client.auth.challenge
    if ch is not None and ch.scheme == "bearer":
        token = await client.auth.token(
            {
                ("repository", repository): frozenset({"pull", "push", "delete"}),
                ("registry", "catalog"): frozenset({"*"}),
            }
        )
        access = jwt_claims(token.value).get("access")
        if isinstance(access, list):
            granted: dict[tuple[str, str], set[str]] = {}
            for a in access:
                if isinstance(a, dict):
                    key = (str(a.get("type")), str(a.get("name")))
                    granted.setdefault(key, set()).update(map(str, a.get("actions") or []))
            repo = granted.get(("repository", repository), set())
            push = "push" in repo or "*" in repo
            delete = "delete" in repo or "*" in repo
            catalog = bool(granted.get(("registry", "catalog")))
    api = await _check_api(client)
    words = ", ".join(
        f"{name}: {'yes' if v else 'no' if v is not None else 'unknown'}"
        for name, v in (
            ("pull", pull),
            ("push", push),
            ("delete", delete),
            ("catalog", catalog),
            *((("GitLab API", api),) if client.endpoint.api_url else ()),
        )
    )
    return Access(pull, push, delete, catalog, api, f"{client.registry}/{repository} — {words}")


async def granted_actions(client: RegistryClient, repository: str) -> set[str] | None:
    """The actions (pull, push, delete, "*") the token service grants these credentials on
    `repository`, read from the JWT's `access` claim — a token request, nothing sent to the
    registry; None when there is no such token to read (no auth, Basic, an opaque token)."""
    ch = client.auth.challenge
    if ch is None or ch.scheme != "bearer":
        return None
    token = await client.auth.token(
        {("repository", repository): frozenset({"pull", "push", "delete"})}
    )
    access = jwt_claims(token.value).get("access")
    if not isinstance(access, list):
        return None
    granted: set[str] = set()
    for a in access:
        if isinstance(a, dict) and a.get("type") == "repository" and a.get("name") == repository:
            granted.update(map(str, a.get("actions") or []))
    return granted


async def _check_api(client: RegistryClient) -> bool | None:
    """Whether the confirmed GitLab API answers this credential (None: no API configured)."""
    if not client.endpoint.api_url:
        return None
    creds = client.credentials
    if creds is not None and creds.kind in (CredentialKind.DEPLOY, CredentialKind.IDENTITY):
        return False  # never sent to the API
    from regview.core.gitlab.api import GitLabAPI

    api = GitLabAPI(
        client.endpoint.api_url,
        creds,
        insecure=client.endpoint.insecure,
        ca_file=client.endpoint.ca_file,
    )
    try:
        await api.version()
    except E.RegistryError:
        return False
    finally:
        await api.aclose()
    return True
