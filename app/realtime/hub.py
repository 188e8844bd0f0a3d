"""Rooms, the connections of this process, and the one way anything reaches a room.

Rooms are named here from objects (``room_name``), never from a client string; group content
carries the group id in its room name, so one prefix evicts from all of it. Everything is
broadcast through ``emit_to``, after the database commit, with saved and sanitised data only.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from flask_login import current_user
from limits import parse, storage, strategies

from app.accounts.models import User
from app.chat.models import ChatMessage
from app.forum.models import Post, Topic
from app.groups.models import Group

log = logging.getLogger(__name__)
NAMESPACE = "/"
MEMBERS = "#members"  # signed-in sockets of a room: presence and typing are not shown to visitors
CLIENT_FILES = {"socket.io.min.js", "socket.io.min.js.map"}
CLOCK_SLACK = timedelta(seconds=5)  # a change committed just after "now" was read is replayed, not lost


# --- rooms ------------------------------------------------------------------------------------------

def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def room_name(obj) -> str:
    """Group content carries the group id in its room name, so one prefix evicts from all of it."""
    if isinstance(obj, Post):
        obj = obj.topic
    if isinstance(obj, ChatMessage):
        obj = obj.group
    if isinstance(obj, Topic):
        return topic_room(obj.id, obj.group_id)
    if isinstance(obj, Group):
        return f"group:{obj.id}:chat"
    if isinstance(obj, User):
        return user_room(obj.id)
    raise LookupError(f"No room for {type(obj).__name__}")


def topic_room(topic_id: int, group_id: int | None) -> str:
    return f"group:{group_id}:topic:{topic_id}" if group_id else f"topic:{topic_id}"


def group_prefix(group_id: int) -> str:
    """Every room of a group's inside starts with this (its topics and its chat)."""
    return f"group:{group_id}:"


def in_room(room: str, base: str) -> bool:
    """``room`` is ``base`` or its signed-in part (``base#members``)."""
    return room == base or room.startswith(base + "#")


def server():
    """This app's Socket.IO server (None before ``init_app``)."""
    return current_app.extensions.get("oncollab.socketio")


def emit_to(obj, event: str, payload: dict, *, skip_sid=None, members_only: bool = False) -> None:
    """The one way anything reaches a room. Callers pass only saved, sanitised data; a broken
    queue must not turn a committed post into an error page, so failures are logged."""
    srv = server()
    if srv is None:
        return
    room = room_name(obj) + (MEMBERS if members_only else "")
    try:
        srv.emit(event, payload, to=room, namespace=NAMESPACE, skip_sid=skip_sid)
    except Exception:  # pragma: no cover - queue outage
        log.exception("live broadcast of %s failed", event)


# --- who is connected (per process) -----------------------------------------------------------------

def token_hash(token: str | None) -> str | None:
    """Session tokens are credentials: only a hash travels through the queue or stays in memory."""
    return hashlib.sha256(token.encode()).hexdigest()[:32] if token else None


@dataclass
class Conn:
    sid: str
    user_id: int | None = None
    token: str | None = None
    staff: bool = False
    name: str | None = None
    rooms: dict = field(default_factory=dict)  # room -> reference the client knows ({"topic": 5})
    typed_at: float = 0.0


class Registry:
    """sid -> Conn for this process; the manager's own room maps are not safe to iterate."""

    def __init__(self):
        self._lock = threading.Lock()
        self._conns: dict[str, Conn] = {}

    def add(self, conn: Conn) -> None:
        with self._lock:
            self._conns[conn.sid] = conn

    def remove(self, sid: str) -> Conn | None:
        with self._lock:
            return self._conns.pop(sid, None)

    def get(self, sid: str) -> Conn | None:
        return self._conns.get(sid)

    def select(self, predicate) -> list[Conn]:
        with self._lock:
            return [c for c in self._conns.values() if predicate(c)]


def registry(srv) -> Registry:
    return srv.oncollab_registry


def current_conn() -> Conn | None:
    srv = server()
    return registry(srv).get(request.sid) if srv else None


def viewer():
    """The signed-in user for this socket event (re-validated from the session row on every event)."""
    return current_user._get_current_object() if current_user.is_authenticated else None


# --- answers and limits ------------------------------------------------------------------------------

@contextmanager
def url_context():
    """Broadcast payloads carry links; services also run from the CLI (demo load), outside requests."""
    if has_request_context():
        yield
    else:
        with current_app.test_request_context("/"):
            yield


def refuse(code: str, reason: str, **extra) -> dict:
    """An "error" event with a reason a person can read, and the same as the acknowledgement."""
    answer = {"ok": False, "code": code, "reason": reason, **extra}
    srv = server()
    if srv is not None:
        srv.emit("error", answer, to=request.sid, namespace=NAMESPACE, ignore_queue=True)
    return answer


def allowed_rate(kind: str, key=None) -> bool:
    """Flask-Limiter never sees socket events, so the handlers ask the same storage directly.
    ``kind`` is "message" (per account: replies and chat) or "join" (per connection)."""
    if key is None:
        key = request.sid
    app = current_app._get_current_object()
    if not app.config.get("RATELIMIT_ENABLED"):
        return True
    limits = app.extensions.get("oncollab.socket_limits")
    if limits is None:
        backend = storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        limits = (strategies.MovingWindowRateLimiter(backend),
                  {"message": parse(app.config["SOCKETIO_RATELIMIT"]),
                   "join": parse(app.config["SOCKETIO_JOIN_RATELIMIT"])})
        app.extensions["oncollab.socket_limits"] = limits
    limiter, items = limits
    return limiter.hit(items[kind], "socket", kind, str(key))


# --- what clients send ---------------------------------------------------------------------------------

def parse_since(value) -> datetime | None:
    """The ``now`` we gave the client at its last join, echoed back (minus a little slack)."""
    try:
        return datetime.fromisoformat(str(value).rstrip("Z")) - CLOCK_SLACK
    except (TypeError, ValueError):
        return None


def int_arg(data, key: str, default: int | None = None) -> int | None:
    """A client-sent id or counter: an int in SQL's range, or ``default``."""
    try:
        value = int((data or {}).get(key))
    except (TypeError, ValueError, AttributeError):
        return default
    return value if 0 <= value < 2**31 else default
