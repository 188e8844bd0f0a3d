"""Socket connections: who may connect, and entering and leaving rooms.

The access rule for sockets is: *a room only ever contains sockets allowed to read it*. Per-
recipient checks at broadcast time do not scale (one room, 500 readers), so ``join`` asks the
policy before entering a room and asks again, on fresh rows, right after (a removal racing with
the join is then caught by one of the two checks), and every change of access makes the
affected sockets leave (``app/realtime/control.py``).
"""
from __future__ import annotations

import logging

from flask import request, session
from socketio.exceptions import ConnectionRefusedError  # not the builtin one: python-socketio catches this

from app import policy
from app.accounts.models import UserSession
from app.extensions import db, socketio
from app.realtime import presence
from app.realtime.hub import (MEMBERS, NAMESPACE, Conn, current_conn, in_room, refuse, registry, room_name, server,
                              token_hash, user_room, viewer)

log = logging.getLogger(__name__)


@socketio.on("connect")
def _on_connect(auth=None):
    """Anonymous sockets are allowed (public topics); a cookie naming an ended session is not."""
    token = session.get("_user_id")
    user = viewer()
    if token and user is None:
        raise ConnectionRefusedError("Your session has ended. Please log in again.")
    srv = server()
    conn = Conn(sid=request.sid)
    if user is not None:
        conn.user_id, conn.token = user.id, token_hash(token)
        conn.staff, conn.name = policy.is_staff(user), user.display_name
    registry(srv).add(conn)
    # Checked again after registering: a logout committed meanwhile is seen here, one committed
    # later sends a control message that now finds this socket.
    if user is not None and db.session.scalar(db.select(UserSession.id).where(UserSession.token == token)) is None:
        registry(srv).remove(request.sid)
        raise ConnectionRefusedError("Your session has ended. Please log in again.")
    if user is not None:
        srv.enter_room(request.sid, user_room(user.id), namespace=NAMESPACE)


@socketio.on("disconnect")
def _on_disconnect(*_reason):
    srv = server()
    conn = registry(srv).remove(request.sid)
    if conn is not None:
        for room, ref in conn.rooms.items():
            presence.left(srv, room, request.sid, ref)


@socketio.on_error_default
def _on_error(error):
    """An unexpected failure answers like a refusal (the client stops waiting) and is logged."""
    log.exception("socket event %s failed", getattr(request, "event", {}).get("message"))
    db.session.rollback()
    return refuse("server_error", "Something went wrong on our side. Please try again.")


# --- joining and leaving ----------------------------------------------------------------------------

def join(obj, allowed, ref: dict) -> bool:
    """Enter ``obj``'s room if ``allowed()`` says so, before and after entering (see module doc)."""
    srv, conn = server(), current_conn()
    if conn is None or not allowed():
        return False
    room, sid = room_name(obj), request.sid
    srv.enter_room(sid, room, namespace=NAMESPACE)
    if conn.user_id is not None:
        srv.enter_room(sid, room + MEMBERS, namespace=NAMESPACE)
    conn.rooms[room] = ref
    db.session.expire_all()
    policy.forget()
    if not allowed():
        leave(obj)
        return False
    presence.joined(srv, room, conn, ref)
    return True


def leave(obj) -> None:
    conn, room = current_conn(), room_name(obj)
    if conn is not None:
        leave_matching(server(), conn, lambda r: in_room(r, room), notify=False)


def leave_matching(srv, conn: Conn, match, *, notify: bool, reason: str = "") -> None:
    """Take ``conn`` out of every room ``match`` accepts (and its signed-in part); ``notify``
    tells the browser why (an "access_changed" event)."""
    gone = [room for room in list(conn.rooms) if match(room)]
    for room in gone:
        ref = conn.rooms.pop(room, None)
        srv.leave_room(conn.sid, room, namespace=NAMESPACE)
        srv.leave_room(conn.sid, room + MEMBERS, namespace=NAMESPACE)
        presence.left(srv, room, conn.sid, ref)
        if notify:
            srv.emit("access_changed", {**(ref or {}), "reason": reason}, to=conn.sid,
                     namespace=NAMESPACE, ignore_queue=True)
