"""Socket events of the group chat, and its live broadcasts (subscribers to the chat's events).

The client names a group by id only; the room is derived here. Reading needs
``policy.can_view_inside`` and a signed-in account (visitors read an open group's chat history
over HTTP, without live updates)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from app import policy, realtime
from app.chat import services
from app.chat.models import ChatMessage
from app.composer.confirm import confirm_payload, warnings_to_confirm
from app.core import events
from app.core.clock import iso, utcnow
from app.extensions import db, socketio
from app.groups.models import Group
from app.media.embeds import avatar_of
from app.realtime import int_arg, parse_since


def message_payload(message: ChatMessage) -> dict:
    """Saved, sanitised HTML only; the author's name travels as text for ``textContent``."""
    removed = message.is_removed
    return {
        "group": message.group_id, "id": message.id, "seq": message.seq,
        "author": {"id": message.author_id, "name": message.author.display_name,
                   "url": url_for("accounts.profile", user_id=message.author_id), **avatar_of(message.author)},
        "body_html": None if removed else message.body_html,
        "removed": removed, "created_at": iso(message.created_at),
        "topic_url": url_for("forum.topic", topic_id=message.topic_id) if message.topic_id and not removed else None,
    }


def _group(data):
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
            "now": iso(utcnow()), "can_post": policy.can_post(realtime.viewer(), group)}


@socketio.on("leave_chat")
def leave_chat(data=None):
    group = _group(data)
    if group is not None:
        realtime.leave(group)
    return {"ok": True}


@socketio.on("chat")
def chat(data=None):
    """Same service as the HTML form; nothing is stored when a limit says no, nor before the writer
    confirms the posting assistant's warnings."""
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
    if refusal := _unconfirmed_warnings(body, data, policy.can_post(user, group)):
        return refusal
    try:
        message = services.post_message(group, user, body=body)
    except services.ChatError as error:
        db.session.rollback()
        return realtime.refuse(error.code, error.message)
    return {"ok": True, "id": message.id, "seq": message.seq}


def _unconfirmed_warnings(body: str, data: dict, allowed: bool) -> dict | None:
    """The posting assistant's "look first" as a refusal (code "confirm", with the warnings), unless
    the client resent with ``confirm: true``; only for someone allowed to post (others get the
    service's reason)."""
    warnings = warnings_to_confirm(body, data.get("confirm")) if allowed else []
    if not warnings:
        return None
    answer = confirm_payload(warnings)
    return realtime.refuse("confirm", answer["message"], warnings=answer["warnings"],
                           guidelines_url=answer["guidelines_url"])


@socketio.on("chat_typing")
def chat_typing(data=None):
    group = _group(data)
    if group is not None:
        realtime.typing(group, lambda: policy.can_post(realtime.viewer(), group), {"group": group.id})


@events.chat_message_posted.connect
def announce_message(message: ChatMessage, mentioned=(), **_kw) -> None:
    with realtime.url_context():
        realtime.emit_to(message.group, "chat_message", message_payload(message))
        for person in mentioned:
            realtime.emit_to(person, "mention", {
                "by": message.author.display_name, "where": message.group.name,
                "url": url_for("chat.live", slug=message.group.slug, _anchor=f"m{message.seq}")})


@events.chat_message_changed.connect
def announce_update(message: ChatMessage, **_kw) -> None:
    with realtime.url_context():
        realtime.emit_to(message.group, "chat_updated", message_payload(message))
