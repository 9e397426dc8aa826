"""Which Docker/podman/CI logins could be imported, and importing the ones the user ticked.

    await find_candidates(accounts, env=None) -> list[Candidate]   every login found, each
                                        marked new, already here (same registry and username:
                                        never imported twice) or not a registry address
    await recognise(candidate, backend) -> Candidate   probes the registry (GET /v2/); a GitLab
                                        registry (its token realm ends in /jwt/auth) gets
                                        `gitlab`, a suggested credential kind and API address
    await adopt(accounts, chosen) -> ImportReport      a profile + keyring entry each, skipping
                                        whatever is already stored by then

Plain async code, no widgets: the preview dialog (`dialogs.import_dialog`) shows and edits these. The
secrets stay in the candidates (memory) until adopted into the keyring; they are never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from regview.core.errors import RegistryError
from regview.core.model import CredentialKind, Endpoint, RegistryKind
from regview.services.accounts import NOT_AN_ADDRESS, Accounts, ImportReport
from regview.services.async_utils import run_blocking
from regview.services.connect import ConnectBackend, derive_gitlab_api
from regview.services.connect_words import failure_in_words
from regview.settings.profiles import Profile, registry_host, registry_url

NEW, KNOWN, INVALID = "new", "already here", NOT_AN_ADDRESS
_DEPLOY_USER = re.compile(r"^gitlab\+deploy-token-\d+$")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One login found on this machine, as the preview shows it."""

    registry: str  # host[:port]
    url: str  # "" when `registry` is not a usable address
    username: str
    secret: str = field(repr=False)
    kind: CredentialKind
    source: str
    scope: str = ""
    status: str = NEW
    gitlab: bool = False
    api_url: str = ""
    checked: str = ""  # what the probe said, in a few words ('' = not probed yet)
    detail: str = ""  # the probe's full answer, for a tooltip

    @property
    def importable(self) -> bool:
        return self.status == NEW


async def find_candidates(accounts: Accounts, env: dict[str, str] | None = None) -> list[Candidate]:
    from regview.settings.importers import import_all

    logins = await run_blocking(import_all, env)
    settings = await accounts.load()
    known = {(p.host, p.username) for p in settings.profiles.values()}
    out: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for login in logins:
        host = registry_host(login.registry)
        if (host, login.username) in seen:
            continue  # the same login from two files: offered once
        seen.add((host, login.username))
        try:
            url = registry_url(login.registry)
        except ValueError:
            url = ""
        status = INVALID if not url else KNOWN if (host, login.username) in known else NEW
        out.append(
            Candidate(
                host,
                url,
                login.username,
                login.secret,
                login.kind,
                login.source,
                login.scope,
                status,
            )
        )
    return out


async def recognise(candidate: Candidate, backend: ConnectBackend) -> Candidate:
    """Ask the registry what it is; a GitLab one gets a GitLab credential kind and API address."""
    if not candidate.importable:
        return candidate
    try:
        probe = await backend.probe(Endpoint(url=candidate.url))
    except RegistryError as exc:
        return replace(
            candidate, checked="not reachable", detail=failure_in_words(exc, candidate.url)
        )
    if probe.kind != RegistryKind.GITLAB:
        return replace(candidate, checked=probe.kind_name)
    kind = candidate.kind
    if kind not in (
        CredentialKind.PERSONAL,
        CredentialKind.DEPLOY,
        CredentialKind.PROJECT,
        CredentialKind.GROUP,
        CredentialKind.JOB,
    ):
        if _DEPLOY_USER.match(candidate.username) or candidate.secret.startswith("gldt-"):
            kind = CredentialKind.DEPLOY
        elif candidate.username == "gitlab-ci-token":
            kind = CredentialKind.JOB
        else:
            kind = CredentialKind.PERSONAL
    api = probe.api_url or derive_gitlab_api(probe.url, probe.realm)
    return replace(candidate, gitlab=True, kind=kind, api_url=api, checked=probe.headline)


async def adopt(accounts: Accounts, chosen: list[Candidate]) -> ImportReport:
    """Store the chosen logins: a profile and a keyring entry each (never one twice)."""
    settings = await accounts.load()
    known = {(p.host, p.username) for p in settings.profiles.values()}
    names = set(settings.profiles)
    added: list[str] = []
    skipped: list[str] = []
    for c in chosen:
        if not c.importable or (c.registry, c.username) in known:
            skipped.append(f"{c.registry} ({c.username})")
            continue
        name = c.registry if c.registry not in names else f"{c.registry} ({c.username})"
        gitlab = c.gitlab and c.kind != CredentialKind.DEPLOY
        profile = Profile.for_endpoint(
            Endpoint(
                url=c.url,
                kind=RegistryKind.GITLAB if c.gitlab else RegistryKind.GENERIC,
                api_url=c.api_url if gitlab else "",
            ),
            name=name,
            username=c.username,
            credential_kind=c.kind,
            repositories=(c.scope,) if c.scope else (),
        )
        await accounts.save(profile, c.secret)
        known.add((c.registry, c.username))
        names.add(name)
        added.append(name)
    sources = tuple(dict.fromkeys(c.source for c in chosen))
    return ImportReport(tuple(added), tuple(skipped), sources)
