"""Clinical practice guidelines: publishers' metadata and links (never their text), browse, JSON."""
from flask import Blueprint

bp = Blueprint("guidelines", __name__)

from app.guidelines import routes  # noqa: E402,F401
