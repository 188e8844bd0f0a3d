"""Socket events of the group chat, and the broadcasts the chat services make after a commit.

The client names a group by id only; the room is derived here. Reading needs
``policy.can_view_inside`` and a signed-in account (visitors read an open group's chat history
over HTTP, without live updates)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import url_for
from flask_babel import gettext as _

from app import policy, realtime, realtime_presence
from app.chat import services
from app.chat.models import ChatMessage
from app.extensions import db, socketio

CLOCK_SLACK = timedelta(seconds=5)  # a change committed just after "now" was read is replayed, not lost


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def parse_since(value) -> datetime | None:
    """The ``now`` we gave the client at its last join, echoed back (minus a little slack)."""
    try:
        return datetime.fromisoformat(str(value).rstrip("Z")) - CLOCK_SLACK
    except (TypeError, ValueError):
        return None


def int_arg(data, key: str, default: int | None = None) -> int | None:
    try:
        value = int((data or {}).get(key))
    except (TypeError, ValueError, AttributeError):
        return default
    return value if 0 <= value < 2**31 else default


def message_payload(message: ChatMessage) -> dict:
    """Saved, sanitised HTML only; the author's name travels as text for ``textContent``."""
    removed = message.is_removed
    return {
        "group": message.group_id, "id": message.id, "seq": message.seq,
        "author": {"id": message.author_id, "name": message.author.display_name,
                   "url": url_for("accounts.profile", user_id=message.author_id)},
        "body_html": None if removed else message.body_html,
        "removed": removed, "created_at": iso(message.created_at),
        "topic_url": url_for("forum.topic", topic_id=message.topic_id) if message.topic_id and not removed else None,
    }


def _group(data):
    from app.groups.models import Group
    group_id = int_arg(data, "group")
    return db.session.get(Group, group_id) if group_id is not None else None


def _may_read(group) -> bool:
    user = realtime.viewer()
    return user is not None and policy.can_view(user, group) and policy.can_view_inside(user, group)


@socketio.on("join_chat")
def join_chat(data=None):
    if not realtime.allowed_rate("join"):
        return realtime.refuse("rate_limited", _("Too many requests. Please wait a few seconds."))
    group = _group(data)
    if realtime.viewer() is None:
        return realtime.refuse("login", _("Log in to follow the live discussion."))
    if group is None or not realtime.join(group, lambda: _may_read(group), {"group": group.id}):
        return realtime.refuse("not_found", _("This discussion is not available."))
    after = int_arg(data, "after", 0)
    rows, changed, truncated = services.missed(group, after, parse_since(data.get("since")))
    return {"ok": True, "messages": [message_payload(m) for m in rows],
            "changed": [message_payload(m) for m in changed], "truncated": truncated,
            "now": iso(_now()), "can_post": policy.can_post(realtime.viewer(), group)}


@socketio.on("leave_chat")
def leave_chat(data=None):
    group = _group(data)
    if group is not None:
        realtime.leave(group)
    return {"ok": True}


@socketio.on("chat")
def chat(data=None):
    """Same service as the HTML form; nothing is stored when a limit says no."""
    user = realtime.viewer()
    if user is None:
        return realtime.refuse("login", _("Please log in to write."))
    body = (data or {}).get("body") if isinstance(data, dict) else None
    if not isinstance(body, str):
        return realtime.refuse("invalid", _("Please write something."))
    if len(body) > services.max_length():
        return realtime.refuse("too_long", _("Chat messages can be at most %(limit)d characters long. For longer "
                                             "texts, start a forum topic.", limit=services.max_length()))
    group = _group(data)
    if group is None or not _may_read(group):
        return realtime.refuse("not_found", _("This discussion is not available."))
    if not realtime.allowed_rate("message", user.id):
        return realtime.refuse("rate_limited", _("You are sending messages too quickly. Please wait a few seconds "
                                                 "and try again; this message was not sent."))
    try:
        message = services.post_message(group, user, body=body)
    except services.ChatError as error:
        db.session.rollback()
        return realtime.refuse(error.code, error.message)
    return {"ok": True, "id": message.id, "seq": message.seq}


@socketio.on("chat_typing")
def chat_typing(data=None):
    group = _group(data)
    if group is not None:
        realtime_presence.typing(group, lambda: policy.can_post(realtime.viewer(), group), {"group": group.id})


def announce_message(message: ChatMessage, mentioned=()) -> None:
    with realtime.url_context():
        realtime.emit_to(message.group, "chat_message", message_payload(message))
        for person in mentioned:
            realtime.emit_to(person, "mention", {
                "by": message.author.display_name, "where": message.group.name,
                "url": services.live_url(message.group, message.seq)})


def announce_update(message: ChatMessage) -> None:
    with realtime.url_context():
        realtime.emit_to(message.group, "chat_updated", message_payload(message))


def _now() -> datetime:
    from app.models_base import utcnow
    return utcnow()
