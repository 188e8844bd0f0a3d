"""Changes of access, applied to live sockets in every process.

Every change of access (leaving, removal, a ban, logout, a password change, a group turning
closed, a topic deleted or moved, a group deleted) reaches this module as a domain event
(``app/core/events.py``) and becomes a *control message* that makes the affected sockets leave
or disconnect. Control messages travel through the same channel as broadcasts: with a Redis
queue they are published on the same pub/sub channel, so every process applies an eviction
*before* any message sent after it, and a "marker sent after removal" can never overtake it.
Who keeps access is the policy's answer (``policy.can_view_inside``, ``policy.readers_inside``).
"""
from __future__ import annotations

import logging

from flask import url_for
from flask_babel import gettext as _

from app import policy
from app.core import events
from app.realtime.connections import leave_matching
from app.realtime.hub import (NAMESPACE, Conn, group_prefix, in_room, registry, room_name, server, token_hash,
                              topic_room, url_context)
from app.realtime.queue import CONTROL_EVENT, CONTROL_ROOM

log = logging.getLogger(__name__)


def _control(payload: dict) -> None:
    srv = server()
    if srv is None:
        return
    try:
        if getattr(srv.manager, "carries_control", False):
            srv.manager.emit(CONTROL_EVENT, payload, namespace=NAMESPACE, room=CONTROL_ROOM)
        else:
            apply_control(srv, payload)
    except Exception:  # pragma: no cover - queue outage: the next event re-checks the session anyway
        log.exception("live access change %s failed", payload.get("kind"))


def apply_control(srv, msg: dict) -> None:
    """Runs in every process (the pub/sub listener thread, or inline without a queue)."""
    conns, kind = registry(srv), msg.get("kind")
    gone = "You no longer have access to this discussion."
    if kind == "evict":
        prefix = group_prefix(msg["group"])
        for conn in conns.select(lambda c: c.user_id == msg["user"]):
            leave_matching(srv, conn, lambda r: r.startswith(prefix), notify=True, reason=gone)
    elif kind == "outsiders":
        prefix, allowed = group_prefix(msg["group"]), set(msg["allowed"])
        for conn in conns.select(lambda c: not c.staff and c.user_id not in allowed):
            leave_matching(srv, conn, lambda r: r.startswith(prefix), notify=True, reason=gone)
    elif kind == "close":
        prefixes = msg["rooms"]
        for conn in conns.select(lambda c: True):
            leave_matching(srv, conn, lambda r: any(in_room(r, p) or r.startswith(p + ":") for p in prefixes),
                           notify=True, reason=msg.get("reason") or gone)
    elif kind == "sessions":
        def ends(c: Conn) -> bool:
            if c.user_id != msg["user"]:
                return False
            return (msg["only"] is None or c.token == msg["only"]) and (msg["keep"] is None or c.token != msg["keep"])
        for conn in conns.select(ends):
            _disconnect(srv, conn.sid)


def _disconnect(srv, sid: str) -> None:
    if srv.manager.is_connected(sid, NAMESPACE):
        srv.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
    else:  # still inside its connect handler: finish it off once connected
        def later():
            srv.sleep(0.5)
            srv.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
        srv.start_background_task(later)


def close(room: str, event: str, payload: dict, reason: str = "") -> None:
    """Tell a room it is gone (topic deleted or moved) and empty it in every process."""
    srv = server()
    if srv is not None:
        try:
            srv.emit(event, payload, to=room, namespace=NAMESPACE)
        except Exception:  # pragma: no cover
            log.exception("live broadcast of %s failed", event)
    _control({"kind": "close", "rooms": [room], "reason": reason})


# --- subscribers to domain events --------------------------------------------------------------------

@events.membership_changed.connect
def evict(group, user=None, state=None, **_kw) -> None:
    """After a membership change is committed: if the person may no longer read inside the group,
    their sockets leave every room of it (leaving an open group changes nothing)."""
    if user is None or state == "member":
        return
    policy.forget(user)
    if policy.can_view_inside(user, group):
        return
    _control({"kind": "evict", "user": user.id, "group": group.id})


@events.group_kind_changed.connect
def evict_outsiders(group, old_kind=None, **_kw) -> None:
    """A group turned closed or secret: every socket of someone who may not read inside leaves."""
    readers = policy.readers_inside(group)
    if readers is not None:
        _control({"kind": "outsiders", "group": group.id, "allowed": sorted(readers)})


@events.group_deleted.connect
def close_group(group_id, **_kw) -> None:
    _control({"kind": "close", "rooms": [f"group:{group_id}"], "reason": "This group no longer exists."})


@events.topic_removed.connect
def close_topic(topic, **_kw) -> None:
    """Deleted: readers are told and the room emptied (only staff could still read it)."""
    close(room_name(topic), "topic_removed", {"topic": topic.id}, _("This topic was removed."))


@events.topic_moved.connect
def move_topic(topic, old_group_id=None, **_kw) -> None:
    """Moved: the room name follows the group, so the old room is told where to go, then emptied;
    readers who may read the new place rejoin from the new page."""
    from_room = topic_room(topic.id, old_group_id)
    if room_name(topic) == from_room:
        return
    with url_context():
        url = url_for("forum.topic", topic_id=topic.id, slug=topic.slug)
    close(from_room, "topic_moved", {"topic": topic.id, "url": url}, _("This topic was moved."))


@events.sessions_ended.connect
def end_sockets(user_id: int, token: str | None = None, keep: str | None = None, **_kw) -> None:
    """Logout (one session), password change (all but this one), reset (all): disconnect them."""
    _control({"kind": "sessions", "user": user_id, "only": token_hash(token), "keep": token_hash(keep)})
