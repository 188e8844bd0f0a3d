"""Posting is rate limited per account, not per address: people behind one hospital proxy must
not throttle each other. One shared budget covers the HTML forms and the JSON API."""
from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.extensions import limiter

DEFAULT_POSTING_LIMIT = "20 per minute"


def _poster_key() -> str:
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return get_remote_address()


def _limit() -> str:
    return current_app.config.get("RATELIMIT_POSTING") or DEFAULT_POSTING_LIMIT


posting_limit = limiter.shared_limit(_limit, scope="forum-posting", key_func=_poster_key, methods=["POST"])
