"""Group live chat: the "Live discussion" tab of every group (plain forms without JavaScript)."""
from flask import Blueprint, Flask

bp = Blueprint("chat", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.chat.models`` (as the policy does) never loads its routes."""
    # Routes attach to bp; sockets register their Socket.IO events and live broadcasts.
    from app.chat import routes, sockets  # noqa: F401
    app.register_blueprint(bp)
