"""Live discussion plumbing shared by the forum and the group chat (DESIGN 3 and 5).

The access rule for sockets is: *a room only ever contains sockets allowed to read it*. Per-recipient
checks at broadcast time do not scale (one room, 500 readers), so instead:

* rooms are named here from objects (``room_name``), never from a client string;
* ``join`` asks the policy before entering a room and asks again, on fresh rows, right after
  (a removal racing with the join is then caught by one of the two checks);
* every change of access (leave, removal, ban, logout, a group turning closed, a topic deleted or
  moved) sends a *control message* that makes the affected sockets leave or disconnect;
* everything is broadcast through ``emit_to``, after the database commit.

Control messages travel through the same channel as broadcasts. With a Redis queue they are
published on the same pub/sub channel, so every process applies an eviction *before* any message
sent after it: the "marker sent after removal" can never overtake the removal.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, current_app, has_request_context, request, send_from_directory, session
from flask_login import current_user
from socketio.exceptions import ConnectionRefusedError  # not the builtin one: python-socketio catches this

from app import policy, realtime_queue
from app.extensions import db, socketio

log = logging.getLogger(__name__)
NAMESPACE = "/"
MEMBERS = "#members"  # signed-in sockets of a room: presence and typing are not shown to visitors
CLIENT_FILES = {"socket.io.min.js", "socket.io.min.js.map"}


# --- rooms ------------------------------------------------------------------------------------------

def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def room_name(obj) -> str:
    """Group content carries the group id in its room name, so one prefix evicts from all of it."""
    from app.accounts.models import User
    from app.chat.models import ChatMessage
    from app.forum.models import Post, Topic
    from app.groups.models import Group
    if isinstance(obj, Post):
        obj = obj.topic
    if isinstance(obj, ChatMessage):
        obj = obj.group
    if isinstance(obj, Topic):
        return f"group:{obj.group_id}:topic:{obj.id}" if obj.group_id else f"topic:{obj.id}"
    if isinstance(obj, Group):
        return f"group:{obj.id}:chat"
    if isinstance(obj, User):
        return user_room(obj.id)
    raise LookupError(f"No room for {type(obj).__name__}")


def _in(room: str, base: str) -> bool:
    return room == base or room.startswith(base + "#")


def _server():
    return current_app.extensions.get("oncollab.socketio")


def emit_to(obj, event: str, payload: dict, *, skip_sid=None, members_only: bool = False) -> None:
    """The one way anything reaches a room. Callers pass only saved, sanitised data; a broken
    queue must not turn a committed post into an error page, so failures are logged."""
    server = _server()
    if server is None:
        return
    room = room_name(obj) + (MEMBERS if members_only else "")
    try:
        server.emit(event, payload, to=room, namespace=NAMESPACE, skip_sid=skip_sid)
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


def _registry(server) -> Registry:
    return server.oncollab_registry


def current_conn() -> Conn | None:
    server = _server()
    return _registry(server).get(request.sid) if server else None


def viewer():
    """The signed-in user for this socket event (re-validated from the session row on every event)."""
    return current_user._get_current_object() if current_user.is_authenticated else None


# --- connect / disconnect ---------------------------------------------------------------------------

@socketio.on("connect")
def _on_connect(auth=None):
    """Anonymous sockets are allowed (public topics); a cookie naming an ended session is not."""
    from app.accounts.models import UserSession
    token = session.get("_user_id")
    user = viewer()
    if token and user is None:
        raise ConnectionRefusedError("Your session has ended. Please log in again.")
    server = _server()
    conn = Conn(sid=request.sid)
    if user is not None:
        conn.user_id, conn.token = user.id, token_hash(token)
        conn.staff, conn.name = policy.is_staff(user), user.display_name
    _registry(server).add(conn)
    # Checked again after registering: a logout committed meanwhile is seen here, one committed
    # later sends a control message that now finds this socket.
    if user is not None and db.session.scalar(db.select(UserSession.id).where(UserSession.token == token)) is None:
        _registry(server).remove(request.sid)
        raise ConnectionRefusedError("Your session has ended. Please log in again.")
    if user is not None:
        server.enter_room(request.sid, user_room(user.id), namespace=NAMESPACE)


@socketio.on("disconnect")
def _on_disconnect(*_reason):
    server = _server()
    conn = _registry(server).remove(request.sid)
    if conn is not None:
        from app import realtime_presence
        for room, ref in conn.rooms.items():
            realtime_presence.left(server, room, request.sid, ref)


@socketio.on_error_default
def _on_error(error):
    """An unexpected failure answers like a refusal (the client stops waiting) and is logged."""
    log.exception("socket event %s failed", getattr(request, "event", {}).get("message"))
    db.session.rollback()
    return refuse("server_error", "Something went wrong on our side. Please try again.")


# --- joining and leaving ----------------------------------------------------------------------------

def join(obj, allowed, ref: dict) -> bool:
    """Enter ``obj``'s room if ``allowed()`` says so, before and after entering (see module doc)."""
    from app import realtime_presence
    server, conn = _server(), current_conn()
    if conn is None or not allowed():
        return False
    room, sid = room_name(obj), request.sid
    server.enter_room(sid, room, namespace=NAMESPACE)
    if conn.user_id is not None:
        server.enter_room(sid, room + MEMBERS, namespace=NAMESPACE)
    conn.rooms[room] = ref
    db.session.expire_all()
    policy.forget()
    if not allowed():
        leave(obj)
        return False
    realtime_presence.joined(server, room, conn, ref)
    return True


