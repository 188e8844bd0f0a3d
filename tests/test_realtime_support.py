"""Helpers for the live-discussion tests (no tests here): the app served by a real threaded
server on 127.0.0.1, and real python-socketio clients carrying a signed session cookie, since
the Flask-SocketIO test client skips the Engine.IO handshake (Origin check, cookies). The
``live`` fixture (conftest.py) puts these together; shared helpers come from tests/factories.py."""
import contextlib
import threading
import time

import socketio
from werkzeug.serving import make_server

from tests.factories import session_token


class LiveApp:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def serving(app):
    """A LiveApp for an app of the test's own making (the ``live`` fixture serves ``app``)."""
    server = LiveApp(app)
    try:
        yield server
    finally:
        server.stop()


def session_cookie(app, user) -> str:
    """A signed-in browser's cookie: a real server-side session row, signed like Flask does.
    ``user`` is a user id (tests hold ids; rows belong to the context that loaded them)."""
    token = session_token(app, user, user_agent="pytest-socket")
    value = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    return f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={value}"


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self, url: str, cookie: str | None = None, origin: str | None = None):
        extra = {"origin": origin} if origin else {}
        self.sio = socketio.Client(reconnection=False, websocket_extra_options=extra)
        self.received: list[tuple[str, object]] = []
        self._cond = threading.Condition()
        self.sio.on("*", self._record)
        headers = {"Cookie": cookie} if cookie else {}
        self.sio.connect(url, headers=headers, transports=["websocket"], wait_timeout=5)

    def _record(self, event, *args):
        with self._cond:
            self.received.append((event, args[0] if len(args) == 1 else args))
            self._cond.notify_all()

    def call(self, event: str, data=None, timeout: float = 5):
        return self.sio.call(event, data, timeout=timeout)

    def events(self, name: str) -> list:
        with self._cond:
            return [data for event, data in self.received if event == name]

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 5):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event, data in self.received:
                    if event == name and predicate(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {name!r} event within {timeout}s; got {[e for e, _ in self.received]}")
                self._cond.wait(left)

    def close(self):
        """Werkzeug's test server never answers a websocket close frame (it reads it as the next
        HTTP request), so websocket-client would wait its full 3 s for an answer."""
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            original = ws.close
            ws.close = lambda *args, **kwargs: original(timeout=0.05)
        if self.sio.connected:
            self.sio.disconnect()


def never(client: Client, name: str, predicate, wait: float = 1.0) -> None:
    """Assert that no matching event arrives (waits a moment: absence needs time to show)."""
    time.sleep(wait)
    assert not [d for d in client.events(name) if predicate(d)], client.events(name)


def settle(seconds: float = 0.2) -> None:
    time.sleep(seconds)
