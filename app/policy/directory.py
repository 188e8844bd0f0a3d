"""The public databases: centres, trials and guidelines need no rule to read. Who may add a
guideline, and who may propose a correction to a centre (seen by its proposer and staff only)."""
from __future__ import annotations

from sqlalchemy import true

from app.directory.models import CentreCorrection
from app.policy.core import active, ids, register, user_scope


def correction_scope(correction: CentreCorrection) -> str:
    return user_scope(correction.proposer_id)


def correction_clause(model, scopes):
    if scopes is None:
        return true()
    return model.proposer_id.in_(ids(scopes, "user:"))


register(CentreCorrection, correction_scope, correction_clause)


def can_add_guideline(user) -> bool:
    """Clinicians and site staff add guidelines; others may suggest one in the forum."""
    return active(user) and (user.role == "clinician" or user.is_moderator)


def can_propose_correction(user) -> bool:
    """Centre staff (confirmed) and site staff propose corrections to a centre; moderators decide."""
    if not active(user):
        return False
    return user.is_moderator or (user.role == "centre_staff" and user.is_confirmed)
