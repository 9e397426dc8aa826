"""What a registry lets the planner do, decided without sending a single request.

    infer_capabilities(headers, kind, learnt, *, gitlab_tag_api=False, can_push=True) -> Capabilities
    deletion_refused(exc) -> bool      an answer that means "this way of deleting is not offered"

regview used to *probe* by deleting a made-up digest and a made-up tag (plus an OPTIONS): 404s
on a test registry, but DELETE entries in a production registry's audit log for things nobody
chose. Now the evidence is only what the registry says anyway:

- the `/v2/` check's headers: GitLab's `Gitlab-Container-Registry-Features` lists `tag_delete`
  (GitLab ≥ 16.4, what GitLab itself looks at); regview's own registry (`Regview-Registry-Version`)
  deletes single tags;
- what was learnt from earlier answers (`registry_knowledge`): a tag delete answered 405/400,
  deletion switched off (405 UNSUPPORTED on a delete by digest);
- documented behaviour per kind: anything else is not assumed to delete single tags (some
  registries resolve `DELETE …/<tag>` to the manifest, taking sibling tags along), so it gets the
  throw-away manifest (push + delete by digest, touching only the chosen tag) or a delete by
  digest where nothing else shares the manifest.

The first real deletion corrects a wrong guess (see `deletion.items`): its answer falls back to
the next safest method for that item and the rest of the run, and is remembered.
"""

from __future__ import annotations

from collections.abc import Mapping

from regview.core.deletion.plan import Capabilities, DeleteSupport
from regview.core.model import RegistryKind
from regview.core.registry_knowledge import RegistryKnowledge

GITLAB_FEATURES = "Gitlab-Container-Registry-Features"
GITLAB_VERSION = "Gitlab-Container-Registry-Version"
REGVIEW_VERSION = "Regview-Registry-Version"


def _header(headers: Mapping[str, str], name: str) -> str:
    want = name.lower()
    return next((v for k, v in headers.items() if k.lower() == want), "")


def gitlab_features(headers: Mapping[str, str]) -> set[str]:
    return {f.strip().lower() for f in _header(headers, GITLAB_FEATURES).split(",") if f.strip()}


def infer_capabilities(
    headers: Mapping[str, str],
    kind: str,
    learnt: RegistryKnowledge,
    *,
    gitlab_tag_api: bool = False,
    can_push: bool = True,
    granted: set[str] | None = None,
) -> Capabilities:
    """Capabilities from the `/v2/` headers, the registry's kind, what was learnt before and
    `granted`: the actions the token service grants these credentials (None: not known)."""
    is_regview = bool(_header(headers, REGVIEW_VERSION))
    is_gitlab = kind == RegistryKind.GITLAB or bool(_header(headers, GITLAB_VERSION))
    if learnt.tag_delete is not None:
        tag_delete = learnt.tag_delete
    else:
        tag_delete = (is_gitlab and "tag_delete" in gitlab_features(headers)) or is_regview
    support = DeleteSupport.UNKNOWN
    detail = ""
    if granted is not None and "*" not in granted:
        can_push = can_push and "push" in granted
    if learnt.deletion_disabled:
        support, detail = DeleteSupport.DISABLED, learnt.learnt_from
    elif granted is not None and not granted & {"delete", "*"} and not gitlab_tag_api:
        given = ", ".join(sorted(granted)) or "nothing"
        support, detail = DeleteSupport.DENIED, f"the token service grants them: {given}"
    elif is_gitlab or is_regview:
        # Both always allow deleting (whether *these credentials* may is for the first
        # deletion to tell; it is not remembered, credentials change).
        support = DeleteSupport.ALLOWED
    answered = learnt.tag_delete is not None or bool(learnt.deletion_disabled)
    return Capabilities(
        manifest_delete=support,
        tag_delete=tag_delete,
        gitlab_tag_api=gitlab_tag_api,
        can_push=can_push,
        detail=detail,
        learnt=learnt.learnt_from if answered else "",
    )


def deletion_refused(exc: BaseException) -> bool:
    """405, UNSUPPORTED, or 400 DIGEST_INVALID (distribution 2.8's answer to a tag delete):
    the registry does not offer this way of deleting. Nothing was changed by the request."""
    status = getattr(exc, "status", 0)
    codes = {str(c) for c in getattr(exc, "codes", ()) or ()}
    if status == 405 or type(exc).__name__ == "Unsupported" or "UNSUPPORTED" in codes:
        return True
    return status == 400 and ("DIGEST_INVALID" in codes or not codes)
