"""Who the composer suggests after ``@``. A suggestion list is a member list in disguise: offered
inside a closed group it would tell an outsider who belongs there, which can reveal a diagnosis.
So the place the text will be read decides the list, and the policy decides whether the writer
may see that place at all (404 otherwise, like the place itself):

* inside a group (its forum, a topic of it, its chat, blog or events): the group's active
  members, once ``policy`` agrees the writer may read inside the group;
* anywhere else: any active account whose profile the writer may see.

Mentions themselves grant nothing (the notifier checks the policy again); this only keeps the
list from leaking."""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import case, or_, select

from app import policy
from app.accounts.models import User
from app.agenda.models import Event
from app.blog.models import BlogPost
from app.extensions import db
from app.forum.models import Post, Topic
from app.groups.models import Membership

LIMIT = 8
PREFIX_MAX = 80
# "<kind>:<id>": an existing piece of writing whose home (maybe a group) decides the audience.
_OBJECTS = {"topic": Topic, "post": Post, "blog": BlogPost, "event": Event}


def _like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (``%`` and ``_`` typed by a person match
    themselves, not everything)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _home_group(obj):
    if isinstance(obj, Post):
        return obj.topic.group
    return obj.group


def group_of_place(place: str):
    """The group the text at ``place`` will be read in, or None for site-wide places. Aborts
    with 404 when the writer may not see the place (or, for a group, read inside it)."""
    kind, *rest = place.split(":")
    if kind in ("group", "chat") and rest:
        return policy.group_or_404(rest[0])
    if len(rest) >= 2 and rest[-2] == "group":  # "topic:new:group:<slug>", "blog:new:group:<slug>"
        return policy.group_or_404(rest[-1])
    model = _OBJECTS.get(kind)
    if model is not None and rest and rest[0].isdigit() and len(rest[0]) <= 10:
        group = _home_group(policy.get_visible_or_404(model, int(rest[0])))
        if group is not None and not policy.can_view_inside(current_user, group):
            abort(404)  # an item seen without the group's inside (a public post): its members stay hidden
        return group
    return None


def suggestions(writer, prefix: str, group=None) -> list[User]:
    """Up to ``LIMIT`` active accounts whose name (or a word of it) starts with ``prefix``,
    whole-name matches first; the writer is left out (nobody mentions themselves)."""
    prefix = (prefix or "").strip()[:PREFIX_MAX]
    if not prefix:
        return []
    pattern = _like(prefix)
    starts = User.display_name.ilike(pattern + "%", escape="\\")
    query = policy.visible(select(User), writer, User).where(
        User.is_active_account.is_(True), User.id != writer.id,
        or_(starts, User.display_name.ilike("% " + pattern + "%", escape="\\")))
    if group is not None:
        query = query.where(User.id.in_(select(Membership.user_id).where(
            Membership.group_id == group.id, Membership.state == "member")))
    query = query.order_by(case((starts, 0), else_=1), User.display_name, User.id).limit(LIMIT)
    return list(db.session.scalars(query))
