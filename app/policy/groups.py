"""Groups: **open** (anyone joins), **closed** (the landing page is public; everything inside
answers 404 to non-members), **secret** (404 to non-members everywhere, never listed). Who may
manage a group, moderate its members, and who keeps reading inside it."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.groups.models import Group, Membership
from app.policy.core import (PUBLIC, active, can_moderate, can_view, can_view_inside, group_scope, ids, is_staff,
                             register, signed_in)


def group_scope_of(group: Group) -> str:
    # The landing page of open and closed groups is public; a secret group is invisible.
    return group_scope(group.id) if group.kind == "secret" else PUBLIC


def group_clause(model, scopes):
    if scopes is None:
        return true()
    return or_(model.kind != "secret", model.id.in_(ids(scopes, "group:")))


register(Group, group_scope_of, group_clause)


def group_or_404(slug: str, *, inside: bool = True) -> Group:
    """The one loader for every route that shows a group or something inside it: load, check,
    then the route processes. Missing, secret-to-outsiders and (with ``inside``) a closed
    group's inside all answer 404 alike, so no route is an existence oracle."""
    group = db.session.scalar(select(Group).where(Group.slug == slug).options(
        joinedload(Group.owner), selectinload(Group.tags))) if slug else None  # what every group page shows
    if group is None or not can_view(current_user, group) or (inside and not can_view_inside(current_user, group)):
        abort(404)
    return group


def readers_inside(group) -> set[int] | None:
    """Ids of the members who may read inside ``group`` besides staff; None when anyone may
    (an open group). Used when a group turns closed to evict everyone else's sockets."""
    if group.kind == "open":
        return None
    return set(db.session.scalars(select(Membership.user_id).where(
        Membership.group_id == group.id, Membership.state == "member")))


def moderated_groups(query, user):
    """``can_moderate`` as a WHERE clause on a select() over Group: the groups ``user`` may
    moderate (all of them for staff)."""
    if is_staff(user):
        return query
    if not signed_in(user):
        return query.where(false())
    return query.where(Group.id.in_(select(Membership.group_id).where(
        Membership.user_id == user.id, Membership.state == "member", Membership.role.in_(("moderator", "owner")))))


def can_create_group(user, kind: str) -> bool:
    """Confirmed members start open and closed groups; secret groups (invisible, so unmoderated
    by the community) only site moderators and admins."""
    if not active(user) or not user.is_confirmed:
        return False
    return kind != "secret" or is_staff(user)


def can_manage_group(user, group) -> bool:
    """Decisions about the group itself (kind, roles, ownership, archive, delete): its owner and
    site staff, not the group moderators the owner appointed."""
    return is_staff(user) or bool(signed_in(user) and group is not None and group.owner_id == user.id)


def can_moderate_member(user, group, membership, *, moderator: bool | None = None) -> bool:
    """Group moderators act on ordinary members and requests; only the owner and staff act on
    moderators; nobody acts on the owner (transfer first) or on themselves (leave instead).

    A list page passes ``moderator=can_moderate(user, group)``, decided once, so checking each
    row costs no query."""
    if moderator is None:
        moderator = can_moderate(user, group)
    if membership is None or not moderator:
        return False
    if membership.user_id == user.id or membership.role == "owner" or membership.user_id == group.owner_id:
        return False
    return membership.role != "moderator" or can_manage_group(user, group)
