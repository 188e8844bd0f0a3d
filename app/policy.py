"""THE access rule: who may see what, in three forms that must always agree.

Leaks come from the second or third path to the same data (a list, a count, a search snippet,
a feed, a socket room), so every channel asks this module and nothing else:

* ``can_view(user, obj)``: one object, a pure bool;
* ``visible(query, user, Model)``: the same rule as a WHERE clause, for lists and counts;
* ``scopes_for(user)``: the set of scopes a user holds; every protected row has exactly one
  scope (``scope_of(obj)``), and search documents and socket rooms carry it too.

``can_view(u, o) == (o in visible(..., u)) == (scope_of(o) in scopes_for(u))`` is tested for
every fixture. An object type without a rule here raises: unknown never means allowed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, false, or_, select, true

from app.extensions import db

PUBLIC = "public"
MEMBERS = "members"  # any signed-in, confirmed-or-not, active account


def user_scope(user_id: int) -> str:
    return f"user:{user_id}"


def group_scope(group_id: int) -> str:
    return f"group:{group_id}"


@dataclass(frozen=True)
class Rule:
    scope: Callable[[Any], str]  # the one scope a row lives in
    clause: Callable[[Any, frozenset], Any]  # (Model, scopes) -> SQL boolean


_RULES: dict[type, Rule] = {}


def rule_for(model: type) -> Rule:
    for klass in model.__mro__:
        if klass in _RULES:
            return _RULES[klass]
    raise LookupError(f"No access rule for {model.__name__}: add one to app/policy.py")


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_staff(user) -> bool:
    """Site moderators and admins moderate everything, so they may see everything."""
    return _signed_in(user) and user.is_moderator


def scopes_for(user) -> frozenset:
    """Everything a user may see, as scope strings; staff are handled by ``is_staff``."""
    if not _signed_in(user):
        return frozenset({PUBLIC})
    scopes = {PUBLIC, MEMBERS, user_scope(user.id)}
    scopes.update(group_scope(gid) for gid in _member_group_ids(user))
    return frozenset(scopes)


def _member_group_ids(user) -> set[int]:
    """Groups whose inside the user may read: active memberships only (not pending, not banned).

    Cached for the request on ``g``; services that change membership call ``forget(user)`` so a
    removal takes effect in the same request cycle."""
    from flask import g, has_app_context
    from app.groups.models import Membership

    cache = g.setdefault("_policy_groups", {}) if has_app_context() else {}
    if user.id not in cache:
        cache[user.id] = set(db.session.scalars(
            select(Membership.group_id).where(Membership.user_id == user.id, Membership.state == "member")))
    return cache[user.id]


def forget(user=None) -> None:
    """Drop cached scopes after a membership change."""
    from flask import g, has_app_context
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
    if obj is None:
        return False
    scope = scope_of(obj)
    return is_staff(user) or scope in scopes_for(user)


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


# ---------------------------------------------------------------------------------------------
# Rules, one per protected model. Staff get ``scopes=None``: only existence rules apply.
# ---------------------------------------------------------------------------------------------

def _register_accounts() -> None:
    from app.accounts.models import ProfileField, User

    def field_scope(field: ProfileField) -> str:
        if not field.user.is_active_account:
            return user_scope(field.user_id)
        return {"everyone": PUBLIC, "members": MEMBERS}.get(field.visibility, user_scope(field.user_id))

    def field_clause(model, scopes):
        if scopes is None:
            return true()
        owner_ids = _ids(scopes, "user:")
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
        owner_ids = _ids(scopes, "user:")
        return or_(model.is_active_account.is_(True), model.id.in_(owner_ids))

    _RULES[ProfileField] = Rule(field_scope, field_clause)
    _RULES[User] = Rule(user_rule_scope, user_clause)


def _ids(scopes, prefix: str) -> list[int]:
    return [int(s.split(":", 1)[1]) for s in scopes if s.startswith(prefix)]


def _register_groups() -> None:
    from app.forum.models import Post, Topic
    from app.groups.models import Group

    def group_scope_of(group: Group) -> str:
        # The landing page of open and closed groups is public; a secret group is invisible.
        return group_scope(group.id) if group.kind == "secret" else PUBLIC

    def group_clause(model, scopes):
        if scopes is None:
            return true()
        return or_(model.kind != "secret", model.id.in_(_ids(scopes, "group:")))

    def topic_scope_of(topic: Topic) -> str:
        if topic.deleted_at is not None:
            return "staff"
        return PUBLIC if topic.group_id is None else content_scope(topic.group)

    def topic_clause(model, scopes):
        if scopes is None:
            return true()
        open_groups = select(Group.id).where(Group.kind == "open")
        return and_(model.deleted_at.is_(None), or_(
            model.group_id.is_(None), model.group_id.in_(open_groups), model.group_id.in_(_ids(scopes, "group:"))))

    def post_scope_of(post: Post) -> str:
        return topic_scope_of(post.topic)  # replies resolve through their topic (access_parent)

    def post_clause(model, scopes):
        return model.topic.has(topic_clause(Topic, scopes))

    _RULES[Group] = Rule(group_scope_of, group_clause)
    _RULES[Topic] = Rule(topic_scope_of, topic_clause)
    _RULES[Post] = Rule(post_scope_of, post_clause)


def content_scope(group) -> str:
    """Scope of everything inside a group (forum, member list, chat): public only when open."""
    return PUBLIC if group.kind == "open" else group_scope(group.id)


def can_view_inside(user, group) -> bool:
    """May ``user`` read the group's forum and member list (not just its landing page)?"""
    return is_staff(user) or content_scope(group) in scopes_for(user)


