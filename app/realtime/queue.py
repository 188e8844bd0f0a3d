"""How several server processes share rooms: python-socketio's pub/sub manager (Redis, or any
Kombu URL), extended so that our access-control messages travel in the same ordered stream as
the broadcasts (see app/realtime/control.py), and the choice of async mode."""
import socketio as sio

CONTROL_EVENT = "_oncollab_control"
CONTROL_ROOM = "_oncollab_control"  # nobody ever enters it, so a control message never reaches a browser


class ControlMixin:
    """Intercepts our control messages on the pub/sub channel, in publication order, and hands
    them to ``on_control(server, payload)`` (given by ``client_manager``)."""

    carries_control = True
    on_control = None

    def _handle_emit(self, message):
        if message.get("event") == CONTROL_EVENT and message.get("room") == CONTROL_ROOM:
            data = message.get("data")
            type(self).on_control(self.server, data[0] if isinstance(data, list) else data)
            return None
        return super()._handle_emit(message)


def client_manager(url: str | None, channel: str, on_control):
    if not url:
        return None
    base = sio.RedisManager if url.startswith(("redis://", "rediss://")) else sio.KombuManager
    manager_class = type(f"Controlled{base.__name__}", (ControlMixin, base), {"on_control": staticmethod(on_control)})
    return manager_class(url, channel=channel)


def async_mode(setting: str) -> str:
    """"auto": gevent when the server already monkey-patched the process (gunicorn -k gevent),
    threading otherwise. Never left to python-socketio's own guess, which picks gevent merely
    because it is installed, and then breaks under a threaded server."""
    if setting and setting != "auto":
        return setting
    try:
        from gevent import monkey
        return "gevent" if monkey.is_module_patched("socket") else "threading"
    except ImportError:
        return "threading"
