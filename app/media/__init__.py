"""The media library: upload, describe, share and serve images, documents (PDF) and video."""
from flask import Blueprint, Flask

bp = Blueprint("media", __name__)


def init_app(app: Flask) -> None:
    """Register the feature; the hook that keeps ``MediaUse`` in step attaches once."""
    from app.media import api, routes, uses  # noqa: F401  (routes attach to bp)
    uses.register(app)
    app.register_blueprint(bp)
