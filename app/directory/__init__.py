"""The directory of cancer centres and organisations: import, browse, near me, corrections, JSON."""
from flask import Blueprint

bp = Blueprint("directory", __name__)

from app.directory import api, routes  # noqa: E402,F401
