"""Profiles: a profile page is public while the account is active; each profile field has its
own audience (everyone, members, only me)."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, true

from app.accounts.models import ProfileField, User
from app.policy.core import MEMBERS, PUBLIC, ids, register, signed_in, user_scope


def field_scope(field: ProfileField) -> str:
    if not field.user.is_active_account:
        return user_scope(field.user_id)
    return {"everyone": PUBLIC, "members": MEMBERS}.get(field.visibility, user_scope(field.user_id))


def field_clause(model, scopes):
    if scopes is None:
        return true()
    owner_ids = ids(scopes, "user:")
    active = model.user.has(User.is_active_account.is_(True))
    return or_(
        and_(active, model.visibility == "everyone"),
        and_(active, model.visibility == "members", true() if MEMBERS in scopes else false()),
        model.user_id.in_(owner_ids),
    )


def user_rule_scope(user: User) -> str:
    # A profile page (name, role badge) is public while the account is active.
    return PUBLIC if user.is_active_account else user_scope(user.id)


def user_clause(model, scopes):
    if scopes is None:
        return true()
    owner_ids = ids(scopes, "user:")
    return or_(model.is_active_account.is_(True), model.id.in_(owner_ids))


register(ProfileField, field_scope, field_clause)
register(User, user_rule_scope, user_clause)


def can_edit_profile(user, owner) -> bool:
    return signed_in(user) and (user.id == owner.id or user.is_admin)