def visible_inside(query, user):
    """``can_view_inside`` as a WHERE clause on a select() over Group: for member lists on
    profiles and anything else that lists groups by what happens inside them."""
    from app.groups.models import Group
    if is_staff(user):
        return query
    return query.where(or_(Group.kind == "open", Group.id.in_(_ids(scopes_for(user), "group:"))))


def can_create_group(user, kind: str) -> bool:
    """Confirmed members start open and closed groups; secret groups (invisible, so unmoderated
    by the community) only site moderators and admins."""
    if not _signed_in(user) or not user.is_active or not user.is_confirmed:
        return False
    return kind != "secret" or is_staff(user)


def can_manage_group(user, group) -> bool:
    """Decisions about the group itself (kind, roles, ownership, archive, delete): its owner and
    site staff, not the group moderators the owner appointed."""
    return is_staff(user) or bool(_signed_in(user) and group is not None and group.owner_id == user.id)


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


def membership_of(user, group):
    """The user's row in the group, remembered for the request (a page asks several rules about
    the same pair); ``forget`` drops it after a membership change."""
    from flask import g, has_app_context
    from app.groups.models import Membership
    if not _signed_in(user):
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


def can_post(user, target) -> bool:
    """Write in a group (members) or a site-wide topic (any active account); archived and locked
    places take no new posts, except from their moderators for locked topics."""
    from app.forum.models import Category, Topic
    from app.groups.models import Group
    if not _signed_in(user) or not user.is_active:
        return False
    if isinstance(target, Category):
        return user.is_confirmed  # site-wide categories take topics from any confirmed account
    if isinstance(target, Topic):
        if not user.is_confirmed or not can_view(user, target):
            return False
        if target.group is not None and target.group.is_archived:
            return False
        if target.locked:
            return can_moderate(user, target.group) if target.group else is_staff(user)
        return True if target.group is None else can_post(user, target.group)
    if isinstance(target, Group):
        if target.is_archived:
            return False
        membership = membership_of(user, target)
        return bool(membership and membership.state == "member")
    raise LookupError(f"can_post has no rule for {type(target).__name__}")


def can_start_topic(user, home) -> bool:
    """A new topic in a category or a group's forum: publishing needs a confirmed address."""
    return _signed_in(user) and user.is_confirmed and can_post(user, home)


def can_edit_post(user, post) -> bool:
    """Moderators of the topic's home edit anything they can see; authors edit their own post
    while they could still reply there (not once the topic is locked or they left the group)."""
    if not _signed_in(user) or not can_view(user, post):
        return False
    if can_moderate(user, post.topic.group):
        return True
    return post.author_id == user.id and post.deleted_at is None and can_post(user, post.topic)


def can_delete_post(user, post) -> bool:
    """Authors may always take their own words down (health details), even in a locked topic."""
    if not _signed_in(user) or not user.is_active or not can_view(user, post):
        return False
    return post.author_id == user.id or can_moderate(user, post.topic.group)


def can_move_topic(user, topic, destination) -> bool:
    """Moving needs moderator rights at both ends (site staff for categories)."""
    from app.groups.models import Group
    target_group = destination if isinstance(destination, Group) else None
    return can_moderate(user, topic.group) and can_moderate(user, target_group)


def can_manage_categories(user) -> bool:
    return _signed_in(user) and user.is_admin


def can_edit_profile(user, owner) -> bool:
    return _signed_in(user) and (user.id == owner.id or user.is_admin)


def _register_directory() -> None:
    """Centres, trials and guidelines are public databases (no rule needed); a proposed centre
    correction is seen by its proposer and site staff only."""
    from app.directory.models import CentreCorrection

    def correction_scope(correction: CentreCorrection) -> str:
        return user_scope(correction.proposer_id)

    def correction_clause(model, scopes):
        if scopes is None:
            return true()
        return model.proposer_id.in_(_ids(scopes, "user:"))

    _RULES[CentreCorrection] = Rule(correction_scope, correction_clause)


def _register_chat() -> None:
    from app.chat.models import ChatMessage
    from app.groups.models import Group

    def chat_scope_of(message: ChatMessage) -> str:
        # A group's live chat is part of its inside, exactly like its forum.
        return content_scope(message.group)

    def chat_clause(model, scopes):
        if scopes is None:
            return true()
        open_groups = select(Group.id).where(Group.kind == "open")
        return or_(model.group_id.in_(open_groups), model.group_id.in_(_ids(scopes, "group:")))

    _RULES[ChatMessage] = Rule(chat_scope_of, chat_clause)


