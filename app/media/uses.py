"""Which places show which file (``MediaUse``), kept in step with the places themselves.

A session hook (like the search outbox's) runs at every flush: for each place that changed, it
reads the media references out of its stored HTML (``/media/<id>`` written by the renderer)
and its picture columns (cover, avatar, programme), and rewrites that place's rows in the same
transaction. Embeds count only for files the place's author owns: the renderer resolves only
those, and a hand-written link to someone else's file must never widen who may see it. Picture
columns are set by services that already checked ``policy.can_embed``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from flask import url_for
from sqlalchemy import delete, event, insert, inspect, select

from app.accounts.models import User
from app.agenda.models import Event
from app.blog.models import BlogPost
from app.chat.models import ChatMessage
from app.extensions import db
from app.forum.models import Post
from app.groups.models import Group
from app.media.models import Media, MediaUse
from app.policy.media import PARENTS

_REFERENCE = re.compile(r'(?:src|href)="/media/([0-9]{1,10})(?:/thumb/[a-z]+)?"')
_REGISTERED = False


@dataclass(frozen=True)
class Place:
    """How to find media in one kind of place: its Markdown source and rendered HTML, whose
    words they are, which columns hold a picture (column -> role), and how to name and link it
    on a file's page."""
    kind: str
    model: type
    label: Callable
    url: Callable
    source: str | None = None
    html: str | None = None
    owner: str | None = None
    pictures: dict = field(default_factory=dict)


PLACES = {place.model: place for place in (
    Place("post", Post, lambda p: p.topic.title, lambda p: url_for("forum.permalink", post_id=p.id),
          "body", "body_html", "author_id"),
    Place("blogpost", BlogPost, lambda p: p.title, lambda p: url_for("blog.permalink", post_id=p.id),
          "body", "body_html", "author_id", {"cover_id": "cover"}),
    Place("event", Event, lambda e: e.title, lambda e: url_for("agenda.show", event_id=e.id),
          "description", "description_html", "created_by", {"cover_id": "cover", "programme_id": "programme"}),
    Place("chat", ChatMessage, lambda m: m.group.name, lambda m: url_for("chat.live", slug=m.group.slug),
          "body", "body_html", "author_id"),
    Place("user", User, lambda u: u.display_name, lambda u: url_for("accounts.profile", user_id=u.id),
          pictures={"avatar_id": "avatar"}),
    Place("group", Group, lambda g: g.name, lambda g: url_for("groups.show", slug=g.slug),
          pictures={"avatar_id": "avatar"}),
)}
assert {place.kind: place.model for place in PLACES.values()} == PARENTS  # one list of places
BY_KIND = {place.kind: place for place in PLACES.values()}


def register(app) -> None:
    """Attach the hook once per process (create_app runs many times in tests)."""
    global _REGISTERED
    if not _REGISTERED:
        event.listen(db.session, "after_flush", _after_flush)
        _REGISTERED = True


def referenced_ids(html: str | None) -> set[int]:
    return {int(m) for m in _REFERENCE.findall(html or "")}


def _columns(place: Place) -> list[str]:
    return [name for name in (place.html, *place.pictures) if name]


def _after_flush(session, _context) -> None:
    changed, gone = [], []
    for obj in list(session.new) + list(session.dirty):
        place = PLACES.get(type(obj))
        if place is not None and (obj in session.new or _touched(obj, _columns(place))):
            changed.append((place, obj))
    for obj in list(session.deleted):
        place = PLACES.get(type(obj))
        if place is not None:
            gone.append((place.kind, obj.id))
    if not changed and not gone:
        return
    connection = session.connection()
    table = MediaUse.__table__
    for kind, ident in gone:
        connection.execute(delete(table).where(table.c.parent_type == kind, table.c.parent_id == ident))
    for place, obj in changed:
        wanted = _wanted(connection, place, obj)
        connection.execute(delete(table).where(table.c.parent_type == place.kind, table.c.parent_id == obj.id))
        if wanted:
            connection.execute(insert(table), [{"media_id": media_id, "parent_type": place.kind, "parent_id": obj.id,
                                                "role": role} for media_id, role in sorted(wanted)])


def _touched(obj, names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _wanted(connection, place: Place, obj) -> set[tuple[int, str]]:
    wanted: set[tuple[int, str]] = set()
    embedded = referenced_ids(getattr(obj, place.html)) if place.html else set()
    if embedded:
        owner = getattr(obj, place.owner)
        wanted |= {(ident, "embed") for ident in connection.scalars(
            select(Media.id).where(Media.id.in_(embedded), Media.owner_id == owner))}
    pictures = {getattr(obj, column): role for column, role in place.pictures.items() if getattr(obj, column)}
    if pictures:
        existing = set(connection.scalars(select(Media.id).where(Media.id.in_(pictures))))
        wanted |= {(ident, role) for ident, role in pictures.items() if ident in existing}
    return wanted
