"""A group's live chat is part of its inside, exactly like its forum."""
from __future__ import annotations

from sqlalchemy import true

from app.chat.models import ChatMessage
from app.policy.core import can_moderate, can_view, content_scope, inside_clause, register, signed_in


def chat_scope_of(message: ChatMessage) -> str:
    # A group's live chat is part of its inside, exactly like its forum.
    return content_scope(message.group)


def chat_clause(model, scopes):
    if scopes is None:
        return true()
    return inside_clause(model.group_id, scopes)


register(ChatMessage, chat_scope_of, chat_clause)


def can_remove_chat_message(user, message) -> bool:
    """Authors may always take their own words down (health details); the group's moderators too."""
    if not signed_in(user) or not can_view(user, message):
        return False
    return message.author_id == user.id or can_moderate(user, message.group)
