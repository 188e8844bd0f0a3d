"""Media files: a file is visible wherever something that shows it is visible.

Unlike other rows a file can live in several places at once (one photo in a blog post and as
a cover), so its scope is a *set*: its owner's (the library), the group it is shared to
(exactly like the group's forum), and the scope of every place that uses it (``MediaUse``: a
post, a blog post, an event, a chat message, a profile, a group). A removed post or message
grants nothing; a draft blog post grants only its author. ``can_view`` holds if the viewer
holds any of them; ``media_clause`` is the same as SQL, one EXISTS per kind of place, each
built from that place's own registered rule, so the two can never drift apart.
"""
from __future__ import annotations

from sqlalchemy import and_, exists, false, or_, select, true

from app.accounts.models import User
from app.agenda.models import Event
from app.blog.models import BlogPost
from app.chat.models import ChatMessage
from app.extensions import db
from app.forum.models import Post
from app.groups.models import Group, Membership
from app.media.models import Album, Media, MediaUse
from app.policy.core import (STAFF, active, content_scope, ids, inside_clause, is_staff, register, rule_for, scope_of,
                             signed_in, user_scope)

# MediaUse.parent_type -> the model of the place that shows the file.
PARENTS = {"post": Post, "blogpost": BlogPost, "event": Event, "chat": ChatMessage, "user": User, "group": Group}
_REMOVABLE = (Post, ChatMessage)  # removed ones keep their row (a "[removed]" placeholder)


def media_parent(use: MediaUse):
    return db.session.get(PARENTS[use.parent_type], use.parent_id)


def use_scope(parent) -> str:
    if isinstance(parent, _REMOVABLE) and parent.deleted_at is not None:
        return STAFF
    return scope_of(parent)


def media_scopes(media: Media) -> frozenset:
    scopes = {user_scope(media.owner_id)}
    if media.group is not None:
        scopes.add(content_scope(media.group))
    for use in media.uses:
        parent = media_parent(use)
        if parent is not None:
            scopes.add(use_scope(parent))
    return frozenset(scopes)


def media_clause(model, scopes):
    if scopes is None:
        return true()
    places = [model.owner_id.in_(ids(scopes, "user:")),
              and_(model.group_id.is_not(None), inside_clause(model.group_id, scopes))]
    for kind, parent in PARENTS.items():
        conditions = [MediaUse.media_id == model.id, MediaUse.parent_type == kind, rule_for(parent).clause(parent, scopes)]
        if parent in _REMOVABLE:
            conditions.append(parent.deleted_at.is_(None))
        places.append(exists(select(MediaUse.id).join(parent, parent.id == MediaUse.parent_id).where(*conditions)))
    return or_(*places)


def album_scope(album: Album) -> str:
    return user_scope(album.owner_id)  # an album is a private shelf; its files carry their own rule


def album_clause(model, scopes):
    return true() if scopes is None else model.owner_id.in_(ids(scopes, "user:"))


register(Media, media_scopes, media_clause)
register(Album, album_scope, album_clause)


def can_upload(user) -> bool:
    """Confirmed, active members upload (an unconfirmed address could be anyone's)."""
    return active(user) and user.is_confirmed


def can_manage_media(user, media) -> bool:
    """Edit the description, move between albums, delete: the owner, and site staff (who take
    down what breaks the rules)."""
    return active(user) and media is not None and (media.owner_id == user.id or is_staff(user))


def can_embed(user, media) -> bool:
    """Only your own files go into what you write: embedding someone else's photo would widen
    who sees it. Images need alt text first."""
    return signed_in(user) and media is not None and media.owner_id == user.id and not media.needs_alt


def shareable_groups(query, user):
    """``can_post`` for groups as a WHERE clause on a select() over Group: where ``user`` may
    share a file (active membership, not archived)."""
    if not active(user):
        return query.where(false())
    return query.where(Group.archived_at.is_(None), Group.id.in_(select(Membership.group_id).where(
        Membership.user_id == user.id, Membership.state == "member")))
