"""Rate limits per account, not per address: colleagues behind one hospital proxy must not
throttle each other. Every writing limit (posting, drafts, previews, the posting assistant)
keys on this and reads its budget from config, so operators tune them in one place."""
from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user


def per_account() -> str:
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return get_remote_address()


def from_config(name: str):
    """The limit string in ``config[name]``, read per request (tests and operators change it)."""
    return lambda: current_app.config[name]
