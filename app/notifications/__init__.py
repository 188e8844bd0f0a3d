"""In-app notifications, evaluated against the access policy when they are read."""
from flask import Blueprint, Flask

bp = Blueprint("notifications", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.notifications.models`` (as the policy does) never loads its routes."""
    # Routes attach to bp; subscribers listen to the domain events that notify people.
    from app.notifications import routes, subscribers  # noqa: F401
    app.register_blueprint(bp)
