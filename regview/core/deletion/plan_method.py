"""Which way a registry lets the planner delete a tag (safest first), or why it lets nothing
be deleted at all."""

from __future__ import annotations

from regview.core.deletion.plan_types import Capabilities, DeleteSupport, Method


def refusal_for(caps: Capabilities, registry: str) -> str:
    """Why nothing at all can be deleted on this registry, or "" when something can."""
    if caps.gitlab_tag_api:
        return ""
    detail = f" ({caps.detail})" if caps.detail else ""
    if caps.manifest_delete is DeleteSupport.DISABLED:
        return (
            f"{registry} does not allow deleting manifests{detail}. Nothing was deleted. "
            "Deletion must be enabled by its administrator (CNCF registry: "
            "storage.delete.enabled: true)."
        )
    if caps.manifest_delete is DeleteSupport.DENIED and caps.vendor_api:
        return (
            f"These credentials may not delete through the {caps.vendor_api} on {registry}"
            f"{detail}. Nothing was deleted."
        )
    if caps.manifest_delete is DeleteSupport.DENIED:
        return (
            f"These credentials may not delete on {registry}{detail}. Nothing was deleted. "
            "Use credentials with delete rights (GitLab: a token with write_registry and at "
            "least the Developer role)."
        )
    return ""


def choose_method(caps: Capabilities) -> Method | None:
    if caps.vendor_api:
        # the vendor's API decides per tag how to spare siblings (`vendors.base.delete_tag`)
        return None if caps.manifest_delete is DeleteSupport.DENIED else Method.VENDOR_API
    if caps.tag_delete and caps.manifest_delete is not DeleteSupport.DISABLED:
        return Method.TAG_DELETE
    if caps.gitlab_tag_api:
        return Method.GITLAB_API
    if caps.manifest_delete in (DeleteSupport.DISABLED, DeleteSupport.DENIED):
        return None
    return Method.THROWAWAY if caps.can_push else Method.DIGEST