def leave(obj) -> None:
    conn, room = current_conn(), room_name(obj)
    if conn is not None:
        _leave(_server(), conn, lambda r: _in(r, room), notify=False)


def _leave(server, conn: Conn, match, *, notify: bool, reason: str = "") -> None:
    from app import realtime_presence
    gone = [room for room in list(conn.rooms) if match(room)]
    for room in gone:
        ref = conn.rooms.pop(room, None)
        server.leave_room(conn.sid, room, namespace=NAMESPACE)
        server.leave_room(conn.sid, room + MEMBERS, namespace=NAMESPACE)
        realtime_presence.left(server, room, conn.sid, ref)
        if notify:
            server.emit("access_changed", {**(ref or {}), "reason": reason}, to=conn.sid,
                        namespace=NAMESPACE, ignore_queue=True)


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
    server = _server()
    if server is not None:
        server.emit("error", answer, to=request.sid, namespace=NAMESPACE, ignore_queue=True)
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
        from limits import parse, storage, strategies
        backend = storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        limits = (strategies.MovingWindowRateLimiter(backend),
                  {"message": parse(app.config["SOCKETIO_RATELIMIT"]),
                   "join": parse(app.config["SOCKETIO_JOIN_RATELIMIT"])})
        app.extensions["oncollab.socket_limits"] = limits
    limiter, items = limits
    return limiter.hit(items[kind], "socket", kind, str(key))


# --- access changes: control messages ---------------------------------------------------------------

def _control(payload: dict) -> None:
    server = _server()
    if server is None:
        return
    try:
        if isinstance(server.manager, realtime_queue.ControlMixin):
            server.manager.emit(realtime_queue.CONTROL_EVENT, payload, namespace=NAMESPACE,
                                room=realtime_queue.CONTROL_ROOM)
        else:
            apply_control(server, payload)
    except Exception:  # pragma: no cover - queue outage: the next event re-checks the session anyway
        log.exception("live access change %s failed", payload.get("kind"))


def apply_control(server, msg: dict) -> None:
    """Runs in every process (the pub/sub listener thread, or inline without a queue)."""
    registry, kind = _registry(server), msg.get("kind")
    gone = "You no longer have access to this discussion."
    if kind == "evict":
        prefix = f"group:{msg['group']}:"
        for conn in registry.select(lambda c: c.user_id == msg["user"]):
            _leave(server, conn, lambda r: r.startswith(prefix), notify=True, reason=gone)
    elif kind == "outsiders":
        prefix, allowed = f"group:{msg['group']}:", set(msg["allowed"])
        for conn in registry.select(lambda c: not c.staff and c.user_id not in allowed):
            _leave(server, conn, lambda r: r.startswith(prefix), notify=True, reason=gone)
    elif kind == "close":
        prefixes = msg["rooms"]
        for conn in registry.select(lambda c: True):
            _leave(server, conn, lambda r: any(_in(r, p) or r.startswith(p + ":") for p in prefixes),
                   notify=True, reason=msg.get("reason") or gone)
    elif kind == "sessions":
        def ends(c: Conn) -> bool:
            if c.user_id != msg["user"]:
                return False
            return (msg["only"] is None or c.token == msg["only"]) and (msg["keep"] is None or c.token != msg["keep"])
        for conn in registry.select(ends):
            _disconnect(server, conn.sid)


