"""Search over trials, centres, guidelines and the community (the only package using Whoosh)."""
from app.search.routes import bp  # noqa: F401


def init_app(app) -> None:
    from app.search import indexer
    indexer.register(app)
