"""Posting is rate limited per account (app/core/limits.py): one shared budget covers the HTML
forms, the JSON API and the socket."""
from app.core.limits import from_config, per_account
from app.extensions import limiter

posting_limit = limiter.shared_limit(from_config("RATELIMIT_POSTING"), scope="forum-posting", key_func=per_account,
                                     methods=["POST"])
