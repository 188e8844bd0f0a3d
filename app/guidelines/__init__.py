"""Clinical practice guidelines: publishers' metadata and links (never their text), browse, JSON."""
from flask import Blueprint, Flask

bp = Blueprint("guidelines", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.guidelines.models`` (as the policy does) never loads its routes."""
    from app.guidelines import routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)
