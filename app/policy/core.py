"""The heart of the rule: scopes, the rule registry, and the three forms that must agree.

Every protected row lives in exactly one *scope* (``scope_of``); a user holds a set of scopes
(``scopes_for``); staff see everything. ``can_view`` compares them for one object, ``visible``
turns the same rule into SQL. Each family of rules registers ``Rule(scope, clause)`` per model
with ``register``; a model without a rule raises: unknown never means allowed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import abort, g, has_app_context
from flask_login import current_user
from sqlalchemy import or_, select

from app.extensions import db
from app.groups.models import Group, Membership

PUBLIC = "public"
MEMBERS = "members"  # any signed-in, confirmed-or-not, active account
STAFF = "staff"  # removed content: only site staff


def user_scope(user_id: int) -> str:
    return f"user:{user_id}"


def group_scope(group_id: int) -> str:
    return f"group:{group_id}"


@dataclass(frozen=True)
class Rule:
    scope: Callable[[Any], str]  # the one scope a row lives in
    clause: Callable[[Any, frozenset], Any]  # (Model, scopes) -> SQL boolean


_RULES: dict[type, Rule] = {}


def register(model: type, scope: Callable[[Any], str], clause: Callable[[Any, frozenset | None], Any]) -> None:
    """Give ``model`` its rule: the one scope a row lives in, and the same as a SQL clause
    (``scopes`` is None for staff: only existence rules apply)."""
    _RULES[model] = Rule(scope, clause)


def rule_for(model: type) -> Rule:
    for klass in model.__mro__:
        if klass in _RULES:
            return _RULES[klass]
    raise LookupError(f"No access rule for {model.__name__}: add one to app/policy/")


def signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def active(user) -> bool:
    """Signed in with an account that may act (not suspended or closed)."""
    return signed_in(user) and user.is_active


def is_staff(user) -> bool:
    """Site moderators and admins moderate everything, so they may see everything."""
    return signed_in(user) and user.is_moderator


def scopes_for(user) -> frozenset:
    """Everything a user may see, as scope strings; staff are handled by ``is_staff``."""
    if not signed_in(user):
        return frozenset({PUBLIC})
    scopes = {PUBLIC, MEMBERS, user_scope(user.id)}
    scopes.update(group_scope(gid) for gid in member_group_ids(user))
    return frozenset(scopes)


def member_group_ids(user) -> set[int]:
    """Groups whose inside the user may read: active memberships only (not pending, not banned).

    Cached for the request on ``g``; services that change membership call ``forget(user)`` so a
    removal takes effect in the same request cycle."""
    cache = g.setdefault("_policy_groups", {}) if has_app_context() else {}
    if user.id not in cache:
        cache[user.id] = set(db.session.scalars(
            select(Membership.group_id).where(Membership.user_id == user.id, Membership.state == "member")))
    return cache[user.id]


def forget(user=None) -> None:
    """Drop cached scopes after a membership change."""
    if not has_app_context():
        return
    if "_policy_groups" in g:
        if user is None:
            g._policy_groups.clear()
        else:
            g._policy_groups.pop(user.id, None)
    if "_policy_memberships" in g:
        if user is None:
            g._policy_memberships.clear()
        else:
            for key in [k for k in g._policy_memberships if k[0] == user.id]:
                del g._policy_memberships[key]


def scope_of(obj) -> str:
    return rule_for(type(obj)).scope(obj)


def can_view(user, obj) -> bool:
    """A row's scope is one string; a file shown in several places has a set (policy/media)."""
    if obj is None:
        return False
    scope = scope_of(obj)  # first: a type without a rule raises, even for staff
    if is_staff(user):
        return True
    held = scopes_for(user)
    return scope in held if isinstance(scope, str) else not held.isdisjoint(scope)


def visible(query, user, model: type):
    """Narrow a select() over ``model`` to the rows ``user`` may see."""
    if is_staff(user):
        return query.where(rule_for(model).clause(model, None))
    return query.where(rule_for(model).clause(model, scopes_for(user)))


def get_visible_or_404(model: type, ident):
    """Load one row for a route; absent and forbidden look the same (404) to the caller."""
    obj = db.session.get(model, ident)
    if obj is None or not can_view(current_user, obj):
        abort(404)
    return obj


def require_view(obj):
    if not can_view(current_user, obj):
        abort(404)
    return obj


def ids(scopes, prefix: str) -> list[int]:
    return [int(s.split(":", 1)[1]) for s in scopes if s.startswith(prefix)]


def content_scope(group) -> str:
    """Scope of everything inside a group (forum, member list, chat): public only when open."""
    return PUBLIC if group.kind == "open" else group_scope(group.id)


def inside_clause(group_id, scopes: frozenset):
    """``content_scope`` as SQL, for a row living inside the group ``group_id`` (a column): open
    groups, and the groups whose scope the user holds."""
    return or_(group_id.in_(select(Group.id).where(Group.kind == "open")), group_id.in_(ids(scopes, "group:")))


def can_view_inside(user, group) -> bool:
    """May ``user`` read the group's forum and member list (not just its landing page)?"""
    return is_staff(user) or content_scope(group) in scopes_for(user)


def visible_inside(query, user):
    """``can_view_inside`` as a WHERE clause on a select() over Group: for member lists on
    profiles and anything else that lists groups by what happens inside them."""
    if is_staff(user):
        return query
    return query.where(inside_clause(Group.id, scopes_for(user)))


def membership_of(user, group):
    """The user's row in the group, remembered for the request (a page asks several rules about
    the same pair); ``forget`` drops it after a membership change."""
    if not signed_in(user):
        return None
    cache = g.setdefault("_policy_memberships", {}) if has_app_context() else {}
    key = (user.id, group.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id))
    return cache[key]


def can_moderate(user, group) -> bool:
    """Site staff, and the group's owner and moderators while they are members."""
    if is_staff(user):
        return True
    membership = membership_of(user, group) if group is not None else None
    return bool(membership and membership.state == "member" and membership.role in ("moderator", "owner"))


@dataclass(frozen=True)
class PageRights:
    """Edit and Remove buttons for every item on one page (posts of a topic, messages of a chat),
    decided once for the page (DESIGN 11: no per-post permission queries) with the same rule as
    ``can_edit_post`` / ``can_delete_post`` / ``can_remove_chat_message``: moderators act on
    anything; authors remove their own words, and edit them while they may still write there."""
    viewer_id: int | None = None
    moderator: bool = False
    may_write: bool = False

    def can_edit(self, item) -> bool:
        return not item.is_removed and (self.moderator or (self.may_write and item.author_id == self.viewer_id))

    def can_remove(self, item) -> bool:
        return not item.is_removed and self.viewer_id is not None and (
            self.moderator or item.author_id == self.viewer_id)


def page_rights(user, group, may_write: bool) -> PageRights:
    """The rights of ``user`` over the items of one page inside ``group`` (None: site-wide)."""
    if not active(user):
        return PageRights()
    return PageRights(viewer_id=user.id, moderator=can_moderate(user, group), may_write=may_write)
