"""Who is reading now, and who is typing: ephemeral signals that are never stored in the database.

Presence must span processes (two readers on two workers see each other), so with a Redis
message queue the list lives in a Redis hash per room; without one, in memory. Updates are
coalesced: a room announces its list at most once a second, however many people come and go
(500 readers opening a topic would otherwise cost 500 x 500 messages).

Names go only to the signed-in part of a room (``hub.MEMBERS``): a visitor reading a public
topic must not learn who else reads about a diagnosis. Closed groups' rooms hold members only.
"""
from __future__ import annotations

import json
import threading
import time

from app.realtime import hub

ANNOUNCE_DELAY = 1.0  # seconds: coalesce joins and leaves into one announcement
MAX_NAMES = 30
STALE_AFTER = 12 * 3600  # an entry left behind by a crashed process disappears after this
TYPING_EVERY = 2.5  # seconds between two "typing" signals from one connection


class MemoryPresence:
    def __init__(self):
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, tuple]] = {}

    def add(self, room, sid, user_id, name):
        with self._lock:
            self._rooms.setdefault(room, {})[sid] = (user_id, name, time.time())

    def remove(self, room, sid):
        with self._lock:
            entries = self._rooms.get(room)
            if entries is not None:
                entries.pop(sid, None)
                if not entries:
                    del self._rooms[room]

    def entries(self, room) -> list[tuple]:
        with self._lock:
            return list(self._rooms.get(room, {}).values())


class RedisPresence:
    def __init__(self, url: str, prefix: str):
        import redis

        # Hundreds of greenlets may come and go at once: wait for a connection, never fail for lack of one.
        pool = redis.BlockingConnectionPool.from_url(url, max_connections=32, timeout=10)
        self._redis = redis.Redis(connection_pool=pool)
        self._prefix = prefix

    def _key(self, room):
        return f"{self._prefix}:presence:{room}"

    def add(self, room, sid, user_id, name):
        key = self._key(room)
        with self._redis.pipeline() as pipe:
            pipe.hset(key, sid, json.dumps([user_id, name, time.time()]))
            pipe.expire(key, STALE_AFTER)
            pipe.execute()

    def remove(self, room, sid):
        self._redis.hdel(self._key(room), sid)

    def entries(self, room) -> list[tuple]:
        now, result, stale = time.time(), [], []
        for sid, raw in self._redis.hgetall(self._key(room)).items():
            user_id, name, since = json.loads(raw)
            if now - since > STALE_AFTER:
                stale.append(sid)
            else:
                result.append((user_id, name, since))
        if stale:
            self._redis.hdel(self._key(room), *stale)
        return result


class Announcer:
    """Per server: one delayed announcement per room, however many changes happen meanwhile."""

    def __init__(self, server, store):
        self.server, self.store = server, store
        self._lock = threading.Lock()
        self._due: dict[str, dict] = {}

    def touch(self, room: str, ref: dict | None) -> None:
        with self._lock:
            if room in self._due:
                if ref and not self._due[room]:
                    self._due[room] = ref
                return
            self._due[room] = ref or {}
        self.server.start_background_task(self._announce, room)

    def _announce(self, room: str) -> None:
        self.server.sleep(ANNOUNCE_DELAY)
        with self._lock:
            ref = self._due.pop(room, {})
        try:
            self.server.emit("presence", {**ref, **summary(self.store.entries(room))},
                             to=room + hub.MEMBERS, namespace=hub.NAMESPACE)
        except Exception:  # pragma: no cover - queue outage; presence is best effort
            hub.log.exception("presence announcement failed")


def summary(entries) -> dict:
    """Names once per person (two tabs are one reader), oldest first; visitors only counted."""
    seen, names, visitors = set(), [], 0
    for user_id, name, _since in sorted(entries, key=lambda e: e[2]):
        if user_id is None:
            visitors += 1
        elif user_id not in seen:
            seen.add(user_id)
            names.append(name)
    return {"names": names[:MAX_NAMES], "more": max(0, len(names) - MAX_NAMES), "visitors": visitors}


def attach(server, app) -> None:
    url = app.config["SOCKETIO_MESSAGE_QUEUE"]
    if url and url.startswith(("redis://", "rediss://")):
        store = RedisPresence(url, app.config["SOCKETIO_CHANNEL"])
    else:
        store = MemoryPresence()
    server.oncollab_presence = Announcer(server, store)


def joined(server, room: str, conn, ref: dict) -> None:
    announcer = server.oncollab_presence
    announcer.store.add(room, conn.sid, conn.user_id, conn.name)
    announcer.touch(room, ref)


def left(server, room: str, sid: str, ref: dict | None) -> None:
    announcer = server.oncollab_presence
    try:
        announcer.store.remove(room, sid)
    except Exception:  # pragma: no cover - a Redis outage must not break a disconnect
        hub.log.exception("presence removal failed")
        return
    announcer.touch(room, ref)


def typing(obj, may_post, ref: dict) -> None:
    """Relay "X is typing" to the room's signed-in readers, at most once per TYPING_EVERY per
    connection, and only from someone who joined the room and may write in it."""
    conn = hub.current_conn()
    room = hub.room_name(obj)
    if conn is None or conn.user_id is None or room not in conn.rooms:
        return
    now = time.monotonic()
    if now - conn.typed_at < TYPING_EVERY:
        return
    conn.typed_at = now
    if may_post():
        hub.emit_to(obj, "typing", {**ref, "name": conn.name, "user": conn.user_id},
                         members_only=True, skip_sid=conn.sid)
