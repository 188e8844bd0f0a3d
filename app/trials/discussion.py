"""One forum thread per trial or guideline, opened on demand by the first member who asks.

The thread lives in a site-wide forum category (created when missing) and is written through the
forum's own services, so sanitising, indexing and notifications happen there, once. The link on
the database row is set with a conditional UPDATE: when two members click at the same moment, one
topic wins and the other is withdrawn, so a trial never has two threads.
"""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select, update
from werkzeug.routing import BuildError

from app.core.errors import ServiceError
from app.extensions import db
from app.forum import services
from app.forum.models import Category
from app.models_base import utcnow


class DiscussionUnavailable(RuntimeError):
    """The forum refused this member (the message says why)."""


def live_topic(obj):
    """The object's thread, unless it was removed (then a new one may be opened)."""
    topic = getattr(obj, "topic", None)
    return topic if topic is not None and topic.deleted_at is None else None


def open_discussion(obj, user, *, category_slug: str, category_name: str, category_description: str,
                    title: str, body: str):
    """Return the object's live topic, creating it (and the category) if needed."""
    topic = live_topic(obj)
    if topic is not None:
        return topic
    category = db.session.scalar(select(Category).where(Category.slug == category_slug))
    if category is None:
        category = services.create_category(name=category_name, description=category_description, position=50)
        if category.slug != category_slug:
            category.slug = category_slug
            db.session.commit()
    try:
        topic = services.create_topic(user, title=title[:200], body=body, category=category)
    except ServiceError as exc:  # e.g. an unconfirmed account: the forum's rule, its words
        db.session.rollback()
        raise DiscussionUnavailable(exc.message) from None
    model = type(obj)
    stale = obj.topic_id
    won = db.session.execute(update(model).where(model.id == obj.id, (model.topic_id.is_(None)) if stale is None
                                                 else (model.topic_id == stale)).values(topic_id=topic.id))
    if won.rowcount == 0:  # someone else opened it a moment ago: keep theirs
        topic.deleted_at = utcnow()
        db.session.commit()
        db.session.refresh(obj)
        return live_topic(obj) or topic
    db.session.commit()
    db.session.refresh(obj)
    return topic


def link_text(text: str) -> str:
    """Text safe to put inside a Markdown link label (a title with "]" must not end the label)."""
    return "".join("\\" + ch if ch in "\\[]()*_`" else ch for ch in text)


def topic_url(topic, fallback: str) -> str:
    """The forum's page for a topic; the forum names its endpoints, we only try the likely ones."""
    for endpoint, args in (("forum.topic", {"topic_id": topic.id}), ("forum.show_topic", {"topic_id": topic.id}),
                           ("forum.view_topic", {"topic_id": topic.id}), ("forum.topic", {"id": topic.id})):
        try:
            return url_for(endpoint, **args)
        except BuildError:
            continue
    return fallback
