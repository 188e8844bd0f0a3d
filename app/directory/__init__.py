"""The directory of cancer centres and organisations: import, browse, near me, corrections, JSON."""
from flask import Blueprint, Flask

bp = Blueprint("directory", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.directory.models`` (as the policy does) never loads its routes."""
    from app.directory import api, routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)
