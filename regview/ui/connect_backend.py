"""What the connect dialogs show and ask: a registry's `/v2/` answer and a credential's tested
abilities in words, and the backend that asks the client core for them.

    ProbeSummary        what `/v2/` said about a registry, ready to show in words
    AccessSummary       what a credential was shown to do (pull, push, delete, REST API, catalog)
    ConnectBackend      the seam between dialogs and the client core: `probe`, `test`
    CoreBackend         the real `ConnectBackend`, over `regview.core.probe` and `RegistryClient`
    derive_gitlab_api(registry_url, realm) -> str    a GitLab API address for the user to confirm

Nothing here touches Qt widgets: it is plain async code, tested without a window.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind

KIND_NAMES: dict[RegistryKind, str] = {
    RegistryKind.GITLAB: "GitLab container registry",
    RegistryKind.DOCKER_HUB: "Docker Hub",
    RegistryKind.GHCR: "GitHub Container Registry",
    RegistryKind.HARBOR: "Harbor",
    RegistryKind.GENERIC: "OCI registry",
    RegistryKind.REGVIEW: "regview's own registry",
}

CREDENTIAL_NAMES: dict[CredentialKind, str] = {
    CredentialKind.ANONYMOUS: "Anonymous",
    CredentialKind.PASSWORD: "Username and password",
    CredentialKind.PERSONAL: "Personal access token",
    CredentialKind.DEPLOY: "Deploy token",
    CredentialKind.PROJECT: "Project access token",
    CredentialKind.GROUP: "Group access token",
    CredentialKind.JOB: "CI job token",
    CredentialKind.IDENTITY: "Identity token",
}


def derive_gitlab_api(registry_url: str, realm: str) -> str:
    """Candidate GitLab REST API base for a registry: from a `/jwt/auth` realm, else known pairs.

    The user confirms it before a token is sent there (reference §5.4).
    """
    if realm.rstrip("/").endswith("/jwt/auth"):
        return realm.rstrip("/")[: -len("/jwt/auth")] + "/api/v4"
    host = registry_url.split("://", 1)[-1].split("/", 1)[0].lower()
    if host == "registry.gitlab.com":
        return "https://gitlab.com/api/v4"
    return ""


@dataclass(frozen=True, slots=True)
class ProbeSummary:
    url: str
    kind: RegistryKind
    auth_required: bool
    auth_scheme: str = ""  # "bearer", "basic" or "" when anonymous access works
    realm: str = ""
    api_url: str = ""  # a candidate; only used once the user confirms it
    version: str = ""  # e.g. the Gitlab-Container-Registry-Version header

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, "OCI registry")

    @property
    def headline(self) -> str:
        return f"{self.kind_name} {self.version}".strip()

    def auth_in_words(self) -> str:
        if not self.auth_required:
            return "Anyone can read it without signing in."
        if self.auth_scheme == "basic":
            return "Sign-in required: username and password."
        where = f" issued by {self.realm}" if self.realm else ""
        return f"Sign-in required: tokens{where}."

    def in_words(self) -> str:
        return f"{self.headline} at {self.url}. {self.auth_in_words()}"

    def html(self) -> str:
        """Rich text; the version and realm come from the registry, so they are escaped."""
        return f"<b>{_html.escape(self.headline)}</b><br>{_html.escape(self.auth_in_words())}"


@dataclass(frozen=True, slots=True)
class AccessSummary:
    """What a credential did when tested. `None` means "not checked" (no repository to try)."""

    repository: str = ""
    pull: bool | None = None
    push: bool | None = None
    delete: bool | None = None
    api: bool | None = None
    catalog: bool | None = None
    notes: tuple[str, ...] = ()
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None

    def lines(self) -> list[tuple[bool | None, str]]:
        """(ok, sentence) per ability, in the order a person cares about them."""
        repo = f" in {self.repository}" if self.repository else ""
        out: list[tuple[bool | None, str]] = []

        def add(value: bool | None, yes: str, no: str, unknown: str) -> None:
            out.append((value, yes if value else no if value is False else unknown))

        add(
            self.pull,
            f"Can pull (read) images{repo}",
            f"Cannot pull images{repo}",
            "Pull not checked: name a repository to test",
        )
        add(
            self.push,
            f"Can push (write) images{repo}",
            f"Cannot push{repo}: read-only",
            "Push unknown: the registry does not say without a real push",
        )
        add(
            self.delete,
            f"Can delete tags and images{repo}",
            f"Cannot delete{repo}",
            "Delete unknown: the registry does not say without a real delete",
        )
        add(
            self.catalog,
            "Can list every repository (catalog)",
            "Cannot list the catalog: add repository paths by hand or use the GitLab API",
            "Catalog not checked",
        )
        if self.api is not None:
            add(
                self.api,
                "Can use the GitLab REST API (projects, tag details, cleanup)",
                "Cannot use the GitLab REST API",
                "",
            )
        return out

    def short(self) -> str:
        """Compact form stored as `Profile.verified`: 'pull, push, delete, API'."""
        parts = [
            name
            for name, value in (
                ("pull", self.pull),
                ("push", self.push),
                ("delete", self.delete),
                ("catalog", self.catalog),
                ("API", self.api),
            )
            if value
        ]
        return ", ".join(parts) if parts else "nothing"


class ConnectBackend(Protocol):
    """What the dialogs need from the client core. `CoreBackend` is the real one."""

    async def probe(self, endpoint: Endpoint) -> ProbeSummary: ...

    async def test(
        self, endpoint: Endpoint, credentials: Credentials | None, repository: str
    ) -> AccessSummary: ...


class CoreBackend:
    """`ConnectBackend` over the client core (`regview.core.probe`, `RegistryClient`)."""

    async def probe(self, endpoint: Endpoint) -> ProbeSummary:
        from regview.core.probe import probe

        r = await probe(endpoint)
        return ProbeSummary(
            url=r.url,
            kind=r.kind,
            auth_required=r.auth_required,
            auth_scheme=r.auth_scheme,
            realm=r.realm,
            api_url=r.api_url,
            version=r.version,
        )

    async def test(
        self, endpoint: Endpoint, credentials: Credentials | None, repository: str
    ) -> AccessSummary:
        from regview.core.client import RegistryClient
        from regview.core.errors import CatalogRefused, ResponseError

        notes: list[str] = []
        async with RegistryClient(endpoint, credentials) as client:
            catalog: bool | None = None
            await client.ping()  # bad credentials fail here, in words, before anything else
            if not repository:
                try:
                    async for page in client.iter_repositories():
                        if page:
                            repository = page[0]
                            break
                    catalog = True  # listed (an empty registry lists nothing, but allowed)
                except CatalogRefused:
                    catalog = False
                except ResponseError as exc:
                    notes.append(exc.message)
            if not repository:
                notes.append("Name a repository to check pull, push and delete on it.")
                return AccessSummary(catalog=catalog, notes=tuple(notes))
            access = await client.check_access(repository)
        return AccessSummary(
            repository=repository,
            pull=access.pull,
            push=access.push,
            delete=access.delete,
            api=access.api,
            catalog=access.catalog if access.catalog is not None else catalog,
            notes=tuple(notes),
        )
