"""The forum: categories, group forums, topics and replies, feeds and the JSON API."""
from flask import Blueprint

bp = Blueprint("forum", __name__)

from app.forum import routes  # noqa: E402,F401
