"""The forum: site-wide topics are public; a group's topics live inside the group; replies
resolve through their topic; a removed topic is for staff only. Who may post, edit, remove, move."""
from __future__ import annotations

from sqlalchemy import and_, or_, true

from app.forum.models import Category, Post, Topic
from app.groups.models import Group
from app.policy.core import (PUBLIC, STAFF, active, can_moderate, can_view, content_scope, inside_clause, is_staff,
                             membership_of, register, signed_in)


def topic_scope_of(topic: Topic) -> str:
    if topic.deleted_at is not None:
        return STAFF
    return PUBLIC if topic.group_id is None else content_scope(topic.group)


def topic_clause(model, scopes):
    if scopes is None:
        return true()
    return and_(model.deleted_at.is_(None), or_(model.group_id.is_(None), inside_clause(model.group_id, scopes)))


def post_scope_of(post: Post) -> str:
    return topic_scope_of(post.topic)  # replies resolve through their topic (access_parent)


def post_clause(model, scopes):
    return model.topic.has(topic_clause(Topic, scopes))


register(Topic, topic_scope_of, topic_clause)
register(Post, post_scope_of, post_clause)


def can_post(user, target) -> bool:
    """Write in a group (members) or a site-wide topic (any active account); archived and locked
    places take no new posts, except from their moderators for locked topics."""
    if not active(user):
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
    return signed_in(user) and user.is_confirmed and can_post(user, home)


def can_edit_post(user, post) -> bool:
    """Moderators of the topic's home edit anything they can see; authors edit their own post
    while they could still reply there (not once the topic is locked or they left the group)."""
    if not signed_in(user) or not can_view(user, post):
        return False
    if can_moderate(user, post.topic.group):
        return True
    return post.author_id == user.id and post.deleted_at is None and can_post(user, post.topic)


def can_delete_post(user, post) -> bool:
    """Authors may always take their own words down (health details), even in a locked topic."""
    if not active(user) or not can_view(user, post):
        return False
    return post.author_id == user.id or can_moderate(user, post.topic.group)


def can_move_topic(user, topic, destination) -> bool:
    """Moving needs moderator rights at both ends (site staff for categories)."""
    target_group = destination if isinstance(destination, Group) else None
    return can_moderate(user, topic.group) and can_moderate(user, target_group)


def can_manage_categories(user) -> bool:
    return signed_in(user) and user.is_admin
