"""What the connect dialogs show and ask: a registry's `/v2/` answer and a credential's tested
abilities in words, and the backend that asks the client core for them.

    ProbeSummary        what `/v2/` said about a registry, ready to show in words
    AccessSummary       what a credential was shown to do (pull, push, delete, REST API, catalog)
    ConnectBackend      the seam between dialogs and the client core: `probe`, `test`
    CoreBackend         the real `ConnectBackend`, over `regview.core.probe` and `RegistryClient`
    derive_gitlab_api(registry_url, realm) -> str    a GitLab API address for the user to confirm
    vendor_hint(probe) -> str           the management API and credential deleting needs there

Nothing here touches Qt widgets: it is plain async code, tested without a window.
"""

from __future__ import annotations

import html as _html
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from regview.core.model import CredentialKind, Credentials, Endpoint, RegistryKind

if TYPE_CHECKING:
    from regview.core.gitlab.api import GitLabAPI
    from regview.core.gitlab.identity import TokenIdentity

KIND_NAMES: dict[RegistryKind, str] = {
    RegistryKind.GITLAB: "GitLab container registry",
    RegistryKind.DOCKER_HUB: "Docker Hub",
    RegistryKind.GHCR: "GitHub Container Registry",
    RegistryKind.HARBOR: "Harbor",
    RegistryKind.QUAY: "Quay",
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


def days_left(moment: datetime, now: datetime | None = None) -> str:
    """'expires in 12 days', 'expires today', 'expired 3 days ago' for a token's expiry."""
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        days = (now - moment).days
        return "expired today" if days == 0 else f"expired {days} day{'s' * (days != 1)} ago"
    days = (moment - now).days
    return "expires today" if days == 0 else f"expires in {days} day{'s' * (days != 1)}"


def vendor_hint(probe: ProbeSummary | None) -> str:
    """Which API deleting goes through on this kind of registry and what credential it takes,
    in words ("" when deletion needs nothing beyond the registry login)."""
    from regview.core.vendors import vendor_spec

    spec = vendor_spec(probe.kind) if probe is not None else None
    return spec.need.words if spec is not None else ""


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
    """What a credential did when tested. `None` means "not checked" (no repository to try).

    `user`/`token_name`/`scopes`/`active`/`expires_at` are what GitLab said about the token
    (`/user`, `/personal_access_tokens/self`); `repositories` are the ones the test could list,
    for the user to pick another one to test on. `refused` is GitLab's reason when it refused the
    token outright (expired, revoked).
    """

    repository: str = ""
    pull: bool | None = None
    push: bool | None = None
    delete: bool | None = None
    api: bool | None = None
    catalog: bool | None = None
    notes: tuple[str, ...] = ()
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    user: str = ""
    token_name: str = ""
    scopes: tuple[str, ...] = ()
    active: bool | None = None
    refused: str = ""
    repositories: tuple[str, ...] = ()
    gitlab: bool = False  # a GitLab registry: its catalog is for administrators only
    #: the management API deletion goes through (Docker Hub, GHCR, …; "" = none) and what it
    #: said: may the credential delete there, and what is missing in words
    vendor_api: str = ""
    vendor_need: str = ""
    vendor_words: str = ""

    def lines(self) -> list[tuple[bool | None, str]]:
        """(ok, sentence) per ability, in the order a person cares about them."""
        repo = f" in {self.repository}" if self.repository else ""
        out: list[tuple[bool | None, str]] = []

        def add(value: bool | None, yes: str, no: str, unknown: str) -> None:
            out.append((value, yes if value else no if value is False else unknown))

        if self.refused:  # nothing else was tried with a token GitLab refused
            return [(False, self.refused)]
        if self.user:
            out.append((True, f"Signed in as {self.user}"))
        if self.token_name or self.scopes:  # GitLab showed the token's own record
            out.append((self.active is not False, self.token_in_words()))
        if self.api is not None:
            add(
                self.api,
                "The GitLab REST API answers this token (projects, tag details, cleanup)",
                "The GitLab REST API does not answer this token",
                "",
            )
        pick = "" if self.repository else ": pick or type a repository and test again"
        add(
            self.pull,
            f"Can pull (read) images{repo}",
            f"Cannot pull images{repo}",
            f"Pull not checked{pick}",
        )
        add(
            self.push,
            f"Can push (write) images{repo}",
            f"Cannot push{repo}: read-only",
            "Push unknown: the registry does not say without a real push",
        )
        if self.vendor_api:
            why = f": {self.vendor_words}" if self.vendor_words else ""
            add(
                self.delete,
                f"Can delete tags{repo} through the {self.vendor_api}",
                f"Cannot delete{repo} through the {self.vendor_api}{why}",
                f"Delete through the {self.vendor_api}: not known until the first deletion",
            )
            if self.delete is not True and self.vendor_need:
                out.append((None, self.vendor_need))
        else:
            add(
                self.delete,
                f"Can delete tags and images{repo}",
                f"Cannot delete{repo}",
                "Delete unknown: the registry does not say without a real delete",
            )
        if self.gitlab and not self.catalog:
            if self.repositories:
                out.append(
                    (True, f"Lists {len(self.repositories)} repositories through the REST API")
                )
        else:
            add(
                self.catalog,
                "Can list every repository (catalog)",
                "Cannot list the catalog: type repository paths by hand",
                "Catalog not checked",
            )
        return out

    def token_in_words(self) -> str:
        parts = [f"Token {self.token_name!r}" if self.token_name else "The token"]
        if self.scopes:
            parts.append(f"scopes {', '.join(self.scopes)}")
        if self.active is False:
            parts.append("not active (revoked or expired)")
        elif self.active:
            parts.append("active")
        if self.expires_at is not None:
            parts.append(f"expires {self.expires_at:%Y-%m-%d} ({days_left(self.expires_at)})")
        elif self.active is not None:
            parts.append("never expires")
        return ": ".join(parts[:1]) + (f": {'; '.join(parts[1:])}" if parts[1:] else "")

    @property
    def passed(self) -> bool:
        """Whether the credential works: it reads something and is not known to be dead."""
        if self.active is False or self.refused:
            return False
        return bool(self.pull or self.catalog or self.api)

    @property
    def tone(self) -> str:
        """How the result card shows it: "good", "warn" (it works, but deleting is refused:
        a partial result) or "bad" (it does not pass)."""
        if not self.passed:
            return "bad"
        return "warn" if self.delete is False else "good"

    def warning(self) -> str:
        """The headline of a "warn" result, in words ("" otherwise); the missing scope or
        permission is in the ✘ line under it."""
        if self.tone != "warn":
            return ""
        where = f" in {self.repository}" if self.repository else ""
        via = f" through the {self.vendor_api}" if self.vendor_api else ""
        if self.vendor_api and self.vendor_words:  # the ✘ line says what the API said
            why = "it lacks the scope or permission named below"
        else:
            why = self.cannot_delete() or "the registry refused it for this credential"
        return (
            f"This credential works for browsing, but deleting{where}{via} will be refused: {why}."
        )

    def failure(self) -> str:
        """What went wrong, in words, for a summary that did not pass ('' when it passed)."""
        if self.passed:
            return ""
        if self.refused:
            return self.refused
        if self.active is False:
            return "GitLab says this token is revoked or expired."
        where = f" in {self.repository}" if self.repository else ""
        return f"it could not pull images{where}, list the catalog or use the GitLab REST API" + (
            f" ({'; '.join(self.notes)})" if self.notes else ""
        )

    def cannot_delete(self) -> str:
        """Why this credential cannot delete in any repository: its scopes ('' = not known)."""
        if self.vendor_api and self.delete is False and self.vendor_words:
            return f"the {self.vendor_api} says {self.vendor_words}"
        if self.scopes and not {"api", "write_registry"} & set(self.scopes):
            return f"its scopes are {', '.join(self.scopes)} (deleting needs write_registry or api)"
        return ""

    @property
    def never_expires(self) -> bool:
        """GitLab showed the token's record and it has no expiry date."""
        return bool(self.token_name or self.scopes) and self.expires_at is None

    def short(self) -> str:
        """Compact form stored as `Profile.verified`: 'pull, push, delete, API'."""
        if self.refused:  # GitLab refused the token outright (401): a result, not "not checked"
            return "refused (401)"
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
        if parts:
            return ", ".join(parts)
        # "nothing" only when pull, push or delete was tried and refused; a Test that had no
        # repository to try them on must not read as a token that may do nothing
        tried = (self.pull, self.push, self.delete)
        return "nothing" if any(v is False for v in tried) else "not checked"


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
        """Who the token is (GitLab), whether the REST API answers, the repositories it can
        list, and pull/push/delete on `repository` (else on the first one listed)."""
        from regview.core.client.client import RegistryClient
        from regview.core.errors import CatalogRefused, RegistryError, ResponseError

        notes: list[str] = []
        who = await _gitlab_identity(endpoint, credentials)
        if who is not None and who.refused:
            return AccessSummary(refused=who.refused, active=False, gitlab=True)
        listed: list[str] = []
        async with RegistryClient(endpoint, credentials) as client:
            catalog: bool | None = None
            await client.ping()  # bad credentials fail here, in words, before anything else
            try:
                async for page in client.iter_repositories():
                    listed.extend(page)
                    if len(listed) >= MAX_LISTED:
                        break
                catalog = True  # listed (an empty registry lists nothing, but allowed)
            except CatalogRefused:
                catalog = False
            except ResponseError as exc:
                notes.append(exc.message)
            if not listed and who is not None and who.api_ok is not False:
                try:
                    listed = await _gitlab_repositories(endpoint, credentials)
                except RegistryError as exc:
                    notes.append(f"Listing repositories through the REST API failed: {exc}")
            repository = repository or (listed[0] if listed else "")
            if not repository:
                notes.append(_nothing_listed(credentials))
                access = None
            else:
                access = await client.check_access(repository)
        vendor = await _vendor_access(endpoint, credentials, repository) if repository else None
        if who is not None:
            notes.extend(who.notes)
        summary = AccessSummary(
            repository=repository,
            pull=access.pull if access else None,
            push=access.push if access else None,
            delete=access.delete if access else None,
            api=(who.api_ok if who is not None else None)
            if access is None or access.api is None
            else access.api,
            catalog=access.catalog
            if access is not None and access.catalog is not None
            else catalog,
            notes=tuple(notes),
            expires_at=who.expires_at if who else None,
            user=_who(who),
            token_name=who.token_name if who else "",
            scopes=who.scopes if who else (),
            active=who.active if who else None,
            repositories=tuple(dict.fromkeys(listed)),
            gitlab=endpoint.kind == RegistryKind.GITLAB or bool(endpoint.api_url),
        )
        if vendor is None:
            return summary
        api, need, may, why = vendor
        return replace(summary, vendor_api=api, vendor_need=need, delete=may, vendor_words=why)


MAX_LISTED = 200  # repositories offered to pick from; the test needs one


async def _vendor_access(
    endpoint: Endpoint, credentials: Credentials | None, repository: str
) -> tuple[str, str, bool | None, str] | None:
    """(API, what it needs, may delete, why not) from the registry's management API (Docker
    Hub, GHCR, …), which replaces what `/v2` would say about deleting (`/v2` does not delete
    there); None for a registry without one. Sends only reads."""
    from regview.core.errors import VendorAPIError
    from regview.core.vendors import context_for, open_vendor

    vendor = open_vendor(context_for(endpoint, credentials))
    if vendor is None:
        return None
    try:
        found = await vendor.access(repository)
    except VendorAPIError as exc:
        return vendor.title, vendor.need.words, False, exc.message
    finally:
        await vendor.aclose()
    return vendor.title, vendor.need.words, found.can_delete, found.words


def _who(identity: TokenIdentity | None) -> str:
    if identity is None or not identity.username:
        return ""
    name = f" ({identity.name})" if identity.name and identity.name != identity.username else ""
    bot = ", a bot user acting for a project or group token" if identity.bot else ""
    return f"{identity.username}{name}{bot}"


def _api_for(endpoint: Endpoint, credentials: Credentials | None) -> GitLabAPI | None:
    if not endpoint.api_url:
        return None
    if credentials is not None and credentials.kind in (
        CredentialKind.DEPLOY,
        CredentialKind.IDENTITY,
    ):
        return None  # never sent to the API
    from regview.core.gitlab.api import GitLabAPI

    return GitLabAPI(
        endpoint.api_url, credentials, insecure=endpoint.insecure, ca_file=endpoint.ca_file
    )


async def _gitlab_identity(
    endpoint: Endpoint, credentials: Credentials | None
) -> TokenIdentity | None:
    api = _api_for(endpoint, credentials)
    if api is None or credentials is None or credentials.kind == CredentialKind.JOB:
        if api is not None:
            await api.aclose()
        return None  # anonymous and CI job tokens have no user or token record
    from regview.core.gitlab.identity import token_identity

    try:
        return await token_identity(api)
    finally:
        await api.aclose()


async def _gitlab_repositories(endpoint: Endpoint, credentials: Credentials | None) -> list[str]:
    """Registry repositories of the token's projects, through the REST API (GitLab refuses
    the catalog to everyone but administrators)."""
    api = _api_for(endpoint, credentials)
    if api is None:
        return []
    out: list[str] = []
    try:
        for project in await api.projects(membership=credentials is not None):
            pid = project.get("id")
            if isinstance(pid, int):
                out.extend(r.path for r in await api.project_repositories(pid) if r.path)
            if len(out) >= MAX_LISTED:
                break
    finally:
        await api.aclose()
    return out


def _nothing_listed(credentials: Credentials | None) -> str:
    """Why no repository could be tried, in the words of the credential's kind."""
    kind = credentials.kind if credentials is not None else None
    then = "and test again to check pull, push and delete."
    if kind is CredentialKind.DEPLOY:
        return f"No repository could be listed: deploy tokens cannot list repositories. Type one {then}"
    if kind is CredentialKind.JOB:
        return (
            "No repository could be listed: a CI job token reaches only the registry of its "
            f"job's project, and nothing lists it for the token. Type a repository of that project {then}"
        )
    return f"No repository could be listed with this credential. Type one {then}"
