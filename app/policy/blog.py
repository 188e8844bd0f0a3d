"""Blog posts: public, members-only, a draft (its author only), or inside a group (exactly like
the group's forum); a deleted post is gone for everyone but staff."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, true

from app.blog.models import BlogPost
from app.policy.core import (MEMBERS, PUBLIC, STAFF, active, can_moderate, can_view, content_scope, ids, inside_clause,
                             register, signed_in, user_scope)
from app.policy.forum import can_post


def blog_scope_of(post: BlogPost) -> str:
    if post.deleted_at is not None:
        return STAFF
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
    return and_(model.deleted_at.is_(None), or_(
        and_(model.visibility == "public", true() if PUBLIC in scopes else false()),
        and_(model.visibility == "members", true() if MEMBERS in scopes else false()),
        and_(model.visibility == "group", inside_clause(model.group_id, scopes)),
        and_(model.visibility == "private", model.author_id.in_(ids(scopes, "user:"))),
    ))


register(BlogPost, blog_scope_of, blog_clause)


def can_write_blog(user, group=None) -> bool:
    """Confirmed, active members keep a blog; in a group's blog only its members write (not in
    an archived group): the same rule as starting a topic in the group's forum."""
    if not active(user) or not user.is_confirmed:
        return False
    return group is None or can_post(user, group)


def can_edit_blog_post(user, post) -> bool:
    """The author (while they could still write there), site staff, and the group's moderators
    for posts in a group; never a deleted post."""
    if not active(user) or post.deleted_at is not None or not can_view(user, post):
        return False
    if can_moderate(user, post.group):
        return True
    return post.author_id == user.id and can_write_blog(user, post.group)


def can_delete_blog_post(user, post) -> bool:
    """Authors may always take their own words down (health details), even after leaving an
    open group; site staff and the group's moderators too."""
    if not active(user) or post.deleted_at is not None or not can_view(user, post):
        return False
    return post.author_id == user.id or can_moderate(user, post.group)


def can_choose_blog_audience(user, post) -> bool:
    """Who reads a post (draft, members, everyone, the group) is its author's choice alone: a
    moderator may edit the words, never publish someone's draft."""
    return signed_in(user) and post.author_id == user.id
