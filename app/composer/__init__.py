"""The writer's toolkit, shared by every place people write (forum, replies, blog, events, chat):
rendering with embedded media and linked mentions, drafts saved as you type, mention
suggestions, the live preview and the posting assistant."""
from flask import Blueprint, Flask

bp = Blueprint("composer", __name__)


def init_app(app: Flask) -> None:
    """Register the feature; its route modules attach to ``bp``."""
    from app.composer import assistant_routes, routes, subscribers  # noqa: F401  (attach to bp and to events)
    app.register_blueprint(bp)