def _disconnect(server, sid: str) -> None:
    if server.manager.is_connected(sid, NAMESPACE):
        server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
    else:  # still inside its connect handler: finish it off once connected
        def later():
            server.sleep(0.5)
            server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)
        server.start_background_task(later)


def evict(user, group) -> None:
    """After a membership change is committed: if the person may no longer read inside the group,
    their sockets leave every room of it (leaving an open group changes nothing)."""
    if user is None or group is None:
        return
    policy.forget(user)
    if policy.can_view_inside(user, group):
        return
    _control({"kind": "evict", "user": user.id, "group": group.id})


def evict_outsiders(group) -> None:
    """A group turned closed or secret: every socket of a non-member leaves its rooms."""
    from app.groups.models import Membership
    if group.kind == "open":
        return
    members = db.session.scalars(db.select(Membership.user_id).where(
        Membership.group_id == group.id, Membership.state == "member")).all()
    _control({"kind": "outsiders", "group": group.id, "allowed": list(members)})


def close(obj, event: str, payload: dict, reason: str = "") -> None:
    """Tell a room it is gone (topic deleted or moved) and empty it in every process."""
    room = obj if isinstance(obj, str) else room_name(obj)
    server = _server()
    if server is not None:
        try:
            server.emit(event, payload, to=room, namespace=NAMESPACE)
        except Exception:  # pragma: no cover
            log.exception("live broadcast of %s failed", event)
    _control({"kind": "close", "rooms": [room], "reason": reason})


def end_sockets(user_id: int, *, token: str | None = None, keep: str | None = None) -> None:
    """Logout (one session), password change (all but this one), reset (all): disconnect them."""
    _control({"kind": "sessions", "user": user_id, "only": token_hash(token), "keep": token_hash(keep)})


def _on_privacy_changed(group, old_kind=None, **_):
    if old_kind == "open" and group.kind != "open":
        evict_outsiders(group)


def _on_group_deleted(group_id, **_):
    _control({"kind": "close", "rooms": [f"group:{group_id}"], "reason": "This group no longer exists."})


# --- set-up -----------------------------------------------------------------------------------------

def init_app(app: Flask) -> None:
    from app import realtime_presence
    from app.chat import sockets as _chat_sockets  # noqa: F401  (register event handlers)
    from app.forum import sockets as _forum_sockets  # noqa: F401
    from app.groups.services import group_deleted, group_privacy_changed

    cfg = app.config
    # One SocketIO object serves every app built in this process (tests build many): start clean.
    socketio.server_options = {}
    socketio.init_app(
        app, async_mode=realtime_queue.async_mode(cfg["SOCKETIO_ASYNC_MODE"]), transports=cfg["SOCKETIO_TRANSPORTS"],
        client_manager=realtime_queue.client_manager(cfg["SOCKETIO_MESSAGE_QUEUE"], cfg["SOCKETIO_CHANNEL"]),
        max_http_buffer_size=cfg["SOCKETIO_MAX_BUFFER"], async_handlers=False)
    server = socketio.server
    server.oncollab_registry = Registry()
    realtime_presence.attach(server, app)
    app.extensions["oncollab.socketio"] = server
    group_privacy_changed.connect(_on_privacy_changed)
    group_deleted.connect(_on_group_deleted)
    app.add_url_rule("/vendor/<path:filename>", "realtime_client", _client_file)
    app.add_template_global(_now_iso, "live_now")


def _now_iso() -> str:
    """The page's "seen up to" time; live.js echoes it back when it joins (``since``)."""
    from app.models_base import utcnow
    return utcnow().isoformat(timespec="milliseconds") + "Z"


def _client_file(filename: str):
    """The Socket.IO browser client, installed from npm (never a CDN) and served from here."""
    from flask import abort
    if filename not in CLIENT_FILES:
        abort(404)
    from config import BASE_DIR
    return send_from_directory(BASE_DIR / "node_modules" / "socket.io-client" / "dist", filename, max_age=3600)
