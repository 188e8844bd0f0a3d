"""Socket events of forum topics, and their live broadcasts (subscribers to the forum's events).

Visitors may follow public topics (read-only); group topics follow ``policy.can_view``. A reply
sent over the socket goes through ``services.create_reply``, exactly like the HTML form."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app import policy, realtime
from app.composer.confirm import confirm_payload, warnings_to_confirm
from app.core import events
from app.core.clock import iso, utcnow
from app.core.errors import ServiceError
from app.core.text import BODY_MAX
from app.extensions import db, socketio
from app.forum import services
from app.forum.models import Post, Topic
from app.forum.queries import badges_for
from app.media.embeds import avatar_of
from app.realtime import int_arg, parse_since

CATCH_UP_MAX = 200


def post_payload(post: Post, badge: dict | None = None) -> dict:
    """What every reader of the room may see: saved, sanitised HTML; the badge as a visitor
    would see it (profile fields each have their own audience, and a broadcast has one payload)."""
    removed = post.is_removed
    return {
        "topic": post.topic_id, "id": post.id, "number": post.number,
        "author": {"id": post.author_id, "name": post.author.display_name,
                   "url": url_for("accounts.profile", user_id=post.author_id), **avatar_of(post.author),
                   **(badge or {})},
        "body_html": None if removed else post.body_html,
        "removed": removed, "removed_by_author": removed and post.removed_by_author,
        "created_at": iso(post.created_at), "edited": bool(post.edited_at) and not removed,
        "quote_of": post.quote_of_id, "url": url_for("forum.permalink", post_id=post.id),
    }


def _payloads(posts) -> list[dict]:
    badges = badges_for({p.author for p in posts}, None) if posts else {}
    return [post_payload(p, badges.get(p.author_id)) for p in posts]


def _topic(data) -> Topic | None:
    topic_id = int_arg(data, "topic")
    return db.session.get(Topic, topic_id) if topic_id is not None else None


@socketio.on("join_topic")
def join_topic(data=None):
    if not realtime.allowed_rate("join"):
        return realtime.refuse("rate_limited", _("Too many requests. Please wait a few seconds."))
    topic = _topic(data)
    if topic is None or not realtime.join(topic, lambda: policy.can_view(realtime.viewer(), topic), {"topic": topic.id}):
        return realtime.refuse("not_found", _("This topic is not available."))
    after = int_arg(data, "after", 0)
    since = parse_since((data or {}).get("since"))
    rows = db.session.scalars(select(Post).where(Post.topic_id == topic.id, Post.number > after)
                              .options(joinedload(Post.author)).order_by(Post.number).limit(CATCH_UP_MAX + 1)).all()
    changed = []
    if since is not None and after > 0:
        changed = db.session.scalars(select(Post).where(
            Post.topic_id == topic.id, Post.number <= after,
            or_(Post.edited_at >= since, Post.deleted_at >= since)).options(joinedload(Post.author))
            .order_by(Post.number).limit(CATCH_UP_MAX)).all()
    user = realtime.viewer()
    return {"ok": True, "posts": _payloads(rows[:CATCH_UP_MAX]), "changed": _payloads(changed),
            "truncated": len(rows) > CATCH_UP_MAX, "now": iso(utcnow()),
            "can_reply": bool(user) and policy.can_post(user, topic)}


@socketio.on("leave_topic")
def leave_topic(data=None):
    topic = _topic(data)
    if topic is not None:
        realtime.leave(topic)
    return {"ok": True}


@socketio.on("reply")
def reply(data=None):
    user = realtime.viewer()
    if user is None:
        return realtime.refuse("login", _("Please log in to reply."))
    body = data.get("body") if isinstance(data, dict) else None
    if not isinstance(body, str):
        return realtime.refuse("invalid", _("Please write something."))
    if len(body) > BODY_MAX:
        return realtime.refuse("too_long", _("Posts can be at most %(limit)d characters long.", limit=BODY_MAX))
    topic = _topic(data)
    if topic is None or not policy.can_view(user, topic):
        return realtime.refuse("not_found", _("This topic is not available."))
    if not realtime.allowed_rate("message", user.id):
        return realtime.refuse("rate_limited", _("You are sending messages too quickly. Please wait a few seconds "
                                                 "and try again; this reply was not posted."))
    # The posting assistant: warnings first, unless the client resent with confirm: true.
    warnings = warnings_to_confirm(body, data.get("confirm")) if policy.can_post(user, topic) else []
    if warnings:
        answer = confirm_payload(warnings)
        return realtime.refuse("confirm", answer["message"], warnings=answer["warnings"],
                               guidelines_url=answer["guidelines_url"])
    try:
        post = services.create_reply(topic, user, body=body, quote_of=data.get("quote_of") or None)
    except ServiceError as error:
        db.session.rollback()
        return realtime.refuse("denied" if error.status == 403 else "invalid", error.message)
    return {"ok": True, "id": post.id, "number": post.number, "url": url_for("forum.permalink", post_id=post.id)}


@socketio.on("topic_typing")
def topic_typing(data=None):
    topic = _topic(data)
    if topic is not None:
        realtime.typing(topic, lambda: policy.can_post(realtime.viewer(), topic), {"topic": topic.id})


# --- live broadcasts: subscribers to the forum's domain events ----------------------------------------

@events.post_created.connect
def announce_post(post: Post, **_kw) -> None:
    with realtime.url_context():
        realtime.emit_to(post.topic, "post", _payloads([post])[0])


@events.post_edited.connect
def announce_edit(post: Post, **_kw) -> None:
    with realtime.url_context():
        realtime.emit_to(post.topic, "post_edited", _payloads([post])[0])


@events.post_removed.connect
def announce_removal(post: Post, **_kw) -> None:
    with realtime.url_context():
        realtime.emit_to(post.topic, "post_removed", _payloads([post])[0])