def _register_blog() -> None:
    """Blog posts: public, members-only, a draft (its author only), or inside a group (exactly
    like the group's forum); a deleted post is gone for everyone but staff."""
    from app.blog.models import BlogPost
    from app.groups.models import Group

    def blog_scope_of(post: BlogPost) -> str:
        if post.deleted_at is not None:
            return "staff"
        if post.visibility == "public":
            return PUBLIC
        if post.visibility == "members":
            return MEMBERS
        if post.visibility == "group":
            return content_scope(post.group)
        if post.visibility == "private":
            return user_scope(post.author_id)
        raise LookupError(f"Unknown blog visibility {post.visibility!r}")

    def blog_clause(model, scopes):
        if scopes is None:
            return true()
        open_groups = select(Group.id).where(Group.kind == "open")
        return and_(model.deleted_at.is_(None), or_(
            and_(model.visibility == "public", true() if PUBLIC in scopes else false()),
            and_(model.visibility == "members", true() if MEMBERS in scopes else false()),
            and_(model.visibility == "group", or_(model.group_id.in_(open_groups),
                                                  model.group_id.in_(_ids(scopes, "group:")))),
            and_(model.visibility == "private", model.author_id.in_(_ids(scopes, "user:"))),
        ))

    _RULES[BlogPost] = Rule(blog_scope_of, blog_clause)


def can_write_blog(user, group=None) -> bool:
    """Confirmed, active members keep a blog; in a group's blog only its members write (not in
    an archived group): the same rule as starting a topic in the group's forum."""
    if not _signed_in(user) or not user.is_active or not user.is_confirmed:
        return False
    return group is None or can_post(user, group)


def can_edit_blog_post(user, post) -> bool:
    """The author (while they could still write there), site staff, and the group's moderators
    for posts in a group; never a deleted post."""
    if not _signed_in(user) or not user.is_active or post.deleted_at is not None or not can_view(user, post):
        return False
    if can_moderate(user, post.group):
        return True
    return post.author_id == user.id and can_write_blog(user, post.group)


def can_delete_blog_post(user, post) -> bool:
    """Authors may always take their own words down (health details), even after leaving an
    open group; site staff and the group's moderators too."""
    if not _signed_in(user) or not user.is_active or post.deleted_at is not None or not can_view(user, post):
        return False
    return post.author_id == user.id or can_moderate(user, post.group)


def _register_agenda() -> None:
    from app.agenda.models import Event
    from app.groups.models import Group

    def event_scope_of(event: Event) -> str:
        # A group event lives inside its group exactly like the group's forum.
        if event.visibility == "public" and event.group_id is None:
            return PUBLIC
        if event.visibility == "members" and event.group_id is None:
            return MEMBERS
        if event.visibility == "group" and event.group is not None:
            return content_scope(event.group)
        raise LookupError(f"No access rule for an event with visibility {event.visibility!r}")

    def event_clause(model, scopes):
        if scopes is None:
            return model.visibility.in_(("public", "members", "group"))
        open_groups = select(Group.id).where(Group.kind == "open")
        return or_(
            and_(model.visibility == "public", model.group_id.is_(None)),
            and_(model.visibility == "members", model.group_id.is_(None), true() if MEMBERS in scopes else false()),
            and_(model.visibility == "group", or_(model.group_id.in_(open_groups),
                                                  model.group_id.in_(_ids(scopes, "group:")))),
        )

    _RULES[Event] = Rule(event_scope_of, event_clause)


def can_create_event(user, group=None) -> bool:
    """Confirmed members announce events; inside a group, only people who may post there."""
    if not _signed_in(user) or not user.is_active or not user.is_confirmed:
        return False
    return group is None or (can_view_inside(user, group) and can_post(user, group))


def can_edit_event(user, event) -> bool:
    """The organiser (while they could still post where the event lives), the group's moderators
    and site staff."""
    if not _signed_in(user) or not user.is_active or event is None or not can_view(user, event):
        return False
    if is_staff(user) or (event.group is not None and can_moderate(user, event.group)):
        return True
    return event.created_by == user.id and (event.group is None or can_post(user, event.group))


def can_delete_event(user, event) -> bool:
    """Cancelling and deleting: the organiser may always take their own event down (like a post),
    and the group's moderators and site staff may too."""
    if not _signed_in(user) or not user.is_active or event is None or not can_view(user, event):
        return False
    if is_staff(user) or (event.group is not None and can_moderate(user, event.group)):
        return True
    return event.created_by == user.id


def can_rsvp(user, event) -> bool:
    """Anyone signed in who may see the event answers it, until it is cancelled."""
    return (_signed_in(user) and user.is_active and event is not None and event.cancelled_at is None
            and can_view(user, event))


_register_accounts()
_register_groups()
_register_directory()
_register_chat()
_register_agenda()
_register_blog()
