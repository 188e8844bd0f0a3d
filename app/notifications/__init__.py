"""In-app notifications, evaluated against the access policy when they are read."""
from flask import Blueprint

bp = Blueprint("notifications", __name__)

from app.notifications import routes  # noqa: E402,F401
