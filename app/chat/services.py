"""Verbs of the group chat. The HTML form and the socket handler both call ``post_message``, so
the policy check, the size limit, sanitising, mentions and the broadcast happen once, in this
order: validate, save, commit, *then* announce what was committed (``app/core/events.py``; the
live broadcast in ``app/chat/sockets.py`` subscribes)."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app import policy
from app.accounts.mentions import resolve_mentions
from app.chat.models import ChatMention, ChatMessage, ChatRoom
from app.composer.render import render_for
from app.core import events
from app.core.errors import ServiceError
from app.core.text import UNSTORABLE
from app.extensions import db
from app.forum.services import create_topic
from app.models_base import utcnow
from app.sanitize import SANITIZER_VERSION

PAGE = 50  # messages per history page
CATCH_UP_MAX = 200  # a client further behind than this reloads the page instead


class ChatError(ServiceError):
    """The chat's refusals (a ``ServiceError``); ``code`` is what the socket client receives."""


def max_length() -> int:
    return int(current_app.config.get("CHAT_MESSAGE_MAX", 5000))


def clean_body(value) -> str:
    text = UNSTORABLE.sub("", str(value or "")).replace("\r\n", "\n")
    if not text.strip():
        raise ChatError(_("Please write something."), code="empty")
    if len(text) > max_length():
        raise ChatError(_("Chat messages can be at most %(limit)d characters long. For longer texts, "
                          "start a forum topic.", limit=max_length()), code="too_long")
    return text


def _next_seq(group_id: int) -> int:
    """The counter row is created on first use (a conflict-free insert), then incremented with
    one UPDATE whose row lock holds until commit: numbers are dense and commit in order."""
    dialect = db.engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"]).insert
        db.session.execute(insert(ChatRoom).values(group_id=group_id, last_seq=0)
                           .on_conflict_do_nothing(index_elements=["group_id"]))
    elif db.session.scalar(select(ChatRoom.id).where(ChatRoom.group_id == group_id)) is None:
        db.session.add(ChatRoom(group_id=group_id, last_seq=0))
        db.session.flush()
    return db.session.execute(update(ChatRoom).where(ChatRoom.group_id == group_id)
                              .values(last_seq=ChatRoom.last_seq + 1).returning(ChatRoom.last_seq)).scalar_one()


def post_message(group, author, *, body) -> ChatMessage:
    if not policy.can_post(author, group):
        if group.is_archived and policy.can_view_inside(author, group):
            raise ChatError(_("This group is archived: it takes no new messages."), status=403, code="denied")
        raise ChatError(_("Only members of this group can write in its live discussion. Join the group first."),
                        status=403, code="denied")
    body = clean_body(body)
    try:
        html = str(render_for(author.id, body))
    except ServiceError as error:  # an image nobody described yet
        raise ChatError(error.message) from None
    seq = _next_seq(group.id)
    message = ChatMessage(group_id=group.id, seq=seq, author_id=author.id, body=body,
                          body_html=html, html_version=SANITIZER_VERSION, created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    mentioned = _mentions(message, group, author)
    db.session.commit()
    events.chat_message_posted.send(message, mentioned=mentioned)
    return message


def _mentions(message: ChatMessage, group, author) -> list:
    """A mention never grants access: only people who can read the group's inside are told."""
    people = [u for u in resolve_mentions(message.body)
              if u.id != author.id and policy.can_view_inside(u, group)]
    for person in people:
        db.session.add(ChatMention(user_id=person.id, message_id=message.id))
    return people


def remove_message(message: ChatMessage, actor) -> None:
    if not policy.can_remove_chat_message(actor, message):
        raise ChatError(_("You cannot remove this message."), status=403, code="denied")
    if message.deleted_at is None:
        message.deleted_at, message.deleted_by_id = utcnow(), actor.id
        db.session.commit()
        events.chat_message_changed.send(message)


def message_to_topic(message: ChatMessage, actor, *, title: str):
    """A moderator carries a chat message over to the forum, where it gets a title, replies and
    search. The topic quotes the message with its author and links back; the actor is its author."""
    group = message.group
    if not policy.can_moderate(actor, group):
        raise ChatError(_("Only moderators can turn a message into a topic."), status=403, code="denied")
    if message.is_removed:
        raise ChatError(_("This message was removed."), status=400, code="removed")
    quoted = "\n".join("> " + line for line in message.body.split("\n"))
    body = _("%(quote)s\n\n— @[%(name)s] in the live discussion of %(group)s, %(when)s",
             quote=quoted, name=message.author.display_name, group=group.name,
             when=message.created_at.strftime("%d %b %Y %H:%M UTC"))
    topic = create_topic(actor, title=title, body=body, group=group)
    message.topic_id = topic.id
    db.session.commit()
    events.chat_message_changed.send(message)
    return topic


def history(group, *, before: int | None = None, limit: int = PAGE) -> tuple[list[ChatMessage], bool]:
    """One page ending just before ``before`` (the newest page without it), oldest first,
    and whether older messages exist."""
    query = select(ChatMessage).where(ChatMessage.group_id == group.id)
    if before is not None:
        query = query.where(ChatMessage.seq < before)
    rows = db.session.scalars(query.options(joinedload(ChatMessage.author))
                              .order_by(ChatMessage.seq.desc()).limit(limit + 1)).all()
    return list(reversed(rows[:limit])), len(rows) > limit


def missed(group, after: int, since=None) -> tuple[list[ChatMessage], list[ChatMessage], bool]:
    """For a reconnecting client: messages after ``after`` in order, and older ones removed
    since ``since``; the flag says "too far behind, reload the page"."""
    rows = db.session.scalars(select(ChatMessage).where(ChatMessage.group_id == group.id, ChatMessage.seq > after)
                              .options(joinedload(ChatMessage.author))
                              .order_by(ChatMessage.seq).limit(CATCH_UP_MAX + 1)).all()
    changed = []
    if since is not None and after > 0:
        changed = db.session.scalars(select(ChatMessage).where(
            ChatMessage.group_id == group.id, ChatMessage.seq <= after, ChatMessage.deleted_at >= since)
            .order_by(ChatMessage.seq).limit(CATCH_UP_MAX)).all()
    return rows[:CATCH_UP_MAX], changed, len(rows) > CATCH_UP_MAX


def unread_mentions(user, group, limit: int = 10) -> list[ChatMention]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return db.session.scalars(select(ChatMention).join(ChatMessage).where(
        ChatMention.user_id == user.id, ChatMention.read_at.is_(None), ChatMessage.group_id == group.id,
        ChatMessage.deleted_at.is_(None)).options(joinedload(ChatMention.message).joinedload(ChatMessage.author))
        .order_by(ChatMention.id.desc()).limit(limit)).all()


def mark_mentions_read(user, group) -> int:
    ids = select(ChatMessage.id).where(ChatMessage.group_id == group.id)
    result = db.session.execute(update(ChatMention).where(
        ChatMention.user_id == user.id, ChatMention.read_at.is_(None), ChatMention.message_id.in_(ids))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0
