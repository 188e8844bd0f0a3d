"""Site-wide pages: home, health check, terms and privacy."""
from flask import Blueprint, Flask

bp = Blueprint("main", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.main.models`` (as the policy does) never loads its routes."""
    from app.main import routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)
