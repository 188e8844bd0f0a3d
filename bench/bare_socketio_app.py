"""The bare Flask-SocketIO baseline for bench.fanout: one room, a counter, a broadcast; no
database, no policy, no sanitiser. Same event names and reply shape as the real app, so the
same clients measure both in one run. BENCH_ASYNC_MODE picks threading or gevent."""
import html
import itertools
import os
import threading

from flask import Flask
from flask_socketio import SocketIO, join_room

app = Flask(__name__)
socketio = SocketIO(app, async_mode=os.environ.get("BENCH_ASYNC_MODE", "threading"), transports=["websocket"],
                    async_handlers=False)
_numbers = itertools.count(1)
_lock = threading.Lock()


@socketio.on("join_chat")
def join_chat(data):
    join_room("room")
    return {"ok": True}


@socketio.on("chat")
def chat(data):
    with _lock:
        seq = next(_numbers)
    socketio.emit("chat_message", {"group": 1, "seq": seq, "body_html": "<p>" + html.escape(data["body"]) + "</p>"},
                  to="room")
    return {"ok": True, "seq": seq}
