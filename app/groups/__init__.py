"""Groups: open, closed and secret communities with a membership workflow."""
from flask import Blueprint, Flask

bp = Blueprint("groups", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.groups.models`` (as the policy does) never loads its routes."""
    from app.groups import api, membership_routes, routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)
