"""What the delete plan says before the confirmation when the credential cannot delete.

    credential_warning(profile, repository, fix=APP_FIX) -> str   '' unless the profile's last Test showed
                                           the credential cannot delete (its scopes anywhere, or
                                           the registry's refusal in that repository)
    with_credential_warning(plan, profile, fix=APP_FIX) -> DeletePlan   the plan with it added
    (`fix`: what to do about it, in the front end's words: the app's Manage tokens, the
    command line's `regview login`)

The knowledge comes from the Tokens/Add-registry Test (`Profile.cannot_delete`, `Profile.delete_refused_in`), so the person
reads it before confirming instead of meeting a column of HTTP 403s afterwards.
"""

from __future__ import annotations

from dataclasses import replace

from regview.core.deletion.plan_types import DeletePlan
from regview.settings.profiles import Profile

#: what to do about it, in the app
APP_FIX = "replace the token in Manage tokens with one that may delete"


def credential_warning(profile: Profile | None, repository: str = "", fix: str = APP_FIX) -> str:
    if profile is None:
        return ""
    reasons = [profile.cannot_delete] if profile.cannot_delete else []
    if profile.delete_refused_in and profile.delete_refused_in == repository:
        reasons.append(f"the registry did not grant it delete in {repository}")
    if not reasons:
        return ""
    when = f" on {profile.verified_at:%Y-%m-%d}" if profile.verified_at else ""
    return (
        f"This credential cannot delete here: {'; '.join(reasons)} (its last Test{when}). "
        f"The registry will refuse each tag with HTTP 403; {fix}."
    )


def with_credential_warning(
    plan: DeletePlan, profile: Profile | None, fix: str = APP_FIX
) -> DeletePlan:
    warning = credential_warning(profile, plan.repository, fix)
    if not warning or warning in plan.warnings:
        return plan
    return replace(plan, warnings=(warning, *plan.warnings))
