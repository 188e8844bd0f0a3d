"""Group live chat: the "Live discussion" tab of every group (plain forms without JavaScript)."""
from flask import Blueprint

bp = Blueprint("chat", __name__)

from app.chat import routes  # noqa: E402,F401
