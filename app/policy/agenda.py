"""Events: public, signed-in members only, or inside a group (exactly like its forum)."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, true

from app.agenda.models import Event
from app.policy.core import (MEMBERS, PUBLIC, active, can_moderate, can_view, can_view_inside, content_scope,
                             inside_clause, is_staff, register)
from app.policy.forum import can_post


def event_scope_of(event: Event) -> str:
    # A group event lives inside its group exactly like the group's forum.
    if event.visibility == "public" and event.group_id is None:
        return PUBLIC
    if event.visibility == "members" and event.group_id is None:
        return MEMBERS
    if event.visibility == "group" and event.group is not None:
        return content_scope(event.group)
    raise LookupError(f"No access rule for an event with visibility {event.visibility!r}")


def event_clause(model, scopes):
    if scopes is None:
        return model.visibility.in_(("public", "members", "group"))
    return or_(
        and_(model.visibility == "public", model.group_id.is_(None)),
        and_(model.visibility == "members", model.group_id.is_(None), true() if MEMBERS in scopes else false()),
        and_(model.visibility == "group", inside_clause(model.group_id, scopes)),
    )


register(Event, event_scope_of, event_clause)


def can_create_event(user, group=None) -> bool:
    """Confirmed members announce events; inside a group, only people who may post there."""
    if not active(user) or not user.is_confirmed:
        return False
    return group is None or (can_view_inside(user, group) and can_post(user, group))


def can_edit_event(user, event) -> bool:
    """The organiser (while they could still post where the event lives), the group's moderators
    and site staff."""
    if not active(user) or event is None or not can_view(user, event):
        return False
    if is_staff(user) or (event.group is not None and can_moderate(user, event.group)):
        return True
    return event.created_by == user.id and (event.group is None or can_post(user, event.group))


def can_delete_event(user, event) -> bool:
    """Cancelling and deleting: the organiser may always take their own event down (like a post),
    and the group's moderators and site staff may too."""
    if not active(user) or event is None or not can_view(user, event):
        return False
    if is_staff(user) or (event.group is not None and can_moderate(user, event.group)):
        return True
    return event.created_by == user.id


def can_rsvp(user, event) -> bool:
    """Anyone signed in who may see the event answers it, until it is cancelled."""
    return (active(user) and event is not None and event.cancelled_at is None
            and can_view(user, event))
