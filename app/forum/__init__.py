"""The forum: categories, group forums, topics and replies, feeds and the JSON API."""
from flask import Blueprint, Flask

bp = Blueprint("forum", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.forum.models`` (as the policy does) never loads its routes."""
    # Routes attach to bp; sockets register their Socket.IO events and live broadcasts.
    from app.forum import admin, api, feeds, moderation, posting, routes, sockets  # noqa: F401
    app.register_blueprint(bp)
