"""Search over trials, centres, guidelines and the community (the only package using Whoosh)."""
from flask import Flask

from app import jobs


def init_app(app: Flask) -> None:
    """Register the search pages, the session hooks that write the outbox, and the writer.
    Imported here, not at the top, so importing ``app.search.documents`` never loads the routes."""
    from app.search import indexer, outbox, routes, writer  # noqa: F401  (outbox: the model, for create_all and Alembic)
    app.register_blueprint(routes.bp)
    indexer.register(app)
    app.before_request(writer.before_request)  # embedded: each serving process runs the writer thread
    jobs.on_worker_start(app, writer.on_worker_start)  # scale-out: the RQ worker polls the outbox too
