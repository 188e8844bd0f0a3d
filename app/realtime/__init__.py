"""Live discussion plumbing shared by the forum and the group chat (DESIGN 3 and 5).

* ``hub``: rooms named from objects, this process's connections, ``emit_to`` (the one way
  anything reaches a room), refusals and rate limits for socket events;
* ``connections``: connect (authenticated from the session cookie), ``join`` (the policy asked
  before and right after entering) and ``leave``;
* ``control``: changes of access, received as domain events and applied in every process;
* ``presence``: who is reading and typing (memory, or Redis when scaled out);
* ``queue``: the Redis pub/sub manager that carries broadcasts and control messages in one order.

Features register their socket events in their own ``sockets.py`` and broadcast by subscribing
to their domain events; they use the names re-exported here.
"""
from flask import Flask, abort, send_from_directory

from app.core.clock import iso, utcnow
from app.extensions import socketio
from app.realtime import control, presence, queue
from app.realtime.connections import join, leave  # noqa: F401
from app.realtime.hub import (CLIENT_FILES, Registry, allowed_rate, emit_to, int_arg, parse_since, refuse,  # noqa: F401
                              room_name, url_context, viewer)
from app.realtime.presence import typing  # noqa: F401
from config import BASE_DIR


def init_app(app: Flask) -> None:
    cfg = app.config
    # One SocketIO object serves every app built in this process (tests build many): start clean.
    socketio.server_options = {}
    socketio.init_app(
        app, async_mode=queue.async_mode(cfg["SOCKETIO_ASYNC_MODE"]), transports=cfg["SOCKETIO_TRANSPORTS"],
        client_manager=queue.client_manager(cfg["SOCKETIO_MESSAGE_QUEUE"], cfg["SOCKETIO_CHANNEL"],
                                            control.apply_control),
        max_http_buffer_size=cfg["SOCKETIO_MAX_BUFFER"], async_handlers=False)
    server = socketio.server
    server.oncollab_registry = Registry()
    presence.attach(server, app)
    app.extensions["oncollab.socketio"] = server
    app.add_url_rule("/vendor/<path:filename>", "realtime_client", _client_file)
    app.add_template_global(_now_iso, "live_now")


def _now_iso() -> str:
    """The page's "seen up to" time; live.js echoes it back when it joins (``since``)."""
    return iso(utcnow())


def _client_file(filename: str):
    """The Socket.IO browser client, installed from npm (never a CDN) and served from here."""
    if filename not in CLIENT_FILES:
        abort(404)
    return send_from_directory(BASE_DIR / "node_modules" / "socket.io-client" / "dist", filename, max_age=3600)
