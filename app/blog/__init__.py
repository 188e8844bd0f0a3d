"""Blogs: a personal blog for every member, and a blog inside every group."""
from flask import Blueprint, Flask

bp = Blueprint("blog", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.blog.models`` (as the policy does) never loads its routes."""
    from app.blog import routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)
