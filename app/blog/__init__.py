"""Blogs: a personal blog for every member, and a blog inside every group."""
from flask import Blueprint

bp = Blueprint("blog", __name__)


from app.blog import routes  # noqa: E402,F401  (routes attach to bp)
