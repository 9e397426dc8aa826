"""The delete planner's vocabulary: the facts it reads (capabilities, manifests, tags), the
selection and options it is given, and the `DeletePlan` it returns with its actions, refusals
and blast radius (see `plan` for the rules)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regview.core.model import ReferrerInfo, TagInfo

GC_NOTE = (
    "Space returns only after the registry's garbage collection runs (GitLab: online GC after "
    "about 24 hours; the CNCF registry: `registry garbage-collect` with the registry stopped). "
    "Layers shared with other repositories are not freed."
)


class Method(enum.StrEnum):
    TAG_DELETE = "tag-delete"
    GITLAB_API = "gitlab-api"
    THROWAWAY = "throwaway"
    DIGEST = "digest"
    VENDOR_API = "vendor-api"  # the registry's management API (`regview.core.vendors`)

    @property
    def description(self) -> str:
        return _METHOD_TEXT[self]


_METHOD_TEXT = {
    Method.TAG_DELETE: "tag delete (removes only this tag)",
    Method.GITLAB_API: "GitLab tag API (removes only this tag)",
    Method.THROWAWAY: "throw-away manifest pushed to the tag, then deleted (removes only this tag)",
    Method.DIGEST: "delete by digest (nothing else uses this manifest)",
    Method.VENDOR_API: "the registry's management API (removes only this tag)",
}


class DeleteSupport(enum.StrEnum):
    """What a probe learnt about `DELETE` on manifests."""

    ALLOWED = "allowed"
    DISABLED = "disabled"  # 405 UNSUPPORTED / deletion off in the registry's config
    DENIED = "denied"  # 401/403: these credentials may not delete
    UNKNOWN = "unknown"  # not probed


@dataclass(frozen=True, slots=True)
class Capabilities:
    manifest_delete: DeleteSupport = DeleteSupport.UNKNOWN
    tag_delete: bool = False  # OCI tag delete supported
    gitlab_tag_api: bool = False  # GitLab REST tag API usable with these credentials
    can_push: bool = True  # needed by THROWAWAY
    #: the management API that deletes where `/v2` does not ("Docker Hub API"; "" = none);
    #: `manifest_delete` then says whether these credentials may delete through it
    vendor_api: str = ""
    #: the registry's own rules worth reading before deleting (Harbor's retention policy,
    #: Quay's time-machine window): shown with the plan
    vendor_notes: tuple[str, ...] = ()
    #: what deleting does to storage there (replaces the garbage-collection note)
    vendor_storage_note: str = ""
    detail: str = ""  # what the registry answered, for refusal messages
    learnt: str = ""  # the earlier answer these were learnt from ("" = headers and kind only)


@dataclass(frozen=True, slots=True)
class ManifestFacts:
    """A manifest known to the planner that is not (necessarily) tagged: index children, referrers."""

    digest: str
    media_type: str = ""
    children: tuple[str, ...] = ()
    blobs: tuple[tuple[str, int], ...] = ()
    subject: str = ""
    artifact_type: str = ""
    size: int = 0


@dataclass(frozen=True, slots=True)
class RepositoryFacts:
    """Everything the planner knows about one repository — all its tags, not just a page."""

    registry: str
    repository: str
    tags: tuple[TagInfo, ...]
    capabilities: Capabilities = Capabilities()
    referrers: Mapping[str, tuple[ReferrerInfo, ...]] = field(default_factory=dict)
    manifests: Mapping[str, ManifestFacts] = field(default_factory=dict)
    gitlab_project_id: int | None = None
    gitlab_repository_id: int | None = None
    #: tags the registry's own rules forbid deleting (Harbor immutability) → why, in words
    protected: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Selection:
    """What the user chose: tag names (with an optional reason each), or every tag, plus any
    untagged manifests a policy picked."""

    tags: frozenset[str] = frozenset()
    whole_repository: bool = False
    untagged: frozenset[str] = frozenset()
    reasons: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of_tags(cls, tags: Iterable[str], reason: str = "") -> Selection:
        names = frozenset(tags)
        return cls(tags=names, reasons={t: reason for t in names} if reason else {})

    @classmethod
    def repository(cls) -> Selection:
        return cls(whole_repository=True)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    delete_manifests: bool = False  # also delete manifests left untagged and unreferenced
    delete_referrers: bool = False  # also delete referrers of deleted manifests (default: warn)


@dataclass(frozen=True, slots=True)
class OptionNames:
    """How a front end names the two `PlanOptions` (a checkbox's label, a flag), so a plan's
    warning tells the person what to choose in their own words."""

    delete_manifests: str = "the option to delete manifests left untagged"
    delete_referrers: str = "the option to delete their signatures and SBOMs"


@dataclass(frozen=True, slots=True)
class TagAction:
    tag: str
    digest: str
    media_type: str
    method: Method
    reason: str
    manifest_untagged: bool  # no tag points at `digest` after the plan
    manifest_deletable: bool  # ... and nothing kept references it
    shared_with: tuple[str, ...] = ()  # kept tags with the same digest (they stay)
    note: str = ""  # why the manifest stays, when it does
    via: str = ""  # the management API that does it (`Method.VENDOR_API`), e.g. "Docker Hub API"

    @property
    def how(self) -> str:
        """The method in words, naming the API where one does the deleting."""
        if self.via:
            return f"{self.via} (removes only this tag)"
        return self.method.description

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "digest": self.digest,
            "method": str(self.method),
            "reason": self.reason,
            "manifest_untagged": self.manifest_untagged,
            "manifest_deletable": self.manifest_deletable,
            "shared_with": list(self.shared_with),
            "note": self.note,
        }


class ManifestRole(enum.StrEnum):
    MANIFEST = "manifest"  # what a selected tag pointed to
    CHILD = "index child"
    REFERRER = "referrer"
    UNTAGGED = "untagged manifest"  # picked directly (policy rule)


@dataclass(frozen=True, slots=True)
class ManifestAction:
    """Delete one manifest by digest (runs after every tag action, parents before children)."""

    digest: str
    media_type: str
    role: ManifestRole
    reason: str
    parent: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "role": str(self.role),
            "reason": self.reason,
            "parent": self.parent,
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    tag: str
    reason: str


@dataclass(frozen=True, slots=True)
class BlastRadius:
    shared_digests: Mapping[str, tuple[str, ...]]  # digest of a selected tag → kept tags on it
    orphaned_children: tuple[str, ...]  # index children left unreferenced (and kept)
    deleted_children: tuple[str, ...]
    orphaned_referrers: tuple[ReferrerInfo, ...]  # kept referrers whose subject is deleted
    deleted_referrers: tuple[ReferrerInfo, ...]
    reclaimable_bytes: int
    reclaimable_blobs: int
    gc_note: str = GC_NOTE
    # kept referrers whose subject stays, untagged (a tag-only plan): still attached
    untagged_referrers: tuple[ReferrerInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class DeletePlan:
    registry: str
    repository: str
    options: PlanOptions
    tag_actions: tuple[TagAction, ...] = ()
    manifest_actions: tuple[ManifestAction, ...] = ()
    refused: tuple[Refusal, ...] = ()
    kept_tags: tuple[str, ...] = ()
    unknown_tags: tuple[str, ...] = ()
    blast: BlastRadius | None = None
    warnings: tuple[str, ...] = ()
    refusal: str = ""  # non-empty: the registry cannot delete; nothing will be done
    learnt: str = ""  # the method comes from an earlier answer (see `Capabilities.learnt`)
    gitlab_project_id: int | None = None
    gitlab_repository_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not self.tag_actions and not self.manifest_actions

    @property
    def item_count(self) -> int:
        return len(self.tag_actions) + len(self.manifest_actions)

    def summary(self) -> str:
        if self.refusal:
            return self.refusal
        parts = [f"{len(self.tag_actions)} tag(s) in {self.registry}/{self.repository}"]
        if self.manifest_actions:
            parts.append(f"{len(self.manifest_actions)} manifest(s) by digest")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.blast is not None:
            parts.append(f"about {self.blast.reclaimable_bytes} bytes reclaimable after GC")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        blast = self.blast
        return {
            "registry": self.registry,
            "repository": self.repository,
            "refusal": self.refusal,
            "tags": [a.to_json() for a in self.tag_actions],
            "manifests": [a.to_json() for a in self.manifest_actions],
            "refused": [{"tag": r.tag, "reason": r.reason} for r in self.refused],
            "kept": len(self.kept_tags),
            "unknown": list(self.unknown_tags),
            "warnings": list(self.warnings),
            "blast_radius": None
            if blast is None
            else {
                "shared_digests": {d: list(t) for d, t in blast.shared_digests.items()},
                "orphaned_children": list(blast.orphaned_children),
                "deleted_children": list(blast.deleted_children),
                "orphaned_referrers": [r.digest for r in blast.orphaned_referrers],
                "deleted_referrers": [r.digest for r in blast.deleted_referrers],
                "untagged_referrers": [r.digest for r in blast.untagged_referrers],
                "reclaimable_bytes": blast.reclaimable_bytes,
                "reclaimable_blobs": blast.reclaimable_blobs,
                "note": blast.gc_note,
            },
        }
