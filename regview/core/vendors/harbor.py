"""Harbor's API v2.0 (`/api/v2.0` on the registry's own host), for what `/v2` cannot do there.

Harbor refuses `DELETE /v2/<repo>/manifests/<tag>` outright and, by digest, deletes the whole
artifact with every tag on it. Its API deletes one tag and leaves the artifact and its other tags
(`DELETE …/artifacts/{digest}/tags/{tag}`); an image whose last tag goes is deleted as a whole
(`DELETE …/artifacts/{digest}`), since Harbor's garbage collection keeps untagged artifacts
unless told otherwise and the plan's "frees" would not come true. An index, or an image with
signatures (Harbor's accessories), only loses its tag: Harbor would delete its children or
signatures too, which the plan did not choose.

Harbor's own rules are read and respected:
- immutability rules (`/projects/{p}/immutabletagrules`): Harbor marks each tag `immutable` in
  the artifact listing (`with_immutable_status=true`); such tags are `protected_tags`, so
  the planner never offers them (Harbor would answer 412 PRECONDITION anyway);
- the tag retention policy (`/retentions/{id}`, named by the project's `retention_id`): shown
  with the plan in words — Harbor runs it on its own schedule.

Credentials: the registry login itself, by Basic authentication — a robot account
(`robot$project+name`) or a Harbor user. What it may do is asked, never tried:
`/users/current/permissions?scope=/project/{id}&relative=true` lists its resource:action pairs.
Repository names inside a project are encoded twice in API paths (`a/b` → `a%252Fb`), as
Harbor's API description asks.
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

PAGE_SIZE = 100  # Harbor's maximum page_size
#: the permissions regview's work needs, in Harbor's words (robot account dialog)
NEEDED = {
    "artifact:list": "Artifact: List",
    "tag:delete": "Tag: Delete",
    "artifact:delete": "Artifact: Delete",
}
#: Harbor's retention rule templates (src/pkg/retention/policy/rule/*/evaluator.go)
TEMPLATES = {
    "latestPushedK": "the {n} most recently pushed",
    "latestPulledN": "the {n} most recently pulled",
    "latestActiveK": "the {n} most recently pushed or pulled",
    "nDaysSinceLastPush": "those pushed within the last {n} days",
    "nDaysSinceLastPull": "those pulled within the last {n} days",
    "lastXDays": "those pushed within the last {n} days",
    "always": "all",
    "nothing": "none",
}


def _utc(text: Any) -> datetime | None:
    """Harbor's date-times; Go's zero time ("never pulled") is None."""
    if not isinstance(text, str) or not text or text.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _selector(selectors: Any, what: str) -> str:
    if not isinstance(selectors, list) or not selectors or not isinstance(selectors[0], dict):
        return f"any {what}"
    s = selectors[0]
    pattern = str(s.get("pattern") or "**")
    negated = str(s.get("decoration", "")).lower().endswith("excludes")
    plural = {"repository": "repositories"}.get(what, what + "s")
    return f"{plural} {'not ' if negated else ''}matching {pattern}"


def immutable_rule_words(rule: Mapping[str, Any]) -> str:
    repos = (rule.get("scope_selectors") or {}).get("repository")
    return f"{_selector(rule.get('tag_selectors'), 'tag')} in {_selector(repos, 'repository')}"


def retention_words(policy: Mapping[str, Any]) -> list[str]:
    """Each enabled retention rule in words: what it retains; everything else goes when the
    policy runs."""
    out = []
    for rule in policy.get("rules") or []:
        if not isinstance(rule, dict) or rule.get("disabled"):
            continue
        template = str(rule.get("template", ""))
        params = rule.get("params") or {}
        n = next(iter(params.values()), "") if isinstance(params, dict) else ""
        keeps = TEMPLATES.get(template, template).format(n=n)
        repos = (rule.get("scope_selectors") or {}).get("repository")
        out.append(
            f"retain {keeps} of the {_selector(rule.get('tag_selectors'), 'tag')} "
            f"in {_selector(repos, 'repository')}"
        )
    return out


class HarborAPI(VendorAPI):
    kind = RegistryKind.HARBOR
    title = "Harbor API"
    storage_note = (
        "Harbor frees the space at its next garbage collection (Administration → Clean Up); "
        "an artifact left without tags (an index whose tag was deleted) stays unless that run "
        "is set to delete untagged artifacts."
    )
    need = CredentialNeed(
        api="Harbor API v2.0 (/api/v2.0 on the registry's own address)",
        secret="a robot account (robot$project+name) and its secret, or a Harbor user",
        scopes=tuple(NEEDED.values()),
        words=(
            "Harbor deletes through its own API with the same login as the registry. A robot "
            "account (Project → Robot Accounts) needs Repository: Pull, Artifact: List, "
            "Tag: Delete and Artifact: Delete; a user needs the Maintainer or Project Admin role. "
            "Immutable tags are never deleted."
        ),
    )

    def __init__(self, ctx: VendorContext) -> None:
        super().__init__(ctx)
        self.http = VendorHTTP(
            ctx,
            title=self.title,
            hints={
                401: "Harbor did not accept this login (check the robot account's name, "
                "robot$project+name, and its secret)",
                403: "this login may not do that in the project (a robot account needs "
                "Tag: Delete and Artifact: Delete; a user the Maintainer role)",
                412: "Harbor refused: the tag is immutable or the artifact is part of an index",
            },
        )
        if ctx.credentials is not None:
            self.http.client.auth = (ctx.credentials.username, ctx.credentials.secret)
        #: repository → tag → immutable, from the last listing
        self._immutable: dict[str, dict[str, bool]] = {}
        #: repository → digests of listed artifacts without children (plain images)
        self._plain: dict[str, set[str]] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- paths ------------------------------------------------------------------------------

    def _split(self, repository: str) -> tuple[str, str]:
        project, _, inner = repository.partition("/")
        if not inner:
            raise E.VendorAPIError(
                f"{self.registry}: {repository} is not inside a Harbor project "
                "(Harbor repositories are named project/repository)",
                registry=self.registry,
            )
        return project, inner

    def _artifacts(self, repository: str) -> str:
        project, inner = self._split(repository)
        encoded = urllib.parse.quote(urllib.parse.quote(inner, safe=""), safe="")
        return f"projects/{urllib.parse.quote(project, safe='')}/repositories/{encoded}/artifacts"

    # -- reads ------------------------------------------------------------------------------

    async def _artifact_pages(self, repository: str) -> list[dict[str, Any]]:
        what = f"listing the artifacts of {repository}"
        params = {
            "with_tag": "true",
            "with_immutable_status": "true",
            "with_accessory": "true",
            "page_size": PAGE_SIZE,
        }
        artifacts: list[dict[str, Any]] = []
        async for response in self.http.link_pages(
            self._artifacts(repository), what=what, params=params
        ):
            page = self.http.json(response, what)
            if not isinstance(page, list):
                raise E.VendorAPIError(
                    f"{self.registry}: {what}: the answer is not a list of artifacts",
                    registry=self.registry,
                )
            artifacts.extend(a for a in page if isinstance(a, dict))
        return artifacts

    async def list_tags(self, repository: str) -> list[TagInfo] | None:
        listed: list[ApiTag] = []
        immutable: dict[str, bool] = {}
        plain: set[str] = set()
        for art in await self._artifact_pages(repository):
            digest = str(art.get("digest", ""))
            is_index = bool(art.get("references"))
            if not is_index and not art.get("accessories"):
                # Harbor deletes an artifact's signatures (accessories) with it: those stay
                # the plan's business, so an artifact that has any only ever loses tags
                plain.add(digest)
            for tag in art.get("tags") or []:
                if not isinstance(tag, dict) or not tag.get("name"):
                    continue
                name = str(tag["name"])
                immutable[name] = bool(tag.get("immutable"))
                pushed = _utc(tag.get("push_time")) or _utc(art.get("push_time"))
                # the tag's own last pull (Go's zero time, never pulled, reads as None); not
                # the artifact's, which our own by-digest manifest reads move
                pulled = _utc(tag.get("pull_time"))
                size = art.get("size") if isinstance(art.get("size"), int) else None
                listed.append(ApiTag(name, digest, pushed, size, is_index, pulled))
        self._immutable[repository] = immutable
        self._plain[repository] = plain
        listed.sort(key=lambda t: t.tag)
        return await complete(self.ctx, repository, listed)

    async def _project(self, project: str) -> dict[str, Any]:
        what = f"reading the Harbor project {project}"
        response = await self.http.call(
            "GET", f"projects/{urllib.parse.quote(project, safe='')}", what=what
        )
        return self.http.object(response, what)

    async def _permissions(self, project_id: int) -> set[str]:
        what = "reading what this login may do in the project"
        response = await self.http.call(
            "GET",
            "users/current/permissions",
            what=what,
            params={"scope": f"/project/{project_id}", "relative": "true"},
        )
        listed = self.http.json(response, what)
        return {
            f"{p.get('resource')}:{p.get('action')}"
            for p in (listed if isinstance(listed, list) else [])
            if isinstance(p, dict)
        }

    async def _notes(self, project: str, meta: Mapping[str, Any], perms: set[str]) -> list[str]:
        notes: list[str] = []
        if "immutable-tag:list" in perms:
            response = await self.http.call(
                "GET",
                f"projects/{urllib.parse.quote(project, safe='')}/immutabletagrules",
                what="reading the project's immutability rules",
            )
            rules = self.http.json(response, "immutability rules")
            enabled = [r for r in rules if isinstance(r, dict) and not r.get("disabled")]
            if enabled:
                notes.append(
                    f"Harbor keeps tags immutable in project {project} (never deleted): "
                    + "; ".join(immutable_rule_words(r) for r in enabled)
                    + "."
                )
        retention_id = str(meta.get("retention_id") or "")
        if retention_id.isdigit():
            if "tag-retention:read" not in perms:
                notes.append(
                    f"Project {project} has a Harbor tag retention policy (#{retention_id}); "
                    "this login may not read it (Tag Retention: Read)."
                )
            else:
                response = await self.http.call(
                    "GET", f"retentions/{retention_id}", what="reading the tag retention policy"
                )
                policy = self.http.object(response, "tag retention policy")
                rules = retention_words(policy)
                cron = ((policy.get("trigger") or {}).get("settings") or {}).get("cron", "")
                when = f" (it runs on schedule {cron})" if cron else ""
                notes.append(
                    f"Harbor's tag retention policy of project {project}{when} keeps only what "
                    "its rules retain and deletes the rest by itself: "
                    + ("; ".join(rules) if rules else "no enabled rule")
                    + "."
                )
        return notes

    async def access(self, repository: str) -> VendorAccess:
        project, _ = self._split(repository)
        if self.ctx.credentials is None:
            return VendorAccess(
                can_list=None,
                can_delete=False,
                words=(
                    "deleting on Harbor needs a login: a robot account with Tag: Delete and "
                    "Artifact: Delete, or a user with the Maintainer role"
                ),
            )
        try:
            meta_project = await self._project(project)
            perms = await self._permissions(int(meta_project.get("project_id", 0)))
        except E.VendorAPIError as exc:
            if exc.status in (401, 403, 404):
                return VendorAccess(can_list=False, can_delete=False, words=exc.message)
            raise
        missing = [words for perm, words in NEEDED.items() if perm not in perms]
        can_delete = "tag:delete" in perms
        words = ""
        if missing:
            words = f"this login lacks {', '.join(missing)} in Harbor project {project}" + (
                " (a robot account gets them under Project → Robot Accounts → Permissions; "
                "a user with the Maintainer role has them)"
            )
        notes = await self._notes(project, meta_project.get("metadata") or {}, perms)
        return VendorAccess(
            can_list="artifact:list" in perms,
            can_delete=can_delete,
            scopes=tuple(sorted(perms)),
            words=words if not can_delete else "",
            notes=tuple(notes),
        )

    async def protected_tags(self, repository: str) -> dict[str, str]:
        """The tags Harbor marks immutable in its listing (its rules, applied by Harbor)."""
        if repository not in self._immutable:
            try:
                await self.list_tags(repository)
            except E.VendorAPIError as exc:
                if exc.status in (401, 403):
                    return {}  # cannot list: `access` refuses the plan in words anyway
                raise
        project, _ = self._split(repository)
        return {
            tag: f"Harbor keeps {tag} immutable (an immutability rule of project {project}); "
            "it cannot be deleted"
            for tag, yes in sorted(self._immutable.get(repository, {}).items())
            if yes
        }

    async def untagged_artifacts(self, repository: str) -> dict[str, int] | None:
        """Harbor lists artifacts without tags (its listing leaves out an index's untagged
        children, which the index keeps); signatures (accessories) of an untagged artifact go
        with it, those of a tagged one stay. Sizes as Harbor gives them: a layer an untagged
        artifact shares with a tagged one counts here too (`core.untagged` de-duplicates)."""
        found: dict[str, int] = {}
        kept: set[str] = set()  # accessories of tagged artifacts
        for art in await self._artifact_pages(repository):
            digest, size = art.get("digest"), art.get("size")
            accessories = [a for a in art.get("accessories") or [] if isinstance(a, dict)]
            if art.get("tags"):
                kept.update(str(a.get("digest", "")) for a in accessories)
                continue
            if isinstance(digest, str) and digest and isinstance(size, int):
                found[digest] = size
            for a in accessories:
                if isinstance(a.get("digest"), str) and isinstance(a.get("size"), int):
                    found[a["digest"]] = a["size"]
        return {d: n for d, n in found.items() if d not in kept}

    # -- mutations ----------------------------------------------------------------------------

    async def _artifact_now(self, repository: str, digest: str) -> dict[str, Any]:
        """The artifact as Harbor holds it at this moment: its tags, children, signatures."""
        what = f"reading the artifact {repository}@{digest}"
        response = await self.http.call(
            "GET",
            f"{self._artifacts(repository)}/{digest}",
            what=what,
            params={"with_tag": "true", "with_accessory": "true"},
        )
        return self.http.object(response, what)

    async def delete_tag(self, repository: str, tag: str, digest: str, *, sole: bool) -> None:
        base = f"{self._artifacts(repository)}/{digest}"
        # An image whose last tag goes is deleted whole (else Harbor keeps it untagged). Only a
        # plain image, as Harbor holds it just now: an index would take its children, an image
        # with signatures those, a tag pushed on it since the plan that tag — none chosen.
        if sole and digest in self._plain.get(repository, set()):
            art = await self._artifact_now(repository, digest)
            others = [t.get("name") for t in art.get("tags") or [] if t.get("name") != tag]
            if not (others or art.get("references") or art.get("accessories")):
                try:
                    await self.http.call(
                        "DELETE",
                        base,
                        what=f"deleting the artifact of {repository}:{tag}",
                        ok=(200, 201, 202, 204),
                        refused_is_scope=True,
                    )
                    return
                except E.VendorAPIError as exc:
                    # referenced by an index (412) or no Artifact: Delete (403): the tag alone
                    if exc.status not in (403, 412):
                        raise
        await self.http.call(
            "DELETE",
            f"{base}/tags/{urllib.parse.quote(tag, safe='')}",
            what=f"deleting the tag {repository}:{tag}",
            ok=(200, 201, 202, 204),
            refused_is_scope=True,
        )

    async def delete_manifest(self, repository: str, digest: str) -> None:
        """Harbor deletes an artifact with its tags and signatures (accessories). The plan
        deletes a manifest no kept tag uses, and referrers first when it deletes them: a tag or
        signature still there now was not chosen, and the artifact is refused in words."""
        art = await self._artifact_now(repository, digest)
        tags = sorted(str(t.get("name")) for t in art.get("tags") or [])
        accessories = art.get("accessories") or []
        why = ""
        if tags:
            why = f"the tag(s) {', '.join(tags)} point at it now (pushed since the plan was made)"
        elif accessories:
            why = (
                f"Harbor would delete its {len(accessories)} signature(s) with it, which this "
                "deletion did not choose; choose to delete signatures and SBOMs too, or remove "
                "them in Harbor"
            )
        if why:
            raise E.VendorAPIError(
                f"{self.registry}: {repository}@{digest[:19]}… was not deleted: {why}",
                registry=self.registry,
                status=412,
            )
        await self.http.call(
            "DELETE",
            f"{self._artifacts(repository)}/{digest}",
            what=f"deleting the artifact {repository}@{digest}",
            ok=(200, 201, 202, 204),
            refused_is_scope=True,
        )


def _default_api(registry_url: str) -> str:
    return registry_url.rstrip("/") + "/api/v2.0"


def _detect(host: str, realm: str, headers: Mapping[str, str]) -> bool:
    return realm.rstrip("/").endswith("/service/token")


SPEC = VendorSpec(
    RegistryKind.HARBOR, HarborAPI.title, HarborAPI, default_api=_default_api, detect=_detect
)
